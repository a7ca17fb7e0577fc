// `remediate` in a checkout with no configuration beyond the validation
// steps an offline sandbox can run: every fixable finding becomes a bot
// branch in the checkout and a local pull request, the others say why not,
// a second run updates instead of duplicating, and --dry-run changes nothing.
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

TEST(RemediateCli, FindingsBecomePullRequestsInTheCheckout)
{
    test::TempDir dir;
    fs::path repo = dir / "infra";
    test::checkout_scanned_repo(repo);
    std::string report = (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string();
    test::RunOptions opts;
    opts.cwd = repo.string();
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
    EXPECT_EQ(test::git(repo, "status --porcelain"), "");  // the user's working tree is untouched

    // Again: the same pull request, updated.
    r = run_cli({"remediate", report}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    int updated = 0;
    for (const auto& l : test::json_lines(r.out)) updated += l["state"] == "updated";
    EXPECT_EQ(updated, 5);
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).size(), 1u);
}

}  // namespace
}  // namespace infra
