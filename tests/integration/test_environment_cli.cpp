// The production gate holds however production is spelled: a task's
// environment is trimmed and lower-cased wherever it comes in (policy
// eval, enqueue, run, every ingest source, schedules, chat), a look-alike
// with a non-ASCII letter is refused with exit 65 naming the field, and
// policy lint warns about an environment match that no task can meet.
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

// "production" with a Cyrillic o (U+043E) in place of the Latin one.
const std::string k_lookalike = "pr\xd0\xbe"
                                "duction";
const std::vector<std::string> k_spellings = {"production", "Production", "production ", "PRODUCTION", " ProDuction\t"};

test::RunOptions in_home(const test::TempDir& dir, const std::string& stdin_data = "")
{
    test::RunOptions o;
    o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    o.cwd = dir.path().string();
    o.stdin_data = stdin_data;
    return o;
}

/// A remediation task for environment env, unique by n.
std::string task_line(const std::string& env, int n)
{
    json t = {{"id", "01M86TZH12FPQAZA78N10Q24F" + std::to_string(n)},
              {"type", "compliance-remediation"},
              {"trigger", {{"source", "api"}, {"provider", "test"}, {"timestamp", "2026-11-24T12:00:00Z"}}},
              {"context",
               {{"agentSlug", "builtin"},
                {"repositoryId", "acme/infra"},
                {"environment", env},
                {"resource", "aws_s3_bucket.b" + std::to_string(n)}}},
              {"payload", json::object()},
              {"dedupeKey", "k-env-" + std::to_string(n)}};
    return t.dump() + "\n";
}

bool names_the_lookalike(const std::string& err)
{
    return err.find("context.environment") != std::string::npos && err.find("U+043E") != std::string::npos;
}

TEST(EnvironmentCli, ProductionWaitsForApprovalHoweverItIsSpelled)
{
    test::TempDir dir;
    int n = 0;
    for (const auto& env : k_spellings) {
        SCOPED_TRACE(json(env).dump());
        auto eval = run_cli({"policy", "eval"}, in_home(dir, task_line(env, n)));
        EXPECT_EQ(eval.exit_code, 4) << eval.out << eval.err;
        auto out = test::json_lines(eval.out);
        ASSERT_EQ(out.size(), 1u);
        EXPECT_EQ(out[0]["context"]["environment"], "production");
        EXPECT_EQ(out[0]["decision"]["requiredApprovals"], json::array({"platform-oncall"}));

        auto q = run_cli({"enqueue"}, in_home(dir, task_line(env, n)));
        EXPECT_EQ(q.exit_code, 4) << q.out << q.err;
        auto shown =
            run_cli({"queue", "show", "01M86TZH12FPQAZA78N10Q24F" + std::to_string(n), "--json"}, in_home(dir));
        ASSERT_EQ(shown.exit_code, 0) << shown.err;
        auto j = json::parse(shown.out);
        EXPECT_EQ(j["state"], "pending-approval");
        EXPECT_EQ(j["task"]["context"]["environment"], "production");

        auto run = run_cli({"run"}, in_home(dir, task_line(env, n)));
        EXPECT_EQ(run.exit_code, 4) << run.out << run.err;
        ++n;
    }
}

TEST(EnvironmentCli, ALookAlikeIsRefusedWhereverATaskComesIn)
{
    test::TempDir dir;
    for (const std::vector<std::string>& cmd :
         std::vector<std::vector<std::string>>{{"policy", "eval"}, {"enqueue"}, {"run"}, {"ingest", "api"}}) {
        auto r = run_cli(cmd, in_home(dir, task_line(k_lookalike, 1)));
        EXPECT_EQ(r.exit_code, 65) << cmd[0] << ": " << r.out << r.err;
        EXPECT_TRUE(names_the_lookalike(r.err)) << cmd[0] << ": " << r.err;
        EXPECT_TRUE(r.out.empty()) << cmd[0] << ": " << r.out;
    }
    EXPECT_EQ(run_cli({"queue", "ls", "--json"}, in_home(dir)).out.find("01M86TZH12FPQAZA78N10Q24F1"),
              std::string::npos);

    // A scanner's report with --environment, and an alert's label.
    auto flag = run_cli({"ingest", "checkov",
                         (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string(),
                         "--repo", "acme/infra", "--environment", k_lookalike},
                        in_home(dir));
    EXPECT_EQ(flag.exit_code, 65) << flag.err;
    EXPECT_NE(flag.err.find("--environment: environment '" + k_lookalike + "' has the non-ASCII character U+043E"),
              std::string::npos)
        << flag.err;
    EXPECT_TRUE(flag.out.empty());
    json alert = {{"version", "4"},
                  {"status", "firing"},
                  {"receiver", "infra-agent"},
                  {"groupKey", "{}:{}"},
                  {"alerts",
                   {{{"status", "firing"},
                     {"labels", {{"alertname", "BucketPublic"}, {"environment", k_lookalike}}},
                     {"annotations", json::object()},
                     {"startsAt", "2026-11-24T12:00:00Z"},
                     {"fingerprint", "f00d"}}}}};
    auto label = run_cli({"ingest", "alertmanager"}, in_home(dir, alert.dump()));
    EXPECT_EQ(label.exit_code, 65) << label.out << label.err;
    EXPECT_TRUE(names_the_lookalike(label.err)) << label.err;
    EXPECT_TRUE(label.out.empty()) << label.out;

    // A schedule whose signal names it.
    test::write_file(
        dir / "home" / "config.yaml",
        "schedules:\n  - name: nightly\n    cron: \"0 3 * * *\"\n    signal:\n      type: drift-detection\n"
        "      context: {repositoryId: acme/infra, environment: \"" +
            k_lookalike + "\"}\n");
    auto tick = run_cli({"ingest", "schedule", "nightly"}, in_home(dir));
    EXPECT_EQ(tick.exit_code, 65) << tick.out << tick.err;
    EXPECT_NE(tick.err.find("schedules.nightly.signal: context.environment"), std::string::npos) << tick.err;
}

TEST(EnvironmentCli, EveryIngestSourceWritesOneSpelling)
{
    test::TempDir dir;
    auto env_of = [](const std::string& out) {
        std::set<std::string> envs;
        for (const auto& t : test::json_lines(out)) envs.insert(t["context"].value("environment", ""));
        return envs;
    };
    const std::set<std::string> production = {"production"};

    auto api = run_cli({"ingest", "api"}, in_home(dir, task_line("PRODUCTION ", 1) + task_line("Production", 2)));
    ASSERT_EQ(api.exit_code, 0) << api.err;
    EXPECT_EQ(env_of(api.out), production);

    auto flag = run_cli({"ingest", "checkov",
                         (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string(),
                         "--repo", "acme/infra", "--environment", " Production "},
                        in_home(dir));
    ASSERT_EQ(flag.exit_code, 0) << flag.err;
    EXPECT_EQ(env_of(flag.out), production);

    json alert = {{"version", "4"},
                  {"status", "firing"},
                  {"receiver", "infra-agent"},
                  {"groupKey", "{}:{}"},
                  {"alerts",
                   {{{"status", "firing"},
                     {"labels", {{"alertname", "BucketPublic"}, {"env", "PRODUCTION"}}},
                     {"annotations", json::object()},
                     {"startsAt", "2026-11-24T12:00:00Z"},
                     {"fingerprint", "f00d"}}}}};
    auto label = run_cli({"ingest", "alertmanager"}, in_home(dir, alert.dump()));
    ASSERT_EQ(label.exit_code, 0) << label.err;
    EXPECT_EQ(env_of(label.out), production);

    auto chat =
        run_cli({"ingest", "chat", "--message", "rotate the keys", "--environment", "PRODUCTION"}, in_home(dir));
    ASSERT_EQ(chat.exit_code, 0) << chat.err;
    EXPECT_EQ(env_of(chat.out), production);

    test::write_file(
        dir / "home" / "config.yaml",
        "schedules:\n  - name: nightly\n    cron: \"0 3 * * *\"\n    signal:\n      type: drift-detection\n"
        "      context: {repositoryId: acme/infra, environment: \"Production \"}\n");
    auto tick = run_cli({"ingest", "schedule", "nightly"}, in_home(dir));
    ASSERT_EQ(tick.exit_code, 0) << tick.err;
    EXPECT_EQ(env_of(tick.out), production);
    // ... and the drift task waits for approval like any production change.
    auto q = run_cli({"enqueue"}, in_home(dir, tick.out));
    EXPECT_EQ(q.exit_code, 4) << q.out << q.err;
}

TEST(EnvironmentCli, LintWarnsAboutAnEnvironmentMatchThatNoTaskMeets)
{
    test::TempDir dir;
    test::write_file(dir / "pol" / "gates.yaml",
                     "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: gates}\nrules:\n"
                     "  - name: prod-gate\n    match: {context.environment: Production}\n    tier: 4\n"
                     "    requiredApprovals: [platform-oncall]\n"
                     "  - name: prod-regex\n    match: {context.environment: {regex: \"^Prod\"}}\n    tier: 4\n"
                     "    requiredApprovals: [platform-oncall]\n"
                     "  - name: spaced\n    match: {context.environment: [staging, \"qa \"]}\n    tier: 1\n"
                     "  - name: fine\n    match: {context.environment: [production, \"prod-*\", {regex: "
                     "\"^prod\\\\S*$\"}]}\n    tier: 4\n"
                     "    requiredApprovals: [platform-oncall]\n");
    auto lint = run_cli({"policy", "lint", (dir / "pol").string()}, in_home(dir));
    EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;  // warnings only
    EXPECT_NE(
        lint.out.find(
            "gates.yaml:6:34: warning: 'context.environment': 'Production' never matches: a task's environment is "
            "trimmed and lower-cased when it comes in, so write 'production'"),
        std::string::npos)
        << lint.out;
    EXPECT_NE(lint.out.find("warning: 'context.environment': regex '^Prod' has upper-case letters"), std::string::npos)
        << lint.out;
    EXPECT_NE(lint.out.find("warning: 'context.environment': 'qa ' never matches"), std::string::npos) << lint.out;
    EXPECT_EQ(lint.out.find("gates.yaml:17"), std::string::npos) << lint.out;  // the rule written in lower case is fine
    std::size_t warnings = 0;
    for (std::size_t at = lint.out.find("warning: 'context.environment'"); at != std::string::npos;
         at = lint.out.find("warning: 'context.environment'", at + 1))
        ++warnings;
    EXPECT_EQ(warnings, 3u) << lint.out;
}

}  // namespace
}  // namespace infra
