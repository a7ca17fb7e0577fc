// Approvals where reviewers are, through the binary: a tier-4 production
// change opens its pull request on GitHub (Prism serving GitHub's OpenAPI
// description), and serve reads the reviews and comments on it from signed
// webhook deliveries shaped like GitHub's own examples. A team member's
// approving review approves the plan (the team's membership asked of
// GitHub's API as it arrives), the requester and a non-member are refused
// with a comment that says why, `/infra-agent apply` applies the approved
// plan, and a push after an approval dismisses it.
#include "core/crypto.hpp"
#include "support/git_http.hpp"
#include "support/github_mock.hpp"
#include "support/production_change.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

namespace infra {
namespace {

using nlohmann::json;
using test::run_cli;

constexpr const char* k_comments = "/repos/acme/infra/issues/1347/comments";

/// One of GitHub's sample deliveries (tests/fixtures/samples/github).
json sample(const std::string& name)
{
    std::ifstream in(std::string(INFRA_TEST_FIXTURES) + "/samples/github/deliveries/" + name + ".body.json");
    return json::parse(in);
}

json user_like(const json& user, const std::string& login)
{
    json u = user;
    u["login"] = login;
    u["html_url"] = "https://github.com/" + login;
    return u;
}

/// A sample delivery moved onto acme/infra's pull request 1347 (the number
/// Prism gave the pull request), with login as its sender.
json on_the_pull_request(json body, const std::string& login)
{
    body["repository"]["full_name"] = "acme/infra";
    body["repository"]["name"] = "infra";
    body["repository"]["owner"]["login"] = "acme";
    body["sender"] = user_like(body["sender"], login);
    return body;
}

class ForgeApprovals : public test::ProductionChange {
protected:
    void SetUp() override
    {
        test::ProductionChange::SetUp();
        if (HasFatalFailure()) return;
        ASSERT_TRUE(github.ready()) << github.why();
        // mallory is not in the team: GitHub answers its 404.
        github.prefer("/orgs/acme/teams/platform-oncall/memberships/mallory", "code=404");
        // Tokens are a GitHub App's installation tokens, narrowed to what each call needs.
        auto key = test::run_program("/usr/bin/openssl", {"genrsa", "-out", (dir / "app.pem").string(), "2048"});
        ASSERT_EQ(key.exit_code, 0) << key.err;
        run_reviewed_change(
            "{kind: github, base_url: " + github.url() + ", accept: application/json}", "github",
            "github_team: acme/platform-oncall",
            "creds:\n  provider: github-app\n  github_app:\n    app_id: \"12345\"\n    installation_id: \"42\"\n"
            "    private_key_file: " +
                (dir / "app.pem").string() + "\n");
        if (HasFatalFailure()) return;
        auto prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
        ASSERT_EQ(prs.size(), 1u);
        ASSERT_EQ(prs[0]["number"], 1347);
    }

    /// Posts a signed delivery; the answer's body.
    json deliver(const std::string& event, const json& body)
    {
        last = {{"X-GitHub-Event", event},
                {"X-GitHub-Delivery", "00000000-0000-4000-8000-00000000" + std::to_string(1000 + ++deliveries)}};
        last_body = body.dump();
        return redeliver();
    }

    /// Posts the last delivery again, as GitHub's "Redeliver" does.
    json redeliver()
    {
        httplib::Client http(url);
        http.set_read_timeout(30, 0);
        httplib::Headers h = last;
        h.emplace("X-Hub-Signature-256", "sha256=" + core::crypto::hmac_sha256_hex(k_hook_secret, last_body));
        auto r = http.Post("/hooks/github", h, last_body, "application/json");
        if (!r) return {{"error", "no answer"}};
        EXPECT_EQ(r->status, 200) << r->body << server->err();
        return json::parse(r->body, nullptr, false);
    }

    json review(const std::string& login, const std::string& of_commit)
    {
        json b = on_the_pull_request(sample("pull_request.synchronize_1"), login);
        for (const char* k : {"number", "before", "after"}) b.erase(k);
        b["action"] = "submitted";
        b["pull_request"]["number"] = 1347;
        b["pull_request"]["head"]["ref"] = branch;
        b["pull_request"]["head"]["sha"] = of_commit;
        std::string html = "https://github.com/acme/infra/pull/1347";
        b["review"] = {{"id", 80},
                       {"node_id", "MDE3OlB1bGxSZXF1ZXN0UmV2aWV3ODA="},
                       {"user", b["sender"]},
                       {"body", "The plan changes the bucket's input only."},
                       {"commit_id", of_commit},
                       {"submitted_at", "2026-12-06T18:00:00Z"},
                       {"state", "approved"},
                       {"html_url", html + "#pullrequestreview-80"},
                       {"pull_request_url", "https://api.github.com/repos/acme/infra/pulls/1347"},
                       {"author_association", "MEMBER"},
                       {"_links",
                        {{"html", {{"href", html + "#pullrequestreview-80"}}},
                         {"pull_request", {{"href", "https://api.github.com/repos/acme/infra/pulls/1347"}}}}}};
        return deliver("pull_request_review", b);
    }

    json comment(const std::string& login, const std::string& text)
    {
        json b = on_the_pull_request(sample("issue_comment.created_1"), login);
        b["issue"]["number"] = 1347;
        b["issue"]["pull_request"] = {{"url", "https://api.github.com/repos/acme/infra/pulls/1347"},
                                      {"html_url", "https://github.com/acme/infra/pull/1347"}};
        b["comment"]["user"] = user_like(b["comment"]["user"], login);
        b["comment"]["body"] = text;
        return deliver("issue_comment", b);
    }

    json push(const std::string& login, const std::string& after)
    {
        json b = on_the_pull_request(sample("pull_request.synchronize_1"), login);
        b["number"] = 1347;
        b["pull_request"]["number"] = 1347;
        b["pull_request"]["head"]["ref"] = branch;
        b["pull_request"]["head"]["sha"] = after;
        b["before"] = commit;
        b["after"] = after;
        return deliver("pull_request", b);
    }

    /// The comments serve posted on the pull request, waiting up to wait_ms for at least n.
    std::vector<std::string> comments(std::size_t n = 0, int wait_ms = 0)
    {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
        for (;;) {
            std::vector<std::string> out;
            for (const auto& c : github.calls())
                if (c.method == "POST" && c.path == k_comments) {
                    EXPECT_EQ(c.status, 201) << c.violations;
                    out.push_back(json::parse(c.body)["body"]);
                }
            if (out.size() >= n || std::chrono::steady_clock::now() > deadline) return out;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }

    std::vector<json> events_of(const std::string& type)
    {
        std::vector<json> out;
        for (auto& e : test::json_lines(run_cli({"events", "--task", id, "--json"}, opts).out))
            if (e["event"] == type) out.push_back(e);
        return out;
    }

    test::GitHubMock github;
    int deliveries = 0;
    httplib::Headers last;
    std::string last_body;
};

TEST_F(ForgeApprovals, ATeamMembersReviewApprovesAndACommentApplies)
{
    // alice asked for the task: a member of the team or not, her review does not count.
    auto self = review("alice", commit);
    EXPECT_EQ(self["status"], "refused") << self.dump();
    EXPECT_NE(self["reason"].get<std::string>().find("alice asked for task " + id + " and cannot approve it"),
              std::string::npos)
        << self;
    // mallory is not in acme/platform-oncall, GitHub says when asked.
    auto outsider = comment("mallory", "/infra-agent approve");
    EXPECT_EQ(outsider["status"], "refused") << outsider.dump();
    EXPECT_NE(
        outsider["reason"].get<std::string>().find("mallory is not a member of the GitHub team acme/platform-oncall"),
        std::string::npos)
        << outsider;
    // No approval of the plan yet: `/infra-agent apply` is refused.
    auto early = comment("dana", "/infra-agent apply");
    EXPECT_EQ(early["status"], "refused") << early.dump();
    EXPECT_NE(early["reason"].get<std::string>().find("waits for approval by platform-oncall"), std::string::npos)
        << early;

    // A group the task does not wait for is named.
    auto other = comment("carol", "/infra-agent approve security");
    EXPECT_EQ(other["status"], "refused") << other.dump();
    EXPECT_NE(other["reason"].get<std::string>().find("needs approvals from platform-oncall, not 'security'"),
              std::string::npos)
        << other;

    auto said = comments(4);
    ASSERT_EQ(said.size(), 4u);
    EXPECT_NE(said[0].find("@alice, your approval does not count for task `" + id + "`: alice asked for task"),
              std::string::npos)
        << said[0];
    EXPECT_NE(said[1].find("@mallory, your approval does not count"), std::string::npos) << said[1];
    EXPECT_NE(said[1].find("is not a member of the GitHub team acme/platform-oncall"), std::string::npos) << said[1];
    EXPECT_NE(said[2].find("`/infra-agent apply` was refused"), std::string::npos) << said[2];
    EXPECT_NE(said[3].find("Name the group you approve for: /infra-agent approve GROUP."), std::string::npos)
        << said[3];

    // carol is in the team (GitHub's example membership: active), and reviewed the plan's commit.
    auto approved = review("carol", commit);
    ASSERT_EQ(approved["status"], "approved") << approved.dump() << server->err();
    EXPECT_EQ(approved["group"], "platform-oncall");
    EXPECT_EQ(approved["planSha256"], sha);
    EXPECT_EQ(approved["waiting"], json::array());
    // Asked of GitHub with an installation token that may read the organization's members, and nothing else.
    bool minted = false, asked = false;
    for (const auto& c : github.calls()) {
        if (c.method == "POST" && c.path == "/app/installations/42/access_tokens")
            minted = minted || json::parse(c.body)["permissions"] == json{{"members", "read"}};
        if (c.method == "GET" && c.path == "/orgs/acme/teams/platform-oncall/memberships/carol") {
            asked = true;
            EXPECT_TRUE(minted);
            EXPECT_EQ(c.status, 200) << c.violations;
            EXPECT_EQ(c.authorization.rfind("Bearer ghs_", 0), 0u) << c.authorization;
        }
    }
    EXPECT_TRUE(asked);
    EXPECT_NE(comments(5).back().find("approved for platform-oncall by @carol"), std::string::npos);

    // A redelivery changes nothing, and says nothing.
    auto twice = redeliver();
    EXPECT_EQ(twice["status"], "duplicate") << twice.dump();
    EXPECT_EQ(twice["taskIds"], json::array({id}));
    auto applying = comment("dana", "/infra-agent apply");
    ASSERT_EQ(applying["status"], "applying") << applying.dump();
    auto done = comments(6, 120000);
    ASSERT_EQ(done.size(), 6u) << server->err();
    EXPECT_NE(done.back().find("Applied plan sha256 `" + sha + "` of task `" + id +
                               "` as @dana asked; approved by carol (platform-oncall)"),
              std::string::npos)
        << done.back();
    std::string state = test::read_file(dir / "state" / "terraform.tfstate");
    EXPECT_NE(state.find("\"v2\""), std::string::npos) << state;
    EXPECT_EQ(server->stop(SIGTERM), 0) << server->err();

    // Each step is in the audit log, which verifies.
    auto refused = events_of("approval.refused");
    ASSERT_EQ(refused.size(), 3u);
    EXPECT_EQ(refused[0]["data"]["by"], "alice");
    EXPECT_EQ(refused[0]["data"]["via"], "review");
    EXPECT_EQ(refused[1]["data"]["by"], "mallory");
    EXPECT_EQ(refused[1]["data"]["via"], "comment");
    EXPECT_EQ(events_of("apply.refused").size(), 1u);
    auto plan_approved = events_of("plan.approved");
    ASSERT_EQ(plan_approved.size(), 1u);
    EXPECT_EQ(plan_approved[0]["data"]["by"], "carol");
    ASSERT_EQ(events_of("apply.requested").size(), 1u);
    auto finished = events_of("apply.finished");
    ASSERT_EQ(finished.size(), 1u);
    EXPECT_EQ(finished[0]["data"]["outcome"], "applied");
    EXPECT_EQ(finished[0]["data"]["by"], "dana");
    EXPECT_EQ(run_cli({"audit", "verify"}, opts).exit_code, 0);
}

TEST_F(ForgeApprovals, APushAfterAnApprovalDismissesIt)
{
    ASSERT_EQ(review("carol", commit)["status"], "approved");
    // The bot's own push (the plan's commit) dismisses nothing.
    EXPECT_EQ(push("infra-agent[bot]", commit)["status"], "ignored");

    // A person pushes to the branch: the plan no longer matches it.
    test::TempDir clone;
    test::git(clone.path(), "clone -q -b " + branch + " " + (dir / "acme.git").string() + " work");
    test::write_file(clone / "work" / "infra" / "notes.md", "later\n");
    test::git(clone / "work", "add -A");
    test::git(clone / "work", "-c user.name=m -c user.email=m@example.com commit -q -m later");
    test::git(clone / "work", "push -q origin " + branch);
    std::string head = test::git(clone / "work", "rev-parse HEAD");
    while (!head.empty() && head.back() == '\n') head.pop_back();
    ASSERT_NE(head, commit);

    auto dismissed = push("mallory", head);
    ASSERT_EQ(dismissed["status"], "dismissed") << dismissed.dump();
    ASSERT_EQ(dismissed["dismissed"].size(), 1u);
    EXPECT_EQ(dismissed["dismissed"][0]["by"], "carol");
    auto said = comments(2);
    ASSERT_EQ(said.size(), 2u);
    EXPECT_NE(said[1].find("the approvals by carol (platform-oncall) are dismissed"), std::string::npos) << said[1];
    // The approval no longer counts; a review of the new head approves no plan, and
    // neither does a comment, which names no commit.
    auto again = review("carol", head);
    EXPECT_EQ(again["status"], "refused");
    EXPECT_NE(again["reason"].get<std::string>().find("the review is of commit " + head.substr(0, 12) +
                                                      ", and the saved plan was made at " + commit.substr(0, 12)),
              std::string::npos)
        << again;
    auto by_comment = comment("carol", "/infra-agent approve");
    EXPECT_EQ(by_comment["status"], "refused");
    EXPECT_NE(by_comment["reason"].get<std::string>().find("commit " + head.substr(0, 12) +
                                                           " was pushed after the saved plan was made"),
              std::string::npos)
        << by_comment;
    // Another push finds the plan stale already, and says nothing more.
    EXPECT_EQ(push("mallory", head)["status"], "ignored");
    EXPECT_EQ(comments().size(), 4u);
    EXPECT_EQ(server->stop(SIGTERM), 0) << server->err();
    auto apply = run_cli({"apply", id, "--as", "dana"}, opts);
    EXPECT_EQ(apply.exit_code, 4) << apply.err;
    EXPECT_NE(apply.err.find("waits for approval by platform-oncall"), std::string::npos) << apply.err;
    auto audit = events_of("approval.dismissed");
    ASSERT_EQ(audit.size(), 1u);
    EXPECT_EQ(audit[0]["data"]["by"], "mallory");
    EXPECT_EQ(audit[0]["data"]["commit"], head);
    EXPECT_EQ(audit[0]["data"]["planSha256"], sha);
}

}  // namespace
}  // namespace infra
