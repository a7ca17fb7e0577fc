// `infra-agent policy ...` on the real binary: eval exit codes, test, lint,
// digest and replay.
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

using infra::test::run_cli;
using infra::test::RunOptions;
using infra::test::sample;
using infra::test::TempDir;
using infra::test::write_file;

namespace {

std::vector<nlohmann::json> lines(const std::string& out)
{
    std::vector<nlohmann::json> v;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) v.push_back(nlohmann::json::parse(line));
    return v;
}

std::string task_line(const std::string& type, const std::string& env, bool change = false)
{
    nlohmann::json t = {{"id", "01M86TZH12FPQAZA78N10Q24F2"},
                        {"type", type},
                        {"trigger", {{"source", "api"}, {"provider", "test"}, {"timestamp", "2026-11-24T12:00:00Z"}}},
                        {"context", {{"agentSlug", type == "chat" ? "llm" : "builtin"}, {"environment", env}}},
                        {"payload", {{"requestsChange", change}}},
                        {"dedupeKey", "k-" + type + "-" + env}};
    return t.dump() + "\n";
}

RunOptions with_home(const TempDir& dir, const std::string& stdin_data = "")
{
    RunOptions o;
    o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    o.stdin_data = stdin_data;
    return o;
}

}  // namespace

TEST(PolicyCli, EvalExitCodesFollowTheDecisions)
{
    TempDir dir;
    auto allowed = run_cli({"policy", "eval"}, with_home(dir, task_line("compliance-remediation", "staging")));
    EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
    auto out = lines(allowed.out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0]["decision"]["tier"], 2);
    EXPECT_EQ(out[0]["decision"]["policyDigest"].get<std::string>().rfind("sha256:", 0), 0u);

    auto pending = run_cli({"policy", "eval"}, with_home(dir, task_line("compliance-remediation", "production")));
    EXPECT_EQ(pending.exit_code, 4);
    auto denied = run_cli({"policy", "eval"}, with_home(dir, task_line("chat", "production", true)));
    EXPECT_EQ(denied.exit_code, 3);
    EXPECT_EQ(lines(denied.out)[0]["decision"]["allowed"], false);

    // Denied wins over pending in a mixed stream.
    auto mixed = run_cli({"policy", "eval"},
                         with_home(dir, task_line("compliance-remediation", "production") +
                                            task_line("chat", "production", true) + task_line("pr-review", "staging")));
    EXPECT_EQ(mixed.exit_code, 3);
    EXPECT_EQ(lines(mixed.out).size(), 3u);
}

TEST(PolicyCli, ADecisionOnStdinIsNeverAPermission)
{
    TempDir dir;
    auto t = nlohmann::json::parse(task_line("chat", "production", true));
    t["decision"] = {{"allowed", true}, {"tier", 4}};
    auto r = run_cli({"policy", "eval"}, with_home(dir, t.dump() + "\n"));
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(lines(r.out)[0]["decision"]["allowed"], false);
}

TEST(PolicyCli, EvalOfIngestedFindings)
{
    TempDir dir;
    auto ingest = run_cli({"ingest", "checkov", sample("scanners/checkov/list-form-report.json").string()});
    ASSERT_EQ(ingest.exit_code, 0);
    auto r = run_cli({"policy", "eval", "--explain"}, with_home(dir, ingest.out));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto out = lines(r.out);
    ASSERT_EQ(out.size(), 8u);
    EXPECT_EQ(out[0]["decision"]["priority"], "critical");  // CKV2_AWS_6: public access block
    EXPECT_TRUE(out[0]["decision"]["explanation"].contains("tier"));
}

TEST(PolicyCli, BrokenPoliciesExit65WithTheirPlace)
{
    TempDir dir;
    write_file(dir / "pol/bad.yaml", "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: bad}\nrules:\n"
                                     "  - name: r\n    match: {context.resource: {regex: \"(\"}}\n    tier: 2\n");
    auto eval = run_cli({"policy", "eval", "--policies", (dir / "pol").string()},
                        with_home(dir, task_line("pr-review", "dev")));
    EXPECT_EQ(eval.exit_code, 65);
    EXPECT_NE(eval.err.find("bad.yaml:6:39: 'context.resource': invalid regex"), std::string::npos) << eval.err;
    EXPECT_TRUE(eval.out.empty());
    auto lint = run_cli({"policy", "lint", (dir / "pol").string()}, with_home(dir));
    EXPECT_EQ(lint.exit_code, 65);
    EXPECT_NE(lint.out.find("bad.yaml:6:39: error: 'context.resource': invalid regex '('"), std::string::npos)
        << lint.out;
    EXPECT_EQ(run_cli({"policy", "lint"}, with_home(dir)).exit_code, 0);
}

// The compiled-policy cache as the binary uses it: a second eval is served
// from the entry; a damaged entry is ignored, gives the same decision and
// is written anew; an edited policy is decided afresh.
TEST(PolicyCli, EvalThroughTheCacheDecidesAsTheFileSays)
{
    TempDir dir;
    write_file(dir / "pol/p.yaml", "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: p}\nrules:\n"
                                   "  - {name: dev, match: {context.environment: \"de*\"}, tier: 1}\n");
    auto opts = with_home(dir, task_line("pr-review", "dev"));
    opts.env["XDG_CACHE_HOME"] = (dir / "cache").string();
    std::vector<std::string> eval = {"policy", "eval", "--no-bundle", "--policies", (dir / "pol").string()};
    auto first = run_cli(eval, opts);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    auto entries = dir / "cache/infra-agent/policies";
    std::vector<std::filesystem::path> written;
    for (const auto& e : std::filesystem::directory_iterator(entries)) written.push_back(e.path());
    ASSERT_EQ(written.size(), 1u);
    const std::string good = infra::test::read_file(written[0]);
    EXPECT_EQ(run_cli(eval, opts).out, first.out);
    write_file(written[0], good.substr(0, good.size() / 2));
    auto damaged = run_cli(eval, opts);
    EXPECT_EQ(damaged.exit_code, 0) << damaged.err;
    EXPECT_EQ(damaged.out, first.out);
    EXPECT_EQ(infra::test::read_file(written[0]), good);
    write_file(dir / "pol/p.yaml",
               "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: p}\nrules:\n"
               "  - {name: dev, match: {context.environment: \"de*\"}, effect: deny, reason: frozen}\n");
    auto edited = run_cli(eval, opts);
    EXPECT_EQ(edited.exit_code, 3) << edited.out;
    EXPECT_EQ(lines(edited.out)[0]["decision"]["reason"], "denied by p/dev: frozen");
}

TEST(PolicyCli, ConfigAndPoliciesReadBooleansByOneRule)
{
    // YAML 1.2's core booleans: true and false, in config and policy alike;
    // YAML 1.1's yes, no, on, off, True ... are refused where they are written.
    TempDir dir;
    write_file(dir / "home/config.yaml", "git:\n  repo: /srv/infra.git\ndelivery:\n  draft: yes\n");
    auto config = run_cli({"config", "get", "delivery.draft"}, with_home(dir));
    EXPECT_EQ(config.exit_code, 65) << config.out;
    EXPECT_NE(config.err.find("cannot parse '" + (dir / "home/config.yaml").string() +
                              "': line 4, column 10: 'yes' is not a boolean: write true or false"),
              std::string::npos)
        << config.err;
    write_file(dir / "home/config.yaml", "delivery:\n  draft: true\n  title: \"no\"\n");
    auto fine = run_cli({"config", "get", "delivery.draft"}, with_home(dir));
    EXPECT_EQ(fine.exit_code, 0) << fine.err;
    EXPECT_EQ(fine.out, "true\n");
    EXPECT_EQ(run_cli({"config", "get", "delivery.title"}, with_home(dir)).out, "no\n");

    write_file(dir / "pol/p.yaml", "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: p}\nrules:\n"
                                   "  - name: r\n    match: {type: chat}\n    constraints: {requiresPR: True}\n");
    auto lint = run_cli({"policy", "lint", (dir / "pol").string()}, with_home(dir));
    EXPECT_EQ(lint.exit_code, 65);
    EXPECT_NE(lint.out.find("p.yaml:7:31: error: 'True' is not a boolean: write true or false"), std::string::npos)
        << lint.out;
    write_file(dir / "pol/p_test.yaml", "apiVersion: infra-agent/v1\nkind: PolicyTest\nmetadata: {name: t}\n"
                                        "tests:\n  - name: on\n    task: {type: chat, payload: {requestsChange: on}}\n"
                                        "    expect: {allowed: true}\n");
    write_file(dir / "pol/p.yaml", "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: p}\nrules:\n"
                                   "  - name: r\n    match: {type: chat}\n    constraints: {requiresPR: true}\n");
    auto test = run_cli({"policy", "test", (dir / "pol").string()}, with_home(dir));
    EXPECT_EQ(test.exit_code, 65) << test.out;
    EXPECT_NE((test.out + test.err).find("p_test.yaml:6:50: error: 'on' is not a boolean: write true or false"),
              std::string::npos)
        << test.out << test.err;
}

TEST(PolicyCli, TestRunsTheBundleAndUserTests)
{
    TempDir dir;
    auto bundle = run_cli({"policy", "test"}, with_home(dir));
    EXPECT_EQ(bundle.exit_code, 0) << bundle.out << bundle.err;
    EXPECT_NE(bundle.out.find(" passed, 0 failed"), std::string::npos);

    write_file(dir / "mine/p.yaml", "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: org-chat}\nrules:\n"
                                    "  - {name: chat-fixes, match: {type: chat, context.environment: dev}, tier: 2}\n");
    write_file(dir / "mine/p_test.yaml",
               "apiVersion: infra-agent/v1\nkind: PolicyTest\nmetadata: {name: mine}\n"
               "tests:\n  - name: dev chat may fix\n"
               "    task: {type: chat, context: {environment: dev}, payload: {requestsChange: true}}\n"
               "    expect: {allowed: true, tier: 2}\n"
               "  - name: a wrong expectation\n"
               "    task: {type: chat, context: {environment: dev}}\n"
               "    expect: {tier: 4}\n");
    // mine/p.yaml overlays the bundle's org-chat policy: dev chat may now fix.
    auto mine = run_cli({"policy", "test", (dir / "mine").string()}, with_home(dir));
    EXPECT_EQ(mine.exit_code, 3);
    EXPECT_NE(mine.out.find("PASS mine: dev chat may fix"), std::string::npos) << mine.out;
    EXPECT_NE(mine.out.find("FAIL mine: a wrong expectation"), std::string::npos);
    EXPECT_NE(mine.out.find("tier: expected 4, got 2"), std::string::npos);
    EXPECT_NE(mine.out.find("1 passed, 1 failed"), std::string::npos);
}

TEST(PolicyCli, DigestAsJsonAndText)
{
    TempDir dir;
    auto j = run_cli({"policy", "digest", "--agent", "llm", "--type", "pr-review", "--format", "json"}, with_home(dir));
    ASSERT_EQ(j.exit_code, 0) << j.err;
    auto dg = nlohmann::json::parse(j.out);
    for (auto key : {"organizationPolicies", "agentHardRules", "repositoryConventions", "complianceFrameworks"})
        EXPECT_TRUE(dg.contains(key)) << key;
    auto t = run_cli({"policy", "digest", "--agent", "llm", "--type", "pr-review", "--format", "text"}, with_home(dir));
    EXPECT_NE(t.out.find("Never use these tools: shell."), std::string::npos) << t.out;
    EXPECT_NE(t.out.find("Act at most at tier 1 (recommend)."), std::string::npos);
}

TEST(PolicyCli, ReplayShowsWhatAProposedPolicyChanges)
{
    TempDir dir;
    std::string tasks = task_line("compliance-remediation", "staging") + task_line("pr-review", "staging");
    auto t2 = nlohmann::json::parse(task_line("pr-review", "staging"));
    t2["id"] = "01M86TZH12FPQAZA78N10Q24F3";
    tasks = task_line("compliance-remediation", "staging") + t2.dump() + "\n";
    ASSERT_EQ(run_cli({"policy", "eval", "--record"}, with_home(dir, tasks)).exit_code, 0);
    // The proposal drops remediation from staging.
    write_file(dir / "proposal/p.yaml",
               "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: freeze}\nrules:\n"
               "  - {name: freeze-staging, match: {type: compliance-remediation, context.environment: staging},"
               " effect: deny, reason: frozen}\n");
    auto r =
        run_cli({"policy", "replay", (dir / "proposal").string(), "--detailed-exitcode", "--json"}, with_home(dir));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    auto out = lines(r.out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0]["taskId"], "01M86TZH12FPQAZA78N10Q24F2");
    EXPECT_EQ(out[0]["changes"][0], "allowed: true -> false");
    EXPECT_EQ(out[1]["type"], "summary");
    EXPECT_EQ(out[1]["decisions"], 2);
    EXPECT_EQ(out[1]["newlyDenied"], 1);
}
