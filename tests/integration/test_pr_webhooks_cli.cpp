// Bot pull requests followed from forge webhooks through the real binary:
// a pull request opened on GitHub's API as its OpenAPI description defines
// it (Prism), then GitHub's own pull_request "closed" example delivery
// (tests/fixtures/samples/github), pointed at that pull request and signed
// again, tells serve it was merged, or closed without merging.
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/github_mock.hpp"
#include "support/run.hpp"

#include "core/crypto.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

const std::string k_secret = "It's a Secret to Everybody";

class PrWebhooks : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(github.ready()) << github.why();
        test::checkout_scanned_repo(dir / "seed");
        test::git(dir.path(), "clone -q --bare seed acme.git");
        opts.cwd = dir.path().string();
        opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
        opts.env["GITHUB_TOKEN"] = "ghp_test";
        opts.env["GH_SECRET"] = k_secret;
        ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
        test::write_file(
            dir / "home" / "config.yaml",
            "forge:\n  kind: github\n  base_url: " + github.url() +
                "\n  accept: application/json\n"
                "git:\n  repo: " +
                (dir / "acme.git").string() +
                "\n"
                "repository:\n  id: acme/infra\n"
                "pr:\n  group_by: resource\n"
                "webhooks:\n  github: {secret_env: GH_SECRET}\n"
                "validation:\n  steps:\n    - [grep, -q, aws_s3_bucket_public_access_block, \"{dir}/main.tf\"]\n");
        auto tasks =
            run_cli({"ingest", "checkov",
                     (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string(),
                     "--repo", "acme/infra"},
                    opts);
        ASSERT_EQ(tasks.exit_code, 0) << tasks.err;
        auto o = opts;
        o.stdin_data = tasks.out.substr(0, tasks.out.find('\n') + 1);  // the bucket's group
        ASSERT_EQ(run_cli({"enqueue"}, o).exit_code, 0);
        auto w = run_cli({"worker", "--drain", "--json"}, opts);
        ASSERT_EQ(w.exit_code, 0) << w.err;
        auto prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
        ASSERT_EQ(prs.size(), 1u) << w.out << w.err;
        pr = prs[0];
        ASSERT_EQ(pr["state"], "open");
        ASSERT_EQ(pr["findings"].size(), 5u) << pr.dump();
    }

    /// GitHub's own "closed" example, about our pull request, signed.
    std::pair<std::string, httplib::Headers> closed_delivery(bool merged)
    {
        fs::path samples = fs::path(INFRA_TEST_FIXTURES) / "samples/github/deliveries";
        json body = json::parse(test::read_file(samples / "pull_request.closed_1.body.json"));
        EXPECT_EQ(body["action"], "closed");
        body["repository"]["full_name"] = "acme/infra";
        body["number"] = pr["number"];
        body["pull_request"]["number"] = pr["number"];
        body["pull_request"]["merged"] = merged;
        if (merged) body["pull_request"]["merged_by"] = {{"login", "octocat"}};
        else body["sender"]["login"] = "hubot";
        std::string raw = body.dump();
        httplib::Headers h = {{"X-GitHub-Event", "pull_request"},
                              {"X-GitHub-Delivery", merged ? "d-merged" : "d-closed"},
                              {"X-Hub-Signature-256", "sha256=" + core::crypto::hmac_sha256_hex(k_secret, raw)}};
        return {raw, h};
    }

    json post(const std::pair<std::string, httplib::Headers>& delivery, int expect_status = 200)
    {
        test::Background serve({"serve", "--listen", "127.0.0.1:0"}, opts);
        auto listening = json::parse(serve.read_line(20000), nullptr, false);
        EXPECT_TRUE(listening.is_object()) << serve.err();
        if (!listening.is_object()) return nullptr;
        httplib::Client http(listening["url"].get<std::string>());
        http.set_read_timeout(30, 0);
        auto res = http.Post("/hooks/github", delivery.second, delivery.first, "application/json");
        EXPECT_TRUE(res);
        if (!res) return nullptr;
        EXPECT_EQ(res->status, expect_status) << res->body << serve.err();
        EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();
        return json::parse(res->body, nullptr, false);
    }

    test::GitHubMock github;
    test::TempDir dir;
    test::RunOptions opts;
    json pr;
};

TEST_F(PrWebhooks, MergedOnGitHubResolvesTheFindingsAndDeletesTheBranch)
{
    std::string branch = pr["branch"];
    EXPECT_NE(test::git(dir / "acme.git", "branch --list " + branch), "");
    auto answer = post(closed_delivery(true));
    EXPECT_EQ(answer["status"], "followed") << answer.dump();
    EXPECT_EQ(answer["transition"]["event"], "pr.merged");
    auto now = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out)[0];
    EXPECT_EQ(now["state"], "merged");
    EXPECT_NE(now["reason"].get<std::string>().find("merged by octocat"), std::string::npos) << now.dump();
    EXPECT_EQ(test::git(dir / "acme.git", "branch --list " + branch), "");
    auto events = test::json_lines(run_cli({"events", "--type", "pr.merged"}, opts).out);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0]["data"]["number"], pr["number"]);

    // Delivered again: the pull request is no longer open, nothing happens.
    answer = post(closed_delivery(true));
    EXPECT_EQ(answer["status"], "ignored") << answer.dump();
}

TEST_F(PrWebhooks, ClosedOnGitHubDeclinesItsFindings)
{
    auto answer = post(closed_delivery(false));
    EXPECT_EQ(answer["transition"]["event"], "pr.declined") << answer.dump();
    auto now = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out)[0];
    EXPECT_EQ(now["state"], "closed");
    EXPECT_NE(now["reason"].get<std::string>().find("closed without merging by hubot"), std::string::npos)
        << now.dump();
    // The next report of the same findings proposes none of the declined ones.
    auto r = run_cli(
        {"remediate", (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string()},
        opts);
    int declined = 0;
    for (const auto& l : test::json_lines(r.out)) declined += l["state"] == "declined";
    EXPECT_EQ(declined, 5) << r.out << r.err;

    // A delivery with a signature that does not match is refused, and changes nothing.
    auto forged = closed_delivery(true);
    forged.second.erase("X-Hub-Signature-256");
    forged.second.emplace("X-Hub-Signature-256", "sha256=" + std::string(64, '0'));
    post(forged, 401);
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out)[0]["state"], "closed");
}

}  // namespace
}  // namespace infra
