// Change control through the real binary: a queue of findings becomes bot
// branches pushed over smart HTTP (git http-backend) with credentials the
// broker minted, and pull requests that a second run updates instead of
// duplicating; a person's push stops the bot; tokens stay out of every log.
#include "core/creds/broker.hpp"
#include "core/home.hpp"
#include "core/state.hpp"
#include "core/timeutil.hpp"
#include "plugins/credentials/providers.hpp"
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <functional>
#include <set>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

class ChangeCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        fs::create_directories(dir / "remote");
        test::checkout_scanned_repo(dir / "seed");
        test::git(dir / "remote", "clone -q --bare ../seed acme.git");
        opts.cwd = dir.path().string();
        opts.env["INFRA_AGENT_HOME"] = home().string();
        ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
        // The fixture needs the AWS provider, which the offline sandbox
        // cannot download: validate with a configured step instead of
        // terraform init/validate/plan (ValidationFailureMeansNoPush keeps the defaults).
        std::string config = test::read_file(home() / "config.yaml");
        test::write_file(home() / "config.yaml",
                         config + "\nvalidation:\n  steps:\n    - name: public access block present\n"
                                  "      run: [grep, -q, aws_s3_bucket_public_access_block, \"{dir}/main.tf\"]\n");
    }
    /// Checks a token as a forge would, against this home's credential ledger.
    core::Result<core::creds::LedgerEntry> verify_token(const std::string& password)
    {
        auto db = core::open_state(core::Home{home(), ""});
        if (!db) return db.error();
        core::creds::Ledger ledger(**db);
        auto key = plugins::credentials::load_or_create_key(home() / "keys" / "local-creds.key");
        if (!key) return key.error();
        auto provider = plugins::credentials::make_local(*key);
        core::creds::Broker broker(ledger, *provider);
        return broker.verify(password, std::nullopt);
    }
    void use_default_validation() { test::write_file(home() / "config.yaml", "# defaults\n"); }
    fs::path home() const { return dir / ".infra-agent"; }

    /// Ingests the bundled Checkov report's first finding (the one the builtin agent fixes) and queues it.
    void enqueue_finding()
    {
        auto tasks =
            run_cli({"ingest", "checkov",
                     (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string(),
                     "--repo", "acme/infra"},
                    opts);
        ASSERT_EQ(tasks.exit_code, 0) << tasks.err;
        auto first = tasks.out.substr(0, tasks.out.find('\n') + 1);
        auto o = opts;
        o.stdin_data = first;
        auto q = run_cli({"enqueue"}, o);
        ASSERT_EQ(q.exit_code, 0) << q.err;
    }

    test::RunResult work(const std::string& url)
    {
        return run_cli({"worker", "--drain", "--json", "--repo", url, "--sandbox", "bwrap"}, opts);
    }

    test::TempDir dir;
    test::RunOptions opts;
};

TEST_F(ChangeCli, FindingsBecomeOnePullRequestPerFindingOverSmartHttp)
{
    // The git server accepts only credentials from this home's broker,
    // scoped to the repository (and, for pushes, to bot branches).
    std::mutex m;
    std::vector<std::string> tokens;
    test::GitHttpServer server(
        dir / "remote", [&](const std::string&, const std::string& password, const std::string& path, bool is_push) {
            {
                std::lock_guard lock(m);
                tokens.push_back(password);
            }
            if (path.rfind("/acme.git/", 0) != 0) return false;
            // The branch is inside the pushed pack, not the URL: like a forge,
            // the server checks the repository and that the grant is for bot branches.
            auto e = verify_token(password);
            if (!e) return false;
            auto scope = core::creds::parse_scope(e->scope);
            if (!scope || scope->attr("repo") != "acme/infra") return false;
            return !is_push || (scope->action == "push" && scope->attr("branch").rfind("infra-agent/", 0) == 0);
        });
    std::string url = server.url() + "acme.git";

    enqueue_finding();
    auto w = work(url);
    ASSERT_EQ(w.exit_code, 0) << w.err;
    auto summary = test::json_lines(w.out).back();
    EXPECT_EQ(summary["succeeded"], 1) << w.out << w.err << run_cli({"queue", "ls", "--json"}, opts).out;
    EXPECT_EQ(server.pushes(), 1);

    auto ls = run_cli({"pr", "ls", "--json"}, opts);
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    auto prs = test::json_lines(ls.out);
    ASSERT_EQ(prs.size(), 1u);
    std::string branch = prs[0]["branch"];
    EXPECT_EQ(branch.rfind("infra-agent/compliance-remediation/", 0), 0u);
    EXPECT_EQ(prs[0]["repository"], "acme/infra");
    EXPECT_EQ(prs[0]["updates"], 0);
    // The pushed branch holds the fix, with the task's trailers.
    fs::path bare = dir / "remote" / "acme.git";
    EXPECT_NE(test::git(bare, "show " + branch + ":main.tf").find("aws_s3_bucket_public_access_block"),
              std::string::npos);
    std::string msg = test::git(bare, "log -1 --format=%B " + branch);
    EXPECT_NE(msg.find("Task-Id: " + prs[0]["taskId"].get<std::string>()), std::string::npos) << msg;
    EXPECT_NE(msg.find("Policy-Digest: sha256:"), std::string::npos) << msg;

    // The same finding again, from a new scan: the same pull request, updated.
    enqueue_finding();
    w = work(url);
    ASSERT_EQ(w.exit_code, 0) << w.err;
    prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
    ASSERT_EQ(prs.size(), 1u);
    EXPECT_EQ(prs[0]["updates"], 1);
    auto show = run_cli({"pr", "show", "#1", "--json"}, opts);
    ASSERT_EQ(show.exit_code, 0) << show.err;
    auto pr = json::parse(show.out);
    ASSERT_EQ(pr["history"].size(), 1u);
    EXPECT_NE(pr["diff"].get<std::string>().find("+resource \"aws_s3_bucket_public_access_block\""), std::string::npos);
    EXPECT_LE(pr["body"].get<std::string>().size(), 65536u);
    EXPECT_NE(pr["body"].get<std::string>().find("passed: `public access block present`"), std::string::npos)
        << pr["body"];

    // Every credential is in the ledger, by task; no token is in the state
    // db's events or in anything the commands printed.
    auto creds = test::json_lines(run_cli({"creds", "ls", "--all", "--json"}, opts).out);
    ASSERT_GE(creds.size(), 2u);
    for (const auto& c : creds) {
        EXPECT_FALSE(c["taskId"].get<std::string>().empty());
        // Bound to the task: its repository, its own branch, and no longer than the worker's lease (30s).
        EXPECT_TRUE(c["scope"] == "git:fetch:repo=acme/infra" ||
                    c["scope"] == "git:push:branch=" + branch + ",repo=acme/infra")
            << c.dump();
        auto issued = core::timeutil::parse_rfc3339(c["issuedAt"].get<std::string>());
        auto expires = core::timeutil::parse_rfc3339(c["expiresAt"].get<std::string>());
        ASSERT_TRUE(issued && expires) << c.dump();
        EXPECT_LE(*expires - *issued, std::chrono::seconds(30)) << c.dump();
    }
    std::string db_text = test::read_file(home() / "state.db");
    std::lock_guard lock(m);
    ASSERT_FALSE(tokens.empty());
    for (const auto& t : tokens) {
        if (t.empty()) continue;
        EXPECT_EQ(db_text.find(t), std::string::npos);
        EXPECT_EQ(w.err.find(t), std::string::npos);
        EXPECT_EQ(w.out.find(t), std::string::npos);
    }
}

// The observability plane end to end: a finding ingested in a CI job (its
// TRACEPARENT), queued, fixed, validated, pushed with a minted credential and
// proposed; `trace` tells that story as one tree in the CI job's trace, the
// audit chain holds and catches a changed event, and promtool accepts the
// metrics.
TEST_F(ChangeCli, TheTraceTellsTheStoryFromSignalToPullRequest)
{
    const std::string ci_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const std::string ci_span = "00f067aa0ba902b7";
    test::GitHttpServer server(dir / "remote", [&](const std::string&, const std::string& password, const std::string&,
                                                   bool) { return static_cast<bool>(verify_token(password)); });
    opts.env["TRACEPARENT"] = "00-" + ci_trace + "-" + ci_span + "-01";
    enqueue_finding();
    opts.env.erase("TRACEPARENT");
    auto w = work(server.url() + "acme.git");
    ASSERT_EQ(w.exit_code, 0) << w.err;
    auto prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
    ASSERT_EQ(prs.size(), 1u) << w.err;
    std::string task = prs[0]["taskId"];

    // One tree, rooted at the ingest span, in the CI job's trace.
    auto t = run_cli({"trace", task.substr(0, 20), "--json"}, opts);
    ASSERT_EQ(t.exit_code, 0) << t.err;
    auto roots = test::json_lines(t.out);
    ASSERT_EQ(roots.size(), 1u) << t.out;
    const json& root = roots[0];
    EXPECT_EQ(root["name"], "ingest");
    EXPECT_EQ(root["traceId"], ci_trace);
    EXPECT_EQ(root["parentSpanId"], ci_span);
    EXPECT_EQ(root["attributes"]["signal.source"], "checkov");
    std::multiset<std::string> names;
    std::vector<json> all;
    std::function<void(const json&)> walk = [&](const json& n) {
        names.insert(n["name"].get<std::string>());
        all.push_back(n);
        EXPECT_EQ(n["traceId"], ci_trace);
        for (const auto& c : n["children"]) {
            EXPECT_EQ(c["parentSpanId"], n["spanId"]);
            walk(c);
        }
    };
    walk(root);
    for (const char* want :
         {"queue.enqueue", "queue.wait", "task.run", "git.clone", "execute_tool write_file", "execute_tool finish",
          "validation", "validation.step", "git.commit", "git.push", "pr.open"})
        EXPECT_EQ(names.count(want), 1u) << want << "\n" << t.out;
    EXPECT_GE(names.count("credential.mint"), 2u);  // to fetch, and to push (libgit2 may ask twice: reused)
    EXPECT_EQ(names.count("policy.evaluate"), 2u);  // at enqueue and again at claim
    for (const auto& n : all) {
        if (n["name"] == "policy.evaluate") {
            EXPECT_EQ(n["attributes"]["policy.allowed"], true);
            EXPECT_FALSE(n["attributes"]["policy.matched_rules"].empty());
        }
        if (n["name"] == "credential.mint") {
            EXPECT_EQ(n["attributes"]["credential.scope"].get<std::string>().rfind("git:", 0), 0u) << n.dump();
            EXPECT_GT(n["attributes"]["credential.ttl_seconds"].get<int>(), 0);
            EXPECT_FALSE(n["attributes"]["credential.id"].get<std::string>().empty());
        }
        if (n["name"] == "task.run") {
            EXPECT_EQ(n["attributes"]["outcome"], "succeeded");
        }
    }

    // The same spans for an OpenTelemetry backend.
    auto otlp = run_cli({"trace", task, "--otlp"}, opts);
    ASSERT_EQ(otlp.exit_code, 0) << otlp.err;
    auto spans = json::parse(otlp.out)["resourceSpans"][0]["scopeSpans"][0]["spans"];
    EXPECT_EQ(spans.size(), all.size());

    // The trace rides along in the commit and the pull request.
    std::string branch = prs[0]["branch"];
    std::string msg = test::git(dir / "remote" / "acme.git", "log -1 --format=%B " + branch);
    EXPECT_NE(msg.find("Traceparent: 00-" + ci_trace + "-"), std::string::npos) << msg;
    auto pr = json::parse(run_cli({"pr", "show", "#1", "--json"}, opts).out);
    EXPECT_NE(pr["body"].get<std::string>().find("00-" + ci_trace + "-"), std::string::npos);

    // events: filtered by task and type.
    auto ev = run_cli({"events", "--task", task, "--type", "task.*"}, opts);
    ASSERT_EQ(ev.exit_code, 0) << ev.err;
    std::vector<std::string> types;
    for (const auto& e : test::json_lines(ev.out)) {
        EXPECT_EQ(e["taskId"], task);
        EXPECT_EQ(e["traceId"], ci_trace);
        types.push_back(e["event"]);
    }
    EXPECT_EQ(types.front(), "task.enqueued");
    EXPECT_NE(std::find(types.begin(), types.end(), "task.claimed"), types.end());
    EXPECT_EQ(types.back(), "task.succeeded");

    // Metrics that promtool accepts, with this run in them.
    auto m = run_cli({"metrics"}, opts);
    ASSERT_EQ(m.exit_code, 0) << m.err;
    test::RunOptions check;
    check.stdin_data = m.out;
    auto promtool = test::run_program("/usr/bin/promtool", {"check", "metrics"}, check);
    EXPECT_EQ(promtool.exit_code, 0) << promtool.out << promtool.err << m.out;
    EXPECT_NE(m.out.find(
                  "infra_agent_task_duration_seconds_count{type=\"compliance-remediation\",outcome=\"succeeded\"} 1\n"),
              std::string::npos)
        << m.out;
    EXPECT_NE(m.out.find("infra_agent_credential_mints_total{provider=\"local\"} "), std::string::npos);
    EXPECT_NE(m.out.find("infra_agent_policy_decisions_total{outcome=\"allowed\"} 1\n"), std::string::npos) << m.out;
    EXPECT_NE(m.out.find("infra_agent_tool_calls_total{tool=\"write_file\",outcome=\"ok\"} 1\n"), std::string::npos);
    EXPECT_NE(m.out.find("infra_agent_queue_tasks{state=\"succeeded\"} 1\n"), std::string::npos);

    // The audit chain holds; a changed event is named and fails the command.
    auto v = run_cli({"audit", "verify"}, opts);
    ASSERT_EQ(v.exit_code, 0) << v.err;
    auto verdict = json::parse(v.out);
    EXPECT_EQ(verdict["ok"], true);
    std::string kept = verdict["head"];
    auto exported = test::json_lines(run_cli({"audit", "export"}, opts).out);
    ASSERT_EQ(exported.size(), verdict["events"].get<std::size_t>());
    EXPECT_EQ(exported[1]["prevHash"], exported[0]["hash"]);
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((home() / "state.db").c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "DROP TRIGGER events_no_update; UPDATE events SET data = '{}' WHERE seq = 3", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
    v = run_cli({"audit", "verify", "--head", kept}, opts);
    EXPECT_EQ(v.exit_code, 1);
    verdict = json::parse(v.out);
    EXPECT_EQ(verdict["ok"], false);
    EXPECT_EQ(verdict["problem"]["seq"], 3);
    EXPECT_EQ(verdict["problem"]["kind"], "changed");
    EXPECT_NE(v.err.find("audit log broken at event 3"), std::string::npos) << v.err;
}

TEST_F(ChangeCli, APersonsPushToTheBotBranchStopsUpdates)
{
    std::string url = (dir / "remote" / "acme.git").string();
    enqueue_finding();
    ASSERT_EQ(work(url).exit_code, 0);
    auto prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
    ASSERT_EQ(prs.size(), 1u);
    std::string branch = prs[0]["branch"];
    test::git(dir.path(), "clone -q " + url + " person");
    test::git(dir / "person", "checkout -q " + branch);
    test::write_file(dir / "person" / "NOTES.md", "reviewed\n");
    test::git(dir / "person", "add NOTES.md");
    test::git(dir / "person", "commit -q -m 'reviewer note'");
    test::git(dir / "person", "push -q origin " + branch);

    enqueue_finding();
    auto w = work(url);
    ASSERT_EQ(w.exit_code, 0) << w.err;
    EXPECT_EQ(test::json_lines(w.out).back()["dead"], 1) << w.out;  // not retried: retrying cannot help
    auto dead = test::json_lines(run_cli({"queue", "ls", "--state", "dead", "--json"}, opts).out);
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_NE(dead[0]["lastError"].get<std::string>().find("somebody else pushed"), std::string::npos)
        << dead[0].dump();
    EXPECT_EQ(test::git(dir / "remote" / "acme.git", "log -1 --format=%s " + branch), "reviewer note\n");
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out)[0]["updates"], 0);
}

TEST_F(ChangeCli, AFailedStepSaysItsFirstDiagnosticWholeAndRecordsTheRest)
{
    // terraform's text output, as a configured step prints it: the message is
    // the first diagnostic's summary and every paragraph of its detail.
    test::write_file(home() / "config.yaml",
                     "validation:\n  steps:\n    - name: init\n"
                     "      run: [terraform, \"-chdir={dir}\", init, -input=false, -no-color]\n");
    std::string url = (dir / "remote" / "acme.git").string();
    enqueue_finding();
    auto w = work(url);
    ASSERT_EQ(w.exit_code, 0) << w.err;
    auto dead = test::json_lines(run_cli({"queue", "ls", "--state", "dead", "--json"}, opts).out);
    ASSERT_EQ(dead.size(), 1u) << w.out;
    std::string error = dead[0]["lastError"];
    EXPECT_NE(error.find("validation failed: init failed: Error: Failed to query available provider packages: "
                         "Could not retrieve the list of available versions for provider hashicorp/aws: "),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("run the following command: terraform providers"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    // The step's whole output is in its span's event.
    std::string task = dead[0]["id"];
    bool recorded = false;
    for (const auto& e : test::json_lines(run_cli({"events", "--task", task, "--type", "span", "--json"}, opts).out)) {
        if (e["data"]["name"] != "validation.step" || e["data"]["status"] != "error") continue;
        std::string output = e["data"]["attributes"].value("output", "");
        EXPECT_NE(output.find("Initializing provider plugins..."), std::string::npos) << output;
        EXPECT_NE(output.find("Error: Failed to query available provider packages\n"), std::string::npos) << output;
        recorded = true;
    }
    EXPECT_TRUE(recorded);
}

TEST_F(ChangeCli, ValidationFailureMeansNoPush)
{
    // The default pipeline needs the AWS provider the base commit uses, and
    // this machine cannot download it: validation fails naming it and saying
    // what to do, the task is dead, and nothing is pushed.
    use_default_validation();
    std::string url = (dir / "remote" / "acme.git").string();
    enqueue_finding();
    auto w = work(url);
    ASSERT_EQ(w.exit_code, 0) << w.err;
    EXPECT_EQ(test::json_lines(w.out).back()["dead"], 1) << w.out;
    auto dead = test::json_lines(run_cli({"queue", "ls", "--state", "dead", "--json"}, opts).out);
    ASSERT_EQ(dead.size(), 1u);
    std::string error = dead[0]["lastError"];
    EXPECT_NE(
        error.find("validation failed: providers for the root: cannot install the providers the base commit uses: "
                   "Error: Failed to query available provider packages: "),
        std::string::npos)
        << error;
    EXPECT_NE(error.find("provider hashicorp/aws"), std::string::npos) << error;
    // This machine tried and failed: not only the sandbox is without the registry.
    EXPECT_NE(error.find("terraform on this machine could not fetch them, and the sandbox has no network"),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("infra-agent providers fetch ROOT` where the registry can be reached"), std::string::npos)
        << error;
    EXPECT_NE(error.find("validation.provider_mirror"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_EQ(test::git(dir / "remote" / "acme.git", "branch --list 'infra-agent/*'"), "");
    EXPECT_TRUE(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).empty());
}

TEST_F(ChangeCli, AWorkerPinnedToARepositoryRefusesOtherRepositoriesTasks)
{
    std::string config = test::read_file(home() / "config.yaml");
    test::write_file(home() / "config.yaml", config + "git:\n  repository: acme/other\n");
    enqueue_finding();  // for acme/infra
    auto w = work((dir / "remote" / "acme.git").string());
    ASSERT_EQ(w.exit_code, 0) << w.err;
    EXPECT_EQ(test::json_lines(w.out).back()["dead"], 1) << w.out;
    auto dead = test::json_lines(run_cli({"queue", "ls", "--state", "dead", "--json"}, opts).out);
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_NE(dead[0]["lastError"].get<std::string>().find("is for acme/infra, and this worker delivers to acme/other"),
              std::string::npos)
        << dead[0].dump();
    EXPECT_EQ(test::git(dir / "remote" / "acme.git", "branch --list 'infra-agent/*'"), "");
}

TEST_F(ChangeCli, PrOpenProposesAWorkspacesChanges)
{
    test::git(dir.path(), "clone -q remote/acme.git checkout");
    test::write_file(dir / "checkout" / "main.tf",
                     test::read_file(dir / "checkout" / "main.tf") + "# aws_s3_bucket_public_access_block: reviewed\n");
    test::write_file(dir / "checkout" / "extra.tf", "# new file\n");
    auto tasks = run_cli({"ingest", "checkov",
                          (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string(),
                          "--repo", "acme/infra"},
                         opts);
    auto o = opts;
    o.stdin_data = tasks.out.substr(0, tasks.out.find('\n') + 1);
    auto r = run_cli({"pr", "open", "--workspace", (dir / "checkout").string(), "--summary", "a reviewed fix"}, o);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto out = json::parse(r.out);
    EXPECT_EQ(out["state"], "opened");
    EXPECT_EQ(out["pushed"], true);
    std::string branch = out["branch"];
    EXPECT_EQ(test::git(dir / "remote" / "acme.git", "show " + branch + ":extra.tf"), "# new file\n");
    auto pr = json::parse(run_cli({"pr", "show", "1", "--json"}, opts).out);
    EXPECT_NE(pr["diff"].get<std::string>().find("+# new file"), std::string::npos);

    // A task that waits for approval opens nothing (exit 4).
    auto gated = json::parse(o.stdin_data);
    gated["context"]["environment"] = "production";
    gated["dedupeKey"] = "0123456789abcdef0123456789abcdef";
    o.stdin_data = gated.dump();
    auto d = run_cli({"pr", "open", "--workspace", (dir / "checkout").string()}, o);
    EXPECT_EQ(d.exit_code, 4) << d.err;
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).size(), 1u);
}

}  // namespace
}  // namespace infra

namespace infra {
namespace {

TEST(ValidateCli, ExitCodesFollowTerraform)
{
    test::TempDir dir;
    test::RunOptions o;
    o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    test::write_file(dir / "tf" / "main.tf", "resource \"terraform_data\" \"a\" {\n  input = \"v1\"\n}\n");
    auto ok = run_cli({"validate", (dir / "tf").string()}, o);
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    auto report = nlohmann::json::parse(ok.out);
    EXPECT_EQ(report["planSummary"], "1 to add, 0 to change, 0 to destroy");
    EXPECT_EQ(report["steps"].size(), 5u);
    EXPECT_EQ(run_cli({"validate", "--detailed-exitcode", (dir / "tf").string()}, o).exit_code, 2);
    EXPECT_FALSE(fs::exists(dir / "tf" / ".terraform"));

    test::write_file(dir / "tf" / "more.tf", "resource \"terraform_data\" \"b\" {\ninput = 1\n}\n");
    auto bad = run_cli({"validate", (dir / "tf").string()}, o);
    EXPECT_EQ(bad.exit_code, 3);
    EXPECT_NE(bad.err.find("more.tf: not formatted"), std::string::npos) << bad.err;
}

TEST(ValidateCli, ProvidersThatCannotBeInstalledAreAFailureToRunNotAFailedChange)
{
    // No registry answers for registry.invalid: the change is not at fault, so not exit 3.
    test::TempDir dir;
    test::RunOptions o;
    o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    test::write_file(dir / "tf" / "main.tf", "terraform {\n"
                                             "  required_providers {\n"
                                             "    nothing = {\n"
                                             "      source = \"registry.invalid/acme/nothing\"\n"
                                             "    }\n"
                                             "  }\n"
                                             "}\n");
    auto r = run_cli({"validate", (dir / "tf").string()}, o);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("error: could not validate: providers for the root: cannot install the providers"),
              std::string::npos)
        << r.err;
    // What to do is the hint, on a line of its own; terraform's advice to its own user is left out.
    EXPECT_NE(r.err.find("\ninfra-agent: hint: terraform on this machine could not fetch them"), std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("terraform providers"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
}

TEST(ValidateCli, ADirectoryWithoutTerraformFilesIsNamedNotPlanned)
{
    // It used to run terraform plan there and fail with its "No configuration files" (exit 3).
    test::TempDir dir;
    test::RunOptions o;
    o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    test::write_file(dir / "envs" / "prod" / "main.tf", "resource \"terraform_data\" \"a\" {\n}\n");
    auto r = run_cli({"validate", "--json", (dir / "envs").string()}, o);
    EXPECT_EQ(r.exit_code, 64) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("no Terraform files (*.tf) in '" + (dir / "envs").string() + "'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("hint: name a Terraform root directory"), std::string::npos) << r.err;
}

TEST(ValidateCli, WithoutTerraformNothingIsValidatedAndItSaysSo)
{
    test::TempDir dir;
    test::RunOptions o;
    o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    o.env["PATH"] = "/usr/bin:/bin";  // terraform is in /usr/local/bin
    test::write_file(dir / "tf" / "main.tf", "resource \"terraform_data\" \"a\" {\n  input = \"v1\"\n}\n");
    auto r = run_cli({"validate", "--json", (dir / "tf").string()}, o);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("nothing was validated in '" + (dir / "tf").string() + "': terraform is not on PATH"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("hint: install terraform"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace infra
