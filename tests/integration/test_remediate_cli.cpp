// `remediate` in a checkout with no configuration beyond the validation
// steps an offline sandbox can run: every fixable finding becomes a bot
// branch in the checkout and a local pull request, the others say why not,
// a second run updates instead of duplicating, and --dry-run changes nothing.
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
    for (const auto& l : lines) {
        if (l["state"] == "opened") {
            ++opened;
            std::string branch = l["pullRequest"]["branch"];
            EXPECT_NE(test::git(repo, "branch --list " + branch), "") << branch;
        } else {
            ++failed;
            EXPECT_EQ(l["state"], "failed");
            EXPECT_NE(l["detail"].get<std::string>().find("no fix for"), std::string::npos) << l.dump();
        }
    }
    EXPECT_EQ(opened, 5);
    EXPECT_EQ(failed, 3);
    EXPECT_EQ(test::git(repo, "rev-parse --abbrev-ref HEAD"), "main\n");  // still on its own branch
    EXPECT_EQ(test::git(repo, "status --porcelain"), "");  // the user's working tree is untouched

    // Again: the same pull requests, updated.
    r = run_cli({"remediate", report}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    int updated = 0;
    for (const auto& l : test::json_lines(r.out)) updated += l["state"] == "updated";
    EXPECT_EQ(updated, 5);
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).size(), 5u);
}

TEST_F(RemediateCli, AFindingWhoseTaskCannotBeReadBackIsAFailureNotASuccess)
{
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
    // The agent takes every task out of the queue under the worker's feet.
    json command = {"/usr/bin/sqlite3", "-cmd", ".timeout 10000", (dir / "home/state.db").string(), "DELETE FROM queue"};
    test::write_file(dir / "home/config.yaml", "exec:\n  command: " + command.dump() + "\n");
    test::write_file(dir / "policies/unsandboxed.yaml",
                     "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: tests, level: repository}\nrules:\n"
                     "  - name: exec-unsandboxed\n    match: {type: compliance-remediation}\n"
                     "    constraints: {allowUnsandboxed: true}\n");

    auto r = run_cli({"remediate", "--agent", "exec", "--sandbox", "none", "--policies", (dir / "policies").string(), report}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    auto lines = test::json_lines(r.out);
    ASSERT_EQ(lines.size(), 8u) << r.out;
    for (const auto& l : lines) {
        EXPECT_EQ(l["state"], "unknown") << l.dump();
        EXPECT_NE(l["detail"].get<std::string>().find("cannot read task " + l["taskId"].get<std::string>() + " back from the queue"),
                  std::string::npos) << l.dump();
    }
}

}  // namespace
}  // namespace infra
