// Grouping (pr.group_by) through the real binary: the real Checkov report
// of tests/fixtures/repos/aws-secure-terraform, with the repository grown by
// a public access block that fails CKV_AWS_53..56 and an unencrypted volume
// (their findings shaped as the report's own records), becomes one pull
// request per resource, and every branch merges into main after the others
// without a conflict.
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

const char* k_more_terraform = R"(
resource "aws_s3_bucket_public_access_block" "security_logs" {
  bucket                  = aws_s3_bucket.security_logs.id
  block_public_acls       = false
  block_public_policy     = false
  ignore_public_acls      = false
  restrict_public_buckets = false
}

resource "aws_ebs_volume" "scratch" {
  availability_zone = "ap-south-1a"
  size              = 10
  encrypted         = false
}
)";

/// A failed check of the real report, moved to another check and resource.
json record_like(const json& real, const std::string& check, const std::string& type, const std::string& name, int first, int last)
{
    json r = real;
    r["check_id"] = check;
    r["check_name"] = check;
    r["resource"] = type + "." + name;
    r["file_line_range"] = {first, last};
    r["check_result"]["entity"] = {{type, {{name, {{"__start_line__", first}, {"__end_line__", last}, {"__address__", type + "." + name}}}}}};
    r.erase("code_block");
    return r;
}

int line_of(const std::string& text, const std::string& needle)
{
    auto pos = text.find(needle);
    return pos == std::string::npos ? 0 : 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
}

TEST(GroupingCli, OnePullRequestPerResourceAndNoneConflicts)
{
    test::TempDir dir;
    fs::path repo = dir / "infra";
    test::checkout_scanned_repo(repo);
    std::string main_tf = test::read_file(repo / "main.tf") + k_more_terraform;
    test::write_file(repo / "main.tf", main_tf);
    test::git(repo, "commit -qam 'a public access block and a volume'");

    json report = json::parse(test::read_file(fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json"));
    auto& failed = report[0]["results"]["failed_checks"];
    json real = failed[0];
    int pab = line_of(main_tf, "resource \"aws_s3_bucket_public_access_block\""), vol = line_of(main_tf, "resource \"aws_ebs_volume\"");
    for (const char* id : {"CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"})
        failed.push_back(record_like(real, id, "aws_s3_bucket_public_access_block", "security_logs", pab, pab + 6));
    failed.push_back(record_like(real, "CKV_AWS_3", "aws_ebs_volume", "scratch", vol, vol + 4));
    test::write_file(dir / "report.json", report.dump());

    test::RunOptions opts;
    opts.cwd = repo.string();
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
    test::write_file(dir / "home" / "config.yaml", "validation:\n  steps: [terraform-fmt]\n");

    auto r = run_cli({"remediate", (dir / "report.json").string()}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.err;  // three findings have no builtin fix
    std::map<std::string, int> findings_of_branch;
    for (const auto& l : test::json_lines(r.out))
        if (l["state"] == "opened") ++findings_of_branch[l["pullRequest"]["branch"]];
    auto prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
    ASSERT_EQ(prs.size(), 3u) << r.out;
    ASSERT_EQ(findings_of_branch.size(), 3u) << r.out;
    std::map<std::string, std::string> titles;
    for (const auto& p : prs) titles[p["branch"]] = p["title"];
    int four = 0;
    for (const auto& [branch, n] : findings_of_branch)
        if (n == 4) {
            ++four;
            EXPECT_EQ(titles[branch], "infra-agent: fix 4 findings on aws_s3_bucket_public_access_block.security_logs");
        }
    EXPECT_EQ(four, 1) << r.out;  // CKV_AWS_53..56: one pull request

    // Merged one after another, in any order, none conflicts with another.
    for (const auto& [branch, n] : findings_of_branch) {
        auto merged = test::git(repo, "merge --no-edit -q " + branch);
        EXPECT_EQ(test::git(repo, "status --porcelain"), "") << branch << ": " << merged;
        if (!test::git(repo, "status --porcelain").empty()) test::git(repo, "merge --abort");
    }
    std::string after = test::read_file(repo / "main.tf");
    for (const char* set : {"block_public_acls       = true", "block_public_policy     = true", "ignore_public_acls      = true",
                            "restrict_public_buckets = true", "encrypted         = true"})
        EXPECT_NE(after.find(set), std::string::npos) << set << "\n" << after;
}

}  // namespace
}  // namespace infra
