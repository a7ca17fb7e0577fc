// Following bot pull requests through the real binary with the local forge,
// in a checkout with the real Checkov report: a branch merged into the base
// is seen as merged (findings resolved, branch deleted); a pull request
// closed by hand declines its findings until `pr reopen`; one whose
// findings are gone from the latest report is closed with the reason; one
// whose base moved is rebuilt on it, unless a person pushed to it. Each
// transition is an audited event.
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

struct Checkout {
    test::TempDir dir;
    fs::path repo = dir / "infra";
    std::string report = (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string();
    test::RunOptions opts;

    Checkout()
    {
        test::checkout_scanned_repo(repo);
        opts.cwd = repo.string();
        opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
        EXPECT_EQ(run_cli({"init"}, opts).exit_code, 0);
        test::write_file(dir / "home" / "config.yaml", "validation:\n  steps: [terraform-fmt]\n");
    }
    std::vector<json> remediate(const std::string& file)
    {
        auto r = run_cli({"remediate", file}, opts);
        EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
        return test::json_lines(r.out);
    }
    json only_pr()
    {
        auto prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
        EXPECT_EQ(prs.size(), 1u);
        return prs.empty() ? json::object() : prs[0];
    }
    std::vector<json> events(const std::string& type)
    {
        return test::json_lines(run_cli({"events", "--type", type}, opts).out);
    }
    void commit_to(const std::string& branch, const std::string& file, const std::string& text)
    {
        test::git(repo, "checkout -q " + branch);
        test::write_file(repo / file, text);
        test::git(repo, "add -A");
        test::git(repo, "commit -qm 'a person at work'");
        test::git(repo, "checkout -q main");
    }
};

int count_state(const std::vector<json>& lines, const std::string& state)
{
    int n = 0;
    for (const auto& l : lines) n += l["state"] == state;
    return n;
}

TEST(PrFollowCli, MergedIntoTheBaseIsResolvedAndItsBranchDeleted)
{
    Checkout c;
    EXPECT_EQ(count_state(c.remediate(c.report), "opened"), 5);
    std::string branch = c.only_pr()["branch"];
    test::git(c.repo, "merge -q --no-edit " + branch);

    auto lines = c.remediate(c.report);
    auto pr = c.only_pr();
    EXPECT_EQ(pr["state"], "merged");
    EXPECT_NE(pr["reason"].get<std::string>().find("its findings are resolved; its branch is deleted"),
              std::string::npos)
        << pr.dump();
    EXPECT_EQ(test::git(c.repo, "branch --list " + branch), "");
    EXPECT_EQ(count_state(lines, "opened"), 0);  // the fixes are in main: nothing to propose
    auto merged = c.events("pr.merged");
    ASSERT_EQ(merged.size(), 1u);
    EXPECT_EQ(merged[0]["data"]["findings"].size(), 5u);
    EXPECT_EQ(merged[0]["taskId"], pr["taskId"]);
}

TEST(PrFollowCli, ClosedByHandIsDeclinedUntilReopened)
{
    Checkout c;
    c.remediate(c.report);
    auto closed = run_cli({"pr", "close", "1", "--as", "alice", "--json"}, c.opts);
    ASSERT_EQ(closed.exit_code, 0) << closed.err;
    EXPECT_EQ(json::parse(closed.out)["event"], "pr.declined");
    auto pr = c.only_pr();
    EXPECT_EQ(pr["state"], "closed");
    EXPECT_NE(pr["reason"].get<std::string>().find("closed without merging by alice"), std::string::npos) << pr.dump();
    std::string ls = run_cli({"pr", "ls"}, c.opts).out;
    EXPECT_NE(ls.find("declined"), std::string::npos) << ls;

    // The next run proposes none of the declined findings again.
    auto lines = c.remediate(c.report);
    EXPECT_EQ(count_state(lines, "declined"), 5) << lines.size();
    EXPECT_EQ(count_state(lines, "opened") + count_state(lines, "updated"), 0);
    for (const auto& l : lines)
        if (l["state"] == "declined") {
            EXPECT_NE(l["detail"].get<std::string>().find("infra-agent pr reopen 1"), std::string::npos);
        }
    EXPECT_EQ(c.only_pr()["state"], "closed");
    EXPECT_EQ(run_cli({"pr", "close", "1"}, c.opts).exit_code, 1) << "closing twice";

    // Reopened, they are proposed again, on the same pull request.
    auto reopened = run_cli({"pr", "reopen", "1", "--as", "alice", "--json"}, c.opts);
    ASSERT_EQ(reopened.exit_code, 0) << reopened.err;
    EXPECT_EQ(json::parse(reopened.out)["event"], "pr.reopened");
    lines = c.remediate(c.report);
    EXPECT_EQ(count_state(lines, "updated"), 5);
    EXPECT_EQ(c.only_pr()["state"], "open");
    auto twice = run_cli({"pr", "reopen", "1", "--as", "alice"}, c.opts);
    EXPECT_EQ(twice.exit_code, 1) << "reopening twice";
    EXPECT_NE(twice.err.find("is open already"), std::string::npos) << twice.err;
    EXPECT_EQ(c.events("pr.declined").size(), 1u);
    EXPECT_EQ(c.events("pr.reopened").size(), 1u);
}

TEST(PrFollowCli, FindingsGoneFromTheLatestReportCloseItWithTheReason)
{
    Checkout c;
    c.remediate(c.report);
    // Someone fixed the bucket by hand: the next report has only the detector's finding.
    json report = json::parse(test::read_file(c.report));
    auto& failed = report[0]["results"]["failed_checks"];
    json kept = json::array();
    for (const auto& f : failed)
        if (f["resource"] != "aws_s3_bucket.security_logs") kept.push_back(f);
    failed = kept;
    test::write_file(c.dir / "later.json", report.dump());
    c.remediate((c.dir / "later.json").string());
    auto pr = c.only_pr();
    EXPECT_EQ(pr["state"], "closed");
    EXPECT_NE(pr["reason"].get<std::string>().find("none of its findings is in the latest report"), std::string::npos)
        << pr.dump();
    auto shown = json::parse(run_cli({"pr", "show", "--json", "1"}, c.opts).out);
    EXPECT_NE(shown["history"].back()["comment"].get<std::string>().find("fixed elsewhere"), std::string::npos)
        << shown["history"].dump();
    EXPECT_EQ(c.events("pr.obsolete").size(), 1u);
}

TEST(PrFollowCli, MovedBaseRebuildsUnlessAPersonPushed)
{
    Checkout c;
    c.remediate(c.report);
    std::string branch = c.only_pr()["branch"];
    c.commit_to("main", "README.md", "# moved on\n");
    EXPECT_EQ(test::git(c.repo, "merge-base --is-ancestor main " + branch + " && echo yes || echo no"), "no\n");

    auto sync = run_cli({"pr", "sync", "--json"}, c.opts);
    ASSERT_EQ(sync.exit_code, 0) << sync.err;
    auto done = test::json_lines(sync.out);
    ASSERT_EQ(done.size(), 1u) << sync.out;
    EXPECT_EQ(done[0]["event"], "pr.rebuilt");
    auto w = run_cli({"worker", "--drain", "--json", "--repo", c.repo.string()}, c.opts);
    ASSERT_EQ(w.exit_code, 0) << w.err;
    EXPECT_EQ(test::git(c.repo, "merge-base --is-ancestor main " + branch + " && echo yes || echo no"), "yes\n");
    EXPECT_EQ(c.only_pr()["state"], "open");
    EXPECT_EQ(test::json_lines(run_cli({"pr", "sync", "--json"}, c.opts).out).size(), 0u);  // up to date: nothing to do

    // A person pushes to the branch, and the base moves again: left alone, said once.
    c.commit_to(branch, "notes.md", "mine\n");
    c.commit_to("main", "README.md", "# moved again\n");
    std::string tip = test::git(c.repo, "rev-parse " + branch);
    done = test::json_lines(run_cli({"pr", "sync", "--json"}, c.opts).out);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0]["event"], "pr.left-alone");
    EXPECT_NE(done[0]["reason"].get<std::string>().find("Person pushed"), std::string::npos) << done[0].dump();
    EXPECT_TRUE(test::json_lines(run_cli({"pr", "sync", "--json"}, c.opts).out).empty());
    auto lines = c.remediate(c.report);
    EXPECT_EQ(count_state(lines, "left alone"), 7);  // the whole group: its pull request is the person's now
    EXPECT_EQ(test::git(c.repo, "rev-parse " + branch), tip);
    EXPECT_EQ(c.events("pr.left-alone").size(), 1u);
}

}  // namespace
}  // namespace infra
