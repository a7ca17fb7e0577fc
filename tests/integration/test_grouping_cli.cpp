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

#include <chrono>
#include <map>
#include <set>
#include <thread>

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
json record_like(const json& real, const std::string& check, const std::string& type, const std::string& name,
                 int first, int last)
{
    json r = real;
    r["check_id"] = check;
    r["check_name"] = check;
    r["resource"] = type + "." + name;
    r["file_line_range"] = {first, last};
    r["check_result"]["entity"] = {
        {type, {{name, {{"__start_line__", first}, {"__end_line__", last}, {"__address__", type + "." + name}}}}}};
    r.erase("code_block");
    return r;
}

int line_of(const std::string& text, const std::string& needle)
{
    auto pos = text.find(needle);
    return pos == std::string::npos
               ? 0
               : 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n'));
}

/// A state home for the checkout, with config.yaml.
test::RunOptions home_for(const fs::path& repo, const fs::path& home, const std::string& config)
{
    test::RunOptions opts;
    opts.cwd = repo.string();
    opts.env["INFRA_AGENT_HOME"] = home.string();
    EXPECT_EQ(run_cli({"init"}, opts).exit_code, 0);
    test::write_file(home / "config.yaml", config);
    return opts;
}

/// A checkout with three fixable resources and the report that names them.
void three_resources(const fs::path& repo, const fs::path& report_file)
{
    test::checkout_scanned_repo(repo);
    std::string main_tf = test::read_file(repo / "main.tf") + k_more_terraform;
    test::write_file(repo / "main.tf", main_tf);
    test::git(repo, "commit -qam 'a public access block and a volume'");

    json report =
        json::parse(test::read_file(fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json"));
    auto& failed = report[0]["results"]["failed_checks"];
    json real = failed[0];
    int pab = line_of(main_tf, "resource \"aws_s3_bucket_public_access_block\""),
        vol = line_of(main_tf, "resource \"aws_ebs_volume\"");
    for (const char* id : {"CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"})
        failed.push_back(record_like(real, id, "aws_s3_bucket_public_access_block", "security_logs", pab, pab + 6));
    failed.push_back(record_like(real, "CKV_AWS_3", "aws_ebs_volume", "scratch", vol, vol + 4));
    test::write_file(report_file, report.dump());
}

TEST(GroupingCli, OnePullRequestPerResourceAndNoneConflicts)
{
    test::TempDir dir;
    fs::path repo = dir / "infra";
    three_resources(repo, dir / "report.json");

    auto opts = home_for(repo, dir / "home", "validation:\n  steps: [terraform-fmt]\n");

    auto r = run_cli({"remediate", (dir / "report.json").string()}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.err;  // some findings have no builtin fix, one is left to another pull request
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
        if (titles[branch] == "infra-agent: fix 4 findings on aws_s3_bucket_public_access_block.security_logs") {
            ++four;
            EXPECT_EQ(n, 4) << r.out;
        }
    EXPECT_EQ(four, 1) << r.out;  // CKV_AWS_53..56: one pull request
    // The bucket's own check of its public access block (CKV2_AWS_6) would
    // edit the block's lines too: it leaves them to the block's pull request.
    int left = 0;
    for (const auto& l : test::json_lines(r.out))
        if (l["finding"] == "CKV2_AWS_6 aws_s3_bucket.security_logs") {
            ++left;
            EXPECT_EQ(l["state"], "failed") << l.dump();
            EXPECT_NE(l["detail"].get<std::string>().find(
                          "aws_s3_bucket_public_access_block.security_logs does not pass"
                          " aws_s3_bucket.security_logs's check; aws_s3_bucket_public_access_block"
                          ".security_logs has a pull request of its own"),
                      std::string::npos)
                << l.dump();
        }
    EXPECT_EQ(left, 1) << r.out;

    // Merged one after another, in any order, none conflicts with another.
    for (const auto& [branch, n] : findings_of_branch) {
        auto merged = test::git(repo, "merge --no-edit -q " + branch);
        EXPECT_EQ(test::git(repo, "status --porcelain"), "") << branch << ": " << merged;
        if (!test::git(repo, "status --porcelain").empty()) test::git(repo, "merge --abort");
    }
    std::string after = test::read_file(repo / "main.tf");
    for (const char* set :
         {"block_public_acls       = true", "block_public_policy     = true", "ignore_public_acls      = true",
          "restrict_public_buckets = true", "encrypted         = true"})
        EXPECT_NE(after.find(set), std::string::npos) << set << "\n" << after;
}

// pr.group_by: rule puts one check's findings in several directories into
// one pull request: its change may touch the Terraform files of each
// finding's directory (and of no other), and the plan of each is its scope.
TEST(GroupingCli, ByRuleOnePullRequestAcrossDirectories)
{
    test::TempDir dir;
    fs::path repo = dir / "infra";
    test::checkout_scanned_repo(repo);
    const char* volume = "resource \"aws_ebs_volume\" \"%s\" {\n  availability_zone = \"ap-south-1a\"\n"
                         "  size              = 10\n  encrypted         = false\n}\n";
    json report =
        json::parse(test::read_file(fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json"));
    auto& failed = report[0]["results"]["failed_checks"];
    json real = failed[0];
    failed = json::array();
    for (std::string env : {"east", "west"}) {
        char text[256];
        std::snprintf(text, sizeof text, volume, env.c_str());
        test::write_file(repo / "regions" / env / "volume.tf", text);
        json r = record_like(real, "CKV_AWS_3", "aws_ebs_volume", env, 1, 5);
        r["file_path"] = r["repo_file_path"] = "/regions/" + env + "/volume.tf";
        failed.push_back(std::move(r));
    }
    test::git(repo, "add -A");
    test::git(repo, "commit -qm 'a volume in each environment'");
    test::write_file(dir / "report.json", report.dump());
    auto opts = home_for(repo, dir / "home", "pr:\n  group_by: rule\nvalidation:\n  steps: [terraform-fmt]\n");

    auto r = run_cli({"remediate", (dir / "report.json").string()}, opts);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
    ASSERT_EQ(prs.size(), 1u) << r.out << r.err;
    EXPECT_EQ(prs[0]["title"], "infra-agent: fix 2 findings for CKV_AWS_3");
    std::string branch = prs[0]["branch"];
    for (const char* env : {"east", "west"})
        EXPECT_NE(test::git(repo, "show " + branch + ":regions/" + env + "/volume.tf").find("encrypted         = true"),
                  std::string::npos)
            << env;
}

// pr.max_open and pr.max_per_hour: what is over waits in the queue with its
// reason, and goes out once a pull request closes (or the hour has room).
TEST(GroupingCli, OverTheLimitsWaitsAndGoesOutLater)
{
    test::TempDir dir;
    fs::path repo = dir / "infra";
    three_resources(repo, dir / "report.json");
    auto opts = home_for(repo, dir / "home",
                         "validation:\n  steps: [terraform-fmt]\npr:\n  max_open: 2\n  limit_recheck: 1s\n");

    auto r = run_cli({"remediate", (dir / "report.json").string()}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.err;  // some findings have no builtin fix, one is left to another pull request
    int waiting = 0;
    for (const auto& l : test::json_lines(r.out))
        if (l["state"] == "waiting") {
            ++waiting;
            EXPECT_NE(l["detail"].get<std::string>().find("pr.max_open 2"), std::string::npos) << l.dump();
        }
    EXPECT_GE(waiting, 1) << r.out;
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json", "--state", "open"}, opts).out).size(), 2u);
    // Four groups: two went out; the third resource and the detector (whose finding has no fix) wait.
    auto queued = test::json_lines(run_cli({"queue", "ls", "--json", "--state", "queued"}, opts).out);
    ASSERT_EQ(queued.size(), 2u);
    for (const auto& q : queued) {
        EXPECT_NE(q["lastError"].get<std::string>().find("2 bot pull requests are open"), std::string::npos)
            << q.dump();
        EXPECT_EQ(q["attempts"], 0);  // waiting is not a failed attempt
    }
    std::string text = run_cli({"queue", "ls"}, opts).out;
    EXPECT_NE(text.find("pr.max_open 2"), std::string::npos) << text;

    // One is closed: the waiting one goes out.
    ASSERT_EQ(run_cli({"pr", "close", "1"}, opts).exit_code, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    auto w = run_cli({"worker", "--drain", "--json", "--repo", repo.string()}, opts);
    EXPECT_EQ(test::json_lines(w.out).back()["succeeded"], 1) << w.out << w.err;
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json", "--state", "open"}, opts).out).size(), 2u);
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).size(), 3u);
}

TEST(GroupingCli, MaxPerHourHoldsTheRestBack)
{
    test::TempDir dir;
    fs::path repo = dir / "infra";
    three_resources(repo, dir / "report.json");
    auto opts = home_for(repo, dir / "home", "validation:\n  steps: [terraform-fmt]\npr:\n  max_per_hour: 1\n");
    auto r = run_cli({"remediate", (dir / "report.json").string()}, opts);
    std::set<std::string> held;
    for (const auto& l : test::json_lines(r.out))
        if (l["state"] == "waiting") {
            held.insert(l["taskId"].get<std::string>());
            EXPECT_NE(l["detail"].get<std::string>().find("pr.max_per_hour 1"), std::string::npos) << l.dump();
        }
    EXPECT_EQ(held.size(), 3u) << r.out;  // of four groups, one went out
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).size(), 1u);
    auto events = test::json_lines(run_cli({"events", "--type", "task.waiting"}, opts).out);
    EXPECT_EQ(events.size(), 3u);
}

}  // namespace
}  // namespace infra
