// The github forge and the github-app credential provider through the real
// binary, against GitHub's API as its own OpenAPI description defines it
// (Prism on loopback): an installation token narrowed to the repository,
// one pull request opened, and on the next run of the same finding that
// pull request updated, commented on and labelled instead of a second one.
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/github_mock.hpp"
#include "support/run.hpp"

#include "core/crypto.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

TEST(GitHubForge, OnePullRequestPerFindingThroughAGitHubApp)
{
    test::GitHubMock github;
    ASSERT_TRUE(github.ready()) << github.why();
    test::TempDir dir;
    test::checkout_scanned_repo(dir / "seed");
    test::git(dir.path(), "clone -q --bare seed acme.git");
    auto key = test::run_program("/usr/bin/openssl", {"genrsa", "-out", (dir / "app.pem").string(), "2048"});
    ASSERT_EQ(key.exit_code, 0) << key.err;

    test::RunOptions opts;
    opts.cwd = dir.path().string();
    opts.env["INFRA_AGENT_HOME"] = (dir / ".infra-agent").string();
    ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
    test::write_file(
        dir / ".infra-agent" / "config.yaml",
        "forge:\n  kind: github\n  base_url: " + github.url() +
            "\n  accept: application/json\n  labels: [infra-agent, security]\n"
            "creds:\n  provider: github-app\n  github_app:\n    app_id: \"12345\"\n    installation_id: \"42\"\n"
            "    private_key_file: " +
            (dir / "app.pem").string() +
            "\n"
            "validation:\n  steps:\n    - [grep, -q, aws_s3_bucket_public_access_block, \"{dir}/main.tf\"]\n");

    auto run_once = [&] {
        auto tasks =
            run_cli({"ingest", "checkov",
                     (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string(),
                     "--repo", "acme/infra"},
                    opts);
        ASSERT_EQ(tasks.exit_code, 0) << tasks.err;
        auto o = opts;
        o.stdin_data = tasks.out.substr(0, tasks.out.find('\n') + 1);
        ASSERT_EQ(run_cli({"enqueue"}, o).exit_code, 0);
        auto w = run_cli({"worker", "--drain", "--json", "--repo", (dir / "acme.git").string()}, opts);
        ASSERT_EQ(w.exit_code, 0) << w.err;
        EXPECT_EQ(test::json_lines(w.out).back()["succeeded"], 1)
            << w.out << w.err << run_cli({"queue", "ls", "--json"}, opts).out;
    };

    run_once();
    auto calls = github.calls();
    for (const auto& c : calls)
        EXPECT_TRUE(c.status >= 200 && c.status < 300)
            << c.method << " " << c.path << " " << c.status << " " << c.violations;
    ASSERT_GE(calls.size(), 4u);
    // 1. The app's JWT buys an installation token narrowed to this repository.
    EXPECT_EQ(calls[0].method, "POST");
    EXPECT_EQ(calls[0].path, "/app/installations/42/access_tokens");
    std::string jwt = calls[0].authorization.substr(7);
    EXPECT_EQ(jwt.substr(0, jwt.find('.')), core::crypto::base64url_encode(R"({"alg":"RS256","typ":"JWT"})"));
    auto claims =
        json::parse(*core::crypto::base64url_decode(jwt.substr(jwt.find('.') + 1, jwt.rfind('.') - jwt.find('.') - 1)));
    EXPECT_EQ(claims["iss"], "12345");
    EXPECT_LE(claims["exp"].get<long>() - claims["iat"].get<long>(), 600);
    auto grant = json::parse(calls[0].body);
    EXPECT_EQ(grant["repositories"], json::array({"infra"}));
    EXPECT_EQ(grant["permissions"]["pull_requests"], "write");
    // 2. Then the pull request, with the installation token.
    EXPECT_EQ(calls[1].method, "GET");
    EXPECT_EQ(calls[1].path.substr(0, calls[1].path.find('?')), "/repos/acme/infra/pulls");
    EXPECT_EQ(calls[2].method, "POST");
    EXPECT_EQ(calls[2].path, "/repos/acme/infra/pulls");
    EXPECT_EQ(calls[2].authorization.rfind("Bearer ghs_", 0), 0u) << calls[2].authorization;
    auto opened = json::parse(calls[2].body);
    EXPECT_EQ(opened["base"], "main");
    EXPECT_EQ(opened["head"].get<std::string>().rfind("infra-agent/compliance-remediation/", 0), 0u);
    EXPECT_LE(opened["body"].get<std::string>().size(), 65536u);
    EXPECT_NE(opened["body"].get<std::string>().find("CKV2_AWS_6"), std::string::npos);
    EXPECT_EQ(calls[3].path, "/repos/acme/infra/issues/1347/labels");
    EXPECT_EQ(json::parse(calls[3].body)["labels"], json::array({"infra-agent", "security"}));
    auto prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
    ASSERT_EQ(prs.size(), 1u);
    EXPECT_EQ(prs[0]["forge"], "github");
    EXPECT_EQ(prs[0]["number"], 1347);
    EXPECT_EQ(prs[0]["url"], "https://github.com/octocat/Hello-World/pull/1347");  // the description's example

    // The same finding again: the pull request is updated and commented on, never opened twice.
    std::size_t before = calls.size();
    run_once();
    calls = github.calls();
    int posts = 0, patches = 0, comments = 0;
    for (std::size_t i = before; i < calls.size(); ++i) {
        EXPECT_TRUE(calls[i].status >= 200 && calls[i].status < 300) << calls[i].path << " " << calls[i].violations;
        if (calls[i].method == "POST" && calls[i].path == "/repos/acme/infra/pulls") ++posts;
        if (calls[i].method == "PATCH" && calls[i].path == "/repos/acme/infra/pulls/1347") ++patches;
        if (calls[i].method == "POST" && calls[i].path == "/repos/acme/infra/issues/1347/comments") ++comments;
    }
    EXPECT_EQ(posts, 0);
    EXPECT_EQ(patches, 1);
    EXPECT_EQ(comments, 1);
    prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
    ASSERT_EQ(prs.size(), 1u);
    EXPECT_EQ(prs[0]["updates"], 1);
    // Both installation tokens are in the ledger, as hashes.
    auto creds = test::json_lines(run_cli({"creds", "ls", "--all", "--json"}, opts).out);
    ASSERT_FALSE(creds.empty());
    for (const auto& c : creds) EXPECT_EQ(c["provider"], "github-app");
}

}  // namespace
}  // namespace infra
