// Remote pipelines as validation steps, through the binary: a worker fixes a
// finding, pushes the bot branch, and the organisation's CI judges it. A
// GitHub Actions workflow is dispatched for the branch and followed to its
// conclusion, GitHub's check runs on the commit are waited for, or a GitLab
// pipeline is triggered; the conclusion, the link and the plan summary
// reach the pull request, and a failed or hung pipeline fails validation
// with its link and opens no pull request. The CI service is a stateful
// loopback server; GitHub's side is also checked against GitHub's OpenAPI
// description with Prism.
#include "support/ci_server.hpp"
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/github_mock.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;
using test::Scenario;

class PipelinesCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        fs::create_directories(dir / "remote");
        test::checkout_scanned_repo(dir / "seed");
        test::git(dir / "remote", "clone -q --bare ../seed acme.git");
        opts.cwd = dir.path().string();
        opts.env["INFRA_AGENT_HOME"] = home().string();
        opts.env["CI_TOKEN"] = "ghs_ci_token_for_tests_0123456789";
        opts.env["GL_TOKEN"] = "glpat-ci-token-for-tests-0123";
        ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
    }

    fs::path home() const { return dir / ".infra-agent"; }
    std::string bare() const { return (dir / "remote" / "acme.git").string(); }

    /// The config: a local check, then the given pipeline step.
    void configure(const std::string& pipeline, const std::string& ci_url)
    {
        test::write_file(home() / "config.yaml",
                         "validation:\n  steps:\n"
                         "    - name: public access block present\n"
                         "      run: [grep, -q, aws_s3_bucket_public_access_block, \"{dir}/main.tf\"]\n"
                         "    - name: ci\n      pipeline: " +
                             pipeline +
                             "\n"
                             "ci:\n  github:\n    base_url: " +
                             ci_url +
                             "\n    token_env: CI_TOKEN\n    accept: application/json\n"
                             "  gitlab:\n    base_url: " +
                             ci_url + "/api/v4\n    token_env: GL_TOKEN\n");
    }

    /// Queues the bundled Checkov report's first finding and drains it with one worker.
    test::RunResult fix_one()
    {
        auto tasks =
            run_cli({"ingest", "checkov",
                     (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string(),
                     "--repo", "acme/infra"},
                    opts);
        EXPECT_EQ(tasks.exit_code, 0) << tasks.err;
        auto o = opts;
        o.stdin_data = tasks.out.substr(0, tasks.out.find('\n') + 1);
        EXPECT_EQ(run_cli({"enqueue"}, o).exit_code, 0);
        return run_cli({"worker", "--drain", "--json", "--repo", bare(), "--sandbox", "bwrap"}, opts);
    }

    std::string resolve(const std::string& branch)
    {
        auto r =
            test::run_program("/usr/bin/git", {"-C", bare(), "rev-parse", "--verify", "-q", "refs/heads/" + branch});
        return r.exit_code == 0 ? std::string(r.out.substr(0, 40)) : "";
    }

    json only_pr()
    {
        auto prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
        EXPECT_EQ(prs.size(), 1u);
        if (prs.empty()) return json();
        return json::parse(run_cli({"pr", "show", prs[0]["id"], "--json"}, opts).out);
    }

    /// The errors of the dead tasks, one per line.
    std::string dead_error()
    {
        std::string out;
        for (const auto& t : test::json_lines(run_cli({"queue", "ls", "--state", "dead", "--json"}, opts).out))
            out += t.value("lastError", "") + "\n";
        return out;
    }

    test::TempDir dir;
    test::RunOptions opts;
};

TEST_F(PipelinesCli, AWorkflowDispatchedForTheBranchValidatesTheChangeAndReachesThePullRequest)
{
    test::CiServer ci([this](const std::string& b) { return resolve(b); });
    configure("{kind: github-actions, workflow: plan.yml, poll: 20ms, timeout: 20s}", ci.url());
    auto w = fix_one();
    ASSERT_EQ(w.exit_code, 0) << w.err;
    ASSERT_EQ(test::json_lines(w.out).back()["succeeded"], 1)
        << w.out << w.err << run_cli({"queue", "ls", "--json"}, opts).out;

    auto pr = only_pr();
    std::string body = pr.value("body", "");
    EXPECT_NE(body.find("passed: `ci`"), std::string::npos) << body;
    EXPECT_NE(body.find("https://github.test/acme/infra/actions/runs/7001"), std::string::npos) << body;
    EXPECT_NE(body.find("Plan: 1 to add, 0 to change, 0 to destroy"), std::string::npos) << body;

    std::string branch = pr["branch"];
    json dispatch;
    bool blob_without_token = false;
    for (const auto& c : ci.calls()) {
        if (c.method == "POST") {
            EXPECT_EQ(c.path, "/repos/acme/infra/actions/workflows/plan.yml/dispatches");
            EXPECT_EQ(c.authorization, "Bearer ghs_ci_token_for_tests_0123456789");
            dispatch = json::parse(c.body);
        }
        if (c.path.rfind("/_blobs/logs/", 0) == 0) blob_without_token = c.authorization.empty();
    }
    // The run is told which branch, task and trace it validates; the log's storage never sees the token.
    EXPECT_EQ(dispatch["ref"], branch);
    EXPECT_EQ(dispatch["inputs"]["branch"], branch);
    EXPECT_EQ(dispatch["inputs"]["task_id"].get<std::string>().size(), 26u);
    EXPECT_EQ(dispatch["inputs"]["trace_id"].get<std::string>().size(), 32u);
    EXPECT_TRUE(blob_without_token);
    // The CI token was handed out through the broker, so it is in the ledger with its scope.
    auto creds = run_cli({"creds", "ls", "--json"}, opts);
    EXPECT_NE(creds.out.find("ci:dispatch:repo=acme/infra,workflow=plan.yml"), std::string::npos) << creds.out;
    // And the step is a span of the task's trace.
    auto spans = run_cli({"events", "--type", "span", "--json"}, opts);
    EXPECT_NE(spans.out.find("\"pipeline.conclusion\":\"success\""), std::string::npos) << spans.out;
}

TEST_F(PipelinesCli, AFailedOrHungWorkflowFailsValidationWithItsLinkAndOpensNoPullRequest)
{
    test::CiServer ci([this](const std::string& b) { return resolve(b); });
    ci.set_scenario("plan.yml", Scenario::fail);
    configure("{kind: github-actions, workflow: plan.yml, poll: 20ms, timeout: 20s}", ci.url());
    auto w = fix_one();
    ASSERT_EQ(w.exit_code, 0) << w.err;
    EXPECT_EQ(test::json_lines(w.out).back()["dead"], 1) << w.out;
    std::string why = dead_error();
    EXPECT_NE(why.find("validation failed: ci failed: failure (https://github.test/acme/infra/actions/runs/7001)"),
              std::string::npos)
        << why;
    EXPECT_TRUE(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).empty());

    ci.set_scenario("plan.yml", Scenario::hang);
    configure("{kind: github-actions, workflow: plan.yml, poll: 20ms, timeout: 700ms}", ci.url());
    w = fix_one();
    ASSERT_EQ(w.exit_code, 0) << w.err;
    EXPECT_EQ(test::json_lines(w.out).back()["dead"], 1) << w.out;
    why = dead_error();
    EXPECT_NE(why.find("validation failed: ci did not finish in time: no conclusion after 700ms "
                       "(https://github.test/acme/infra/actions/runs/7002)"),
              std::string::npos)
        << why;
    EXPECT_TRUE(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).empty());
}

TEST_F(PipelinesCli, ThePlanSummaryCanComeFromAnArtifact)
{
    test::CiServer ci([this](const std::string& b) { return resolve(b); });
    configure("{kind: github-actions, workflow: plan.yml, poll: 20ms, summary: {artifact: plan, file: plan.txt}}",
              ci.url());
    auto w = fix_one();
    ASSERT_EQ(test::json_lines(w.out).back()["succeeded"], 1)
        << w.out << w.err << run_cli({"queue", "ls", "--json"}, opts).out;
    EXPECT_NE(only_pr().value("body", "").find("Plan: 2 to add, 1 to change, 0 to destroy"), std::string::npos);
}

TEST_F(PipelinesCli, CheckRunsOnThePushedCommitAreWaitedFor)
{
    test::CiServer ci([this](const std::string& b) { return resolve(b); });
    ci.set_check_runs({{"plan", Scenario::pass}, {"tflint", Scenario::pass}, {"unrelated", Scenario::hang}});
    configure("{kind: github-checks, checks: [plan, tflint], poll: 20ms, timeout: 20s}", ci.url());
    auto w = fix_one();
    ASSERT_EQ(test::json_lines(w.out).back()["succeeded"], 1)
        << w.out << w.err << run_cli({"queue", "ls", "--json"}, opts).out;
    auto pr = only_pr();
    EXPECT_NE(pr.value("body", "").find("Plan: 0 to add, 3 to change, 0 to destroy"), std::string::npos) << pr.dump();
    bool asked_for_commit = false;
    for (const auto& c : ci.calls())
        if (c.path.find("/commits/" + pr["headCommit"].get<std::string>() + "/check-runs") != std::string::npos)
            asked_for_commit = true;
    EXPECT_TRUE(asked_for_commit);

    // One failing check fails validation, with that check's link.
    test::git(dir / "remote" / "acme.git", "update-ref -d refs/heads/" + pr["branch"].get<std::string>());
    ci.set_check_runs({{"plan", Scenario::pass}, {"tflint", Scenario::fail}});
    w = fix_one();
    EXPECT_EQ(test::json_lines(w.out).back()["dead"], 1) << w.out << w.err;
    EXPECT_NE(dead_error().find("validation failed: ci failed: tflint failure (https://github.test/acme/infra/runs/"),
              std::string::npos);
}

TEST_F(PipelinesCli, AGitLabPipelinePassesFailsOrHangs)
{
    test::CiServer ci([this](const std::string& b) { return resolve(b); });
    configure("{kind: gitlab, project: acme/infra, poll: 20ms, timeout: 20s, variables: {TASK: \"{task}\", PLAN_ONLY: "
              "\"true\"}}",
              ci.url());
    auto w = fix_one();
    ASSERT_EQ(test::json_lines(w.out).back()["succeeded"], 1)
        << w.out << w.err << run_cli({"queue", "ls", "--json"}, opts).out;
    auto pr = only_pr();
    EXPECT_NE(pr.value("body", "").find("https://gitlab.test/acme/infra/-/pipelines/7001"), std::string::npos);
    EXPECT_NE(pr.value("body", "").find("Plan: 1 to add, 0 to change, 0 to destroy"), std::string::npos);
    json trigger;
    for (const auto& c : ci.calls())
        if (c.method == "POST") {
            EXPECT_EQ(c.path, "/api/v4/projects/acme%2Finfra/pipeline");
            EXPECT_EQ(c.authorization, "Bearer glpat-ci-token-for-tests-0123");
            trigger = json::parse(c.body);
        }
    EXPECT_EQ(trigger["ref"], pr["branch"]);
    ASSERT_EQ(trigger["variables"].size(), 2u);
    EXPECT_EQ(trigger["variables"][0]["key"], "PLAN_ONLY");
    EXPECT_EQ(trigger["variables"][1]["value"].get<std::string>().size(), 26u);  // the task id

    for (auto [scenario, expected] :
         {std::pair{Scenario::fail, "ci failed: failed (https://gitlab.test/acme/infra/-/pipelines/7002)"},
          {Scenario::hang, "ci did not finish in time: no conclusion after 700ms (last status running) "
                           "(https://gitlab.test/acme/infra/-/pipelines/7003)"}}) {
        test::git(dir / "remote" / "acme.git", "update-ref -d refs/heads/" + pr["branch"].get<std::string>());
        ci.set_scenario("acme/infra", scenario);
        configure("{kind: gitlab, project: acme/infra, poll: 20ms, timeout: 700ms, summary: {artifact: plan, file: "
                  "plan.txt}}",
                  ci.url());
        w = fix_one();
        EXPECT_EQ(test::json_lines(w.out).back()["dead"], 1) << w.out << w.err;
        EXPECT_NE(dead_error().find(expected), std::string::npos) << dead_error();
    }
}

TEST_F(PipelinesCli, RequestsFollowGitHubsOpenApiDescription)
{
    // Prism answers from GitHub's own description: its example run never
    // matches our commit, so the step times out, but every request the
    // client made must be one the description allows.
    test::GitHubMock github;
    ASSERT_TRUE(github.ready()) << github.why();
    configure("{kind: github-actions, workflow: plan.yml, poll: 50ms, timeout: 400ms}", github.url());
    auto w = fix_one();
    EXPECT_EQ(test::json_lines(w.out).back()["dead"], 1) << w.out << w.err;
    EXPECT_NE(dead_error().find("no run of plan.yml started"), std::string::npos) << dead_error();
    configure("{kind: github-checks, poll: 50ms, timeout: 5s}", github.url());
    w = fix_one();  // the description's example check run is completed
    auto calls = github.calls();
    std::set<std::string> seen;
    for (const auto& c : calls) {
        EXPECT_TRUE(c.status >= 200 && c.status < 300)
            << c.method << " " << c.path << " " << c.status << " " << c.violations;
        EXPECT_TRUE(c.violations.empty()) << c.method << " " << c.path << " " << c.violations;
        seen.insert(c.method + " " + c.path.substr(0, c.path.find('?')));
    }
    EXPECT_TRUE(seen.count("POST /repos/acme/infra/actions/workflows/plan.yml/dispatches"));
    EXPECT_TRUE(seen.count("GET /repos/acme/infra/actions/workflows/plan.yml/runs"));
    bool checks = false;
    for (const auto& s : seen) checks = checks || s.find("/check-runs") != std::string::npos;
    EXPECT_TRUE(checks);
}

TEST_F(PipelinesCli, AMalformedPipelineStepIsADataErrorNamingIt)
{
    configure("{kind: jenkins}", "http://127.0.0.1:9");
    auto w = run_cli({"validate", "--json", dir.path().string()}, opts);
    EXPECT_EQ(w.exit_code, 65);
    EXPECT_NE(w.err.find("validation.steps[1].pipeline.kind: expected github-actions, github-checks or gitlab"),
              std::string::npos)
        << w.err;
    configure("{kind: github-actions}", "http://127.0.0.1:9");
    w = run_cli({"validate", "--json", dir.path().string()}, opts);
    EXPECT_EQ(w.exit_code, 65);
    EXPECT_NE(w.err.find("needs workflow"), std::string::npos) << w.err;
    configure("{kind: gitlab, timeout: soon}", "http://127.0.0.1:9");
    w = run_cli({"validate", "--json", dir.path().string()}, opts);
    EXPECT_EQ(w.exit_code, 65);
    EXPECT_NE(w.err.find("validation.steps[1].pipeline.timeout"), std::string::npos) << w.err;
}

}  // namespace
}  // namespace infra
