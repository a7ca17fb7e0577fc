// `remediate` in a checkout with no configuration beyond the validation
// steps an offline sandbox can run: every fixable finding becomes a bot
// branch in the checkout and a local pull request, the others say why not,
// a second run updates instead of duplicating, and --dry-run changes nothing.
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/model_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

/// A checkout of the repository the bundled Checkov report scanned, and the report.
class RemediateCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        test::checkout_scanned_repo(repo);
        opts.cwd = repo.string();
    }

    test::TempDir dir;
    fs::path repo = dir / "infra";
    std::string report = (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string();
    test::RunOptions opts;
};

TEST_F(RemediateCli, FindingsBecomePullRequestsInTheCheckout)
{
    opts.env["INFRA_AGENT_HOME"] = std::nullopt;
    opts.env["XDG_STATE_HOME"] = (dir / "xdg").string();  // no home anywhere: remediate makes one in the checkout

    // --dry-run decides and changes nothing (and makes the checkout's state home).
    auto dry = run_cli({"remediate", "--dry-run", report}, opts);
    ASSERT_EQ(dry.exit_code, 0) << dry.err;
    auto planned = test::json_lines(dry.out);
    ASSERT_EQ(planned.size(), 8u);
    for (const auto& l : planned) EXPECT_EQ(l["state"], "would fix") << l.dump();
    ASSERT_TRUE(fs::exists(repo / ".infra-agent" / "state.db"));
    EXPECT_EQ(test::git(repo, "status --porcelain"), "");  // the state home ignores itself
    // The AWS provider cannot be fetched in the offline sandbox: check formatting only.
    test::write_file(repo / ".infra-agent" / "config.yaml", "validation:\n  steps: [terraform-fmt]\n");
    EXPECT_TRUE(test::json_lines(run_cli({"queue", "ls", "--json"}, opts).out).empty());

    auto r = run_cli({"remediate", report}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.err;  // three findings have no builtin fix
    auto lines = test::json_lines(r.out);
    ASSERT_EQ(lines.size(), 8u);
    int opened = 0, failed = 0;
    std::set<std::string> branches;
    for (const auto& l : lines) {
        if (l["state"] == "opened") {
            ++opened;
            std::string branch = l["pullRequest"]["branch"];
            branches.insert(branch);
            EXPECT_NE(test::git(repo, "branch --list " + branch), "") << branch;
        } else {
            ++failed;
            EXPECT_EQ(l["state"], "failed");
            EXPECT_NE(l["detail"].get<std::string>().find("no fix for"), std::string::npos) << l.dump();
        }
    }
    EXPECT_EQ(opened, 5);
    EXPECT_EQ(failed, 3);
    // The five fixes of one bucket are one branch and one pull request, whose body says what became of each finding.
    ASSERT_EQ(branches.size(), 1u);
    auto prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
    ASSERT_EQ(prs.size(), 1u);
    EXPECT_EQ(prs[0]["title"], "infra-agent: fix 7 findings on aws_s3_bucket.security_logs");
    auto shown = json::parse(run_cli({"pr", "show", "--json", prs[0]["id"]}, opts).out);
    std::string body = shown["body"];
    for (const char* fixed : {"CKV2_AWS_6", "CKV_AWS_18", "CKV_AWS_145", "CKV2_AWS_61", "CKV_AWS_21"})
        EXPECT_NE(body.find(std::string("- **fixed**: `") + fixed + "`"), std::string::npos) << fixed << "\n" << body;
    for (const char* left : {"CKV2_AWS_62", "CKV_AWS_144"})
        EXPECT_NE(body.find(std::string("- **not-fixed**: `") + left + "`"), std::string::npos) << left << "\n" << body;
    EXPECT_EQ(test::git(repo, "rev-parse --abbrev-ref HEAD"), "main\n");  // still on its own branch
    EXPECT_EQ(test::git(repo, "status --porcelain"), "");                 // the user's working tree is untouched

    // Again: the same pull request, updated.
    r = run_cli({"remediate", report}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    int updated = 0;
    for (const auto& l : test::json_lines(r.out)) updated += l["state"] == "updated";
    EXPECT_EQ(updated, 5);
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).size(), 1u);
}

TEST_F(RemediateCli, WithoutTerraformEachFixSaysThatTerraformIsMissing)
{
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    opts.env["PATH"] = "/usr/bin:/bin";  // terraform is in /usr/local/bin
    ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
    auto r = run_cli({"remediate", report}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    int unvalidated = 0;
    for (const auto& l : test::json_lines(r.out)) {
        std::string detail = l["detail"];
        if (detail.find("no fix for") != std::string::npos) continue;
        EXPECT_EQ(l["state"], "failed") << l.dump();
        EXPECT_NE(detail.find("terraform is not on PATH"), std::string::npos) << detail;
        EXPECT_NE(detail.find("https://developer.hashicorp.com/terraform/install"), std::string::npos) << detail;
        ++unvalidated;
    }
    EXPECT_EQ(unvalidated, 7);
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).size(), 0u);
}

TEST_F(RemediateCli, AReportOfNoKnownFormatSaysHowToNameTheFormatToRemediate)
{
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    test::write_file(dir / "notes.txt", "not a report\n");
    auto r = run_cli({"remediate", (dir / "notes.txt").string()}, opts);
    EXPECT_EQ(r.exit_code, 65) << r.err;
    EXPECT_NE(r.err.find("cannot tell the format of '" + (dir / "notes.txt").string() + "'"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("'infra-agent remediate --source FORMAT FILE'"), std::string::npos) << r.err;
}

TEST_F(RemediateCli, NoReportOnATerminalIsAUsageErrorNotAWaitForInput)
{
    // script(1) gives the command a terminal for stdin, as a person typing it has (timeout: it used to wait).
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    auto r = test::run_program(
        "/usr/bin/script", {"-qec", "timeout 20 " + std::string(INFRA_AGENT_BIN) + " remediate", "/dev/null"}, opts);
    EXPECT_EQ(r.exit_code, 64) << r.out;
    EXPECT_NE(r.out.find("remediate needs a scanner report, and none was given"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(dir / "home")) << "nothing was made";
}

TEST_F(RemediateCli, ATfsecReportsAbsolutePathsBecomeTheCheckoutsWithRoot)
{
    // tfsec writes the scanning machine's paths (/home/kali/Desktop/aws_demo/main.tf).
    fs::path web = dir / "web";
    fs::create_directories(web);
    test::write_file(web / "main.tf", "resource \"aws_instance\" \"demo\" {\n"
                                      "  ami           = \"ami-12345678\"\n"
                                      "  instance_type = \"t3.micro\"\n"
                                      "}\n");
    test::git(web, "init -q");
    test::git(web, "add -A");
    test::git(web, "commit -q -m initial");
    opts.cwd = web.string();
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
    test::write_file(dir / "home" / "config.yaml", "validation:\n  steps: [terraform-fmt]\n");
    std::string tfsec = test::sample("scanners/tfsec/webserver-results.json").string();

    auto lost = run_cli({"remediate", tfsec}, opts);
    EXPECT_EQ(lost.exit_code, 1) << lost.err;
    EXPECT_NE(lost.err.find("the report names files by absolute paths ('/home/kali/Desktop/aws_demo/main.tf')"),
              std::string::npos)
        << lost.err;
    EXPECT_NE(lost.err.find("pass --root DIR"), std::string::npos) << lost.err;

    auto r = run_cli({"remediate", "--root", "/home/kali/Desktop/aws_demo", tfsec}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.err;  // the security group is not in this checkout
    EXPECT_EQ(r.err.find("absolute paths"), std::string::npos) << r.err;
    std::set<std::string> opened;
    for (const auto& l : test::json_lines(r.out))
        if (l["state"] == "opened") opened.insert(l["finding"].get<std::string>());
    EXPECT_EQ(opened, (std::set<std::string>{"CKV_AWS_79 aws_instance.demo", "CKV_AWS_8 aws_instance.demo"})) << r.out;
}

TEST_F(RemediateCli, AReportThatIsNotThereLeavesNoStateHomeBehind)
{
    opts.env["INFRA_AGENT_HOME"] = std::nullopt;
    opts.env["XDG_STATE_HOME"] = (dir / "xdg").string();
    auto r = run_cli({"remediate", "chekov.json"}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("cannot open 'chekov.json': No such file or directory"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(repo / ".infra-agent")) << r.err;
    EXPECT_EQ(r.err.find("created"), std::string::npos) << r.err;

    // Nor does a file that is no report of any format.
    test::write_file(dir / "notes.txt", "root:x:0:0:root:/root:/bin/bash\n");
    auto other = run_cli({"remediate", (dir / "notes.txt").string()}, opts);
    EXPECT_EQ(other.exit_code, 65) << other.err;
    EXPECT_NE(other.err.find("cannot tell the format of"), std::string::npos) << other.err;
    EXPECT_FALSE(fs::exists(repo / ".infra-agent")) << other.err;
}

TEST_F(RemediateCli, AFindingWhoseTaskVanishedUnderTheWorkerIsAFailureNotASuccess)
{
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
    // The agent takes every task out of the queue under the worker's feet.
    json command = {"/usr/bin/sqlite3", "-cmd", ".timeout 10000", (dir / "home/state.db").string(),
                    "DELETE FROM queue"};
    test::write_file(dir / "home/config.yaml", "exec:\n  command: " + command.dump() + "\n");
    test::write_file(dir / "policies/unsandboxed.yaml",
                     "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: tests, level: repository}\nrules:\n"
                     "  - name: exec-unsandboxed\n    match: {type: compliance-remediation}\n"
                     "    constraints: {allowUnsandboxed: true}\n");

    auto r = run_cli(
        {"remediate", "--agent", "exec", "--sandbox", "none", "--policies", (dir / "policies").string(), report}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    auto lines = test::json_lines(r.out);
    ASSERT_EQ(lines.size(), 8u) << r.out;
    // The task the agent ran says its lease was lost; the others were gone
    // before the worker could claim them, and the queue cannot say either.
    int interrupted = 0, unknown = 0;
    for (const auto& l : lines) {
        EXPECT_EQ(l["type"], "finding");
        std::string id = l["taskId"], detail = l["detail"];
        if (l["state"] == "interrupted") {
            ++interrupted;
            EXPECT_NE(detail.find("lease of task '" + id + "' with token 1 was lost"), std::string::npos) << l.dump();
        } else {
            ++unknown;
            EXPECT_EQ(l["state"], "unknown") << l.dump();
            EXPECT_NE(detail.find("cannot read task " + id + " back from the queue"), std::string::npos) << l.dump();
        }
    }
    EXPECT_GT(interrupted, 0);
    EXPECT_GT(unknown, 0);
}

// agents.fallback: llm sends the findings the builtin agent has no fix for
// to the llm agent (here a scripted model server); without a model the
// result says which setting would let it try. The fallback takes tasks of
// one finding (pr.group_by: finding); in a group such a finding is listed
// as not fixed.
TEST_F(RemediateCli, FindingsWithoutABuiltinFixFallBackToTheLlmAgent)
{
    opts.env["INFRA_AGENT_HOME"] = std::nullopt;
    opts.env["XDG_STATE_HOME"] = (dir / "xdg").string();  // no home anywhere: remediate makes one in the checkout
    ASSERT_EQ(run_cli({"remediate", "--dry-run", report}, opts).exit_code, 0);

    // Without a model: the findings with no builtin fix say what to set.
    test::write_file(repo / ".infra-agent" / "config.yaml",
                     "validation:\n  steps: [terraform-fmt]\nagents:\n  fallback: llm\npr:\n  group_by: finding\n");
    auto r = run_cli({"remediate", report}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    int told = 0;
    for (const auto& l : test::json_lines(r.out))
        if (l["state"] == "failed") {
            EXPECT_NE(l["detail"].get<std::string>().find("llm.model is not set"), std::string::npos) << l.dump();
            ++told;
        }
    EXPECT_EQ(told, 3);

    // With a model: the llm agent works them under the same decision.
    test::ModelServer server;
    std::vector<test::Turn> turns(40);
    for (auto& t : turns)
        t.dynamic = [](const json& request) {
            int turns_so_far = 0;
            for (const auto& m : request.value("messages", json::array()))
                turns_so_far += m.value("role", "") == "assistant";
            if (turns_so_far == 0)
                return test::Turn{
                    {{"write_file", {{"path", "review.tf"}, {"content", "# Reviewed by the llm agent.\n"}}}}};
            return test::Turn{{{"finish", {{"summary", "Documented the finding for its owner"}}}}};
        };
    server.script(turns);
    test::write_file(repo / ".infra-agent" / "config.yaml",
                     "validation:\n  steps: [terraform-fmt]\nagents:\n  fallback: llm\npr:\n  group_by: "
                     "finding\nllm:\n  provider: openai\n"
                     "  base_url: " +
                         server.openai_url() + "\n  model: test-model\n  retries: 1\n");
    r = run_cli({"remediate", report}, opts);
    auto lines = test::json_lines(r.out);
    ASSERT_EQ(lines.size(), 8u) << r.out << r.err;
    int fell_back = 0;
    for (const auto& l : lines) {
        EXPECT_NE(l["state"], "failed") << l.dump();
        auto shown = run_cli({"queue", "show", l["taskId"].get<std::string>(), "--json"}, opts);
        auto task = test::json_lines(shown.out);
        ASSERT_FALSE(task.empty()) << shown.err;
        if (task[0]["result"].contains("fallback")) {
            EXPECT_EQ(task[0]["result"]["fallback"]["agent"], "llm");
            ++fell_back;
        }
    }
    EXPECT_EQ(fell_back, 3);
    EXPECT_FALSE(server.received().empty());
}

}  // namespace
}  // namespace infra
