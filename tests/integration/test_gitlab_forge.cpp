// The gitlab forge through the real binary, against a loopback server that
// speaks GitLab's merge request API (/api/v4) and keeps its merge requests
// in memory: one merge request per finding, updated (with a note) by the
// next run of the same finding, with the token from forge.token_env; and a
// tier-4 change approved on its merge request by a member of the GitLab
// group its approval group maps to, and applied by a note, while the
// approval of an ordinary merge request is left alone.
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/production_change.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <thread>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

class GitLabServer {
public:
    explicit GitLabServer(std::string token) : m_token(std::move(token))
    {
        auto auth = [this](const httplib::Request& req, httplib::Response& res) {
            if (req.target.find("/projects/acme%2Finfra/") == std::string::npos &&
                req.target.find("/groups/") == std::string::npos) {
                res.status = 404;
                res.set_content(R"({"message":"404 Project Not Found"})", "application/json");
                return false;
            }
            if (req.get_header_value("Authorization") == "Bearer " + m_token) return true;
            res.status = 401;
            res.set_content(R"({"message":"401 Unauthorized"})", "application/json");
            return false;
        };
        // GitLab names a project by its URL-encoded path; cpp-httplib decodes
        // the path before routing, so the encoding is checked on the raw target.
        const std::string project = "/api/v4/projects/acme/infra";
        server.Get(project + "/merge_requests", [this, auth](const httplib::Request& req, httplib::Response& res) {
            if (!auth(req, res)) return;
            std::lock_guard lock(m);
            log.push_back("GET list");
            json out = json::array();
            for (const auto& mr : mrs)
                if (mr["source_branch"] == req.get_param_value("source_branch") && mr["state"] == "opened")
                    out.push_back(mr);
            res.set_content(out.dump(), "application/json");
        });
        server.Post(project + "/merge_requests", [this, auth](const httplib::Request& req, httplib::Response& res) {
            if (!auth(req, res)) return;
            std::lock_guard lock(m);
            log.push_back("POST merge_requests");
            json body = json::parse(req.body, nullptr, false);
            for (const char* k : {"source_branch", "target_branch", "title"})
                if (!body.is_object() || !body.contains(k) || !body[k].is_string()) {
                    res.status = 400;
                    res.set_content(json({{"message", std::string(k) + " is missing"}}).dump(), "application/json");
                    return;
                }
            json mr = body;
            mr["iid"] = static_cast<int>(mrs.size()) + 1;
            mr["state"] = "opened";
            mr["web_url"] = "http://gitlab.test/acme/infra/-/merge_requests/" + std::to_string(mr["iid"].get<int>());
            mrs.push_back(mr);
            res.status = 201;
            res.set_content(mr.dump(), "application/json");
        });
        server.Put(project + R"(/merge_requests/(\d+))",
                   [this, auth](const httplib::Request& req, httplib::Response& res) {
                       if (!auth(req, res)) return;
                       std::lock_guard lock(m);
                       log.push_back("PUT merge_request");
                       int iid = std::stoi(req.matches[1]);
                       if (iid < 1 || iid > static_cast<int>(mrs.size())) {
                           res.status = 404;
                           res.set_content(R"({"message":"404 Not found"})", "application/json");
                           return;
                       }
                       json& mr = mrs[iid - 1];
                       json changes = json::parse(req.body);
                       for (auto& [k, v] : changes.items())
                           if (k != "state_event") mr[k] = v;
                       if (changes.value("state_event", "") == "close") mr["state"] = "closed";
                       if (changes.value("state_event", "") == "reopen" && mr["state"] == "closed")
                           mr["state"] = "opened";
                       res.set_content(mr.dump(), "application/json");
                   });
        server.Get(project + R"(/merge_requests/(\d+))",
                   [this, auth](const httplib::Request& req, httplib::Response& res) {
                       if (!auth(req, res)) return;
                       std::lock_guard lock(m);
                       log.push_back("GET merge_request");
                       int iid = std::stoi(req.matches[1]);
                       if (iid < 1 || iid > static_cast<int>(mrs.size())) {
                           res.status = 404;
                           res.set_content(R"({"message":"404 Not found"})", "application/json");
                           return;
                       }
                       res.set_content(mrs[iid - 1].dump(), "application/json");
                   });
        server.Post(project + R"(/merge_requests/(\d+)/notes)",
                    [this, auth](const httplib::Request& req, httplib::Response& res) {
                        if (!auth(req, res)) return;
                        std::lock_guard lock(m);
                        log.push_back("POST note");
                        notes.push_back(json::parse(req.body)["body"]);
                        res.status = 201;
                        res.set_content(R"({"id":1})", "application/json");
                    });
        // The members of a group, its subgroups' and inherited ones, as
        // GitLab lists them; ?query= matches usernames and names alike.
        server.Get(R"(/api/v4/groups/(.+)/members/all)",
                   [this, auth](const httplib::Request& req, httplib::Response& res) {
                       if (!auth(req, res)) return;
                       std::lock_guard lock(m);
                       log.push_back("GET members " + req.get_param_value("query"));
                       if (req.target.find("/groups/acme%2Fplatform-oncall/") == std::string::npos) {
                           res.status = 404;
                           res.set_content(R"({"message":"404 Group Not Found"})", "application/json");
                           return;
                       }
                       json out = json::array();
                       std::string query = req.get_param_value("query");
                       for (const auto& member : members)
                           if (member["username"].get<std::string>().find(query) != std::string::npos ||
                               member["name"].get<std::string>().find(query) != std::string::npos)
                               out.push_back(member);
                       res.set_content(out.dump(), "application/json");
                   });
        port = server.bind_to_any_port("127.0.0.1");
        thread = std::thread([this] { server.listen_after_bind(); });
    }
    ~GitLabServer()
    {
        server.stop();
        thread.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/api/v4"; }

    httplib::Server server;
    std::thread thread;
    int port = 0;
    std::mutex m;
    std::vector<json> mrs;
    std::vector<std::string> notes, log;
    /// acme/platform-oncall: carol, and caroline (whose name a search for carol finds too)
    json members = json::array(
        {{{"id", 31}, {"username", "carol"}, {"name", "Carol Reviewer"}, {"state", "active"}, {"access_level", 30}},
         {{"id", 32}, {"username", "caroline"}, {"name", "Caroline"}, {"state", "active"}, {"access_level", 30}},
         {{"id", 33}, {"username", "ivan"}, {"name", "Ivan Carol"}, {"state", "awaiting"}, {"access_level", 30}}});

private:
    std::string m_token;
};

/// A bare remote (acme.git) of the scanned repository and a state home beside it.
test::RunOptions bare_remote_and_home(const test::TempDir& dir)
{
    test::checkout_scanned_repo(dir / "seed");
    test::git(dir.path(), "clone -q --bare seed acme.git");
    test::RunOptions opts;
    opts.cwd = dir.path().string();
    opts.env["INFRA_AGENT_HOME"] = (dir / ".infra-agent").string();
    opts.env["CI_GITLAB_TOKEN"] = "glpat-test-token";
    EXPECT_EQ(run_cli({"init"}, opts).exit_code, 0);
    return opts;
}

TEST(GitLabForge, OneMergeRequestPerFinding)
{
    GitLabServer gitlab("glpat-test-token");
    test::TempDir dir;
    auto opts = bare_remote_and_home(dir);
    test::write_file(
        dir / ".infra-agent" / "config.yaml",
        "forge:\n  kind: gitlab\n  base_url: " + gitlab.url() +
            "\n  token_env: CI_GITLAB_TOKEN\n"
            "validation:\n  steps:\n    - [grep, -q, aws_s3_bucket_public_access_block, \"{dir}/main.tf\"]\n");
    for (int run = 0; run < 2; ++run) {
        auto tasks =
            run_cli({"ingest", "checkov",
                     (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string(),
                     "--repo", "acme/infra"},
                    opts);
        auto o = opts;
        o.stdin_data = tasks.out.substr(0, tasks.out.find('\n') + 1);
        ASSERT_EQ(run_cli({"enqueue"}, o).exit_code, 0);
        auto w = run_cli({"worker", "--drain", "--json", "--repo", (dir / "acme.git").string()}, opts);
        ASSERT_EQ(w.exit_code, 0) << w.err;
        EXPECT_NE(w.out.find("\"succeeded\":1"), std::string::npos)
            << w.out << w.err << run_cli({"queue", "ls", "--json"}, opts).out;
    }
    std::lock_guard lock(gitlab.m);
    ASSERT_EQ(gitlab.mrs.size(), 1u);
    EXPECT_EQ(gitlab.mrs[0]["target_branch"], "main");
    EXPECT_EQ(gitlab.mrs[0]["labels"], "infra-agent");
    EXPECT_EQ(gitlab.mrs[0]["source_branch"].get<std::string>().rfind("infra-agent/compliance-remediation/", 0), 0u);
    ASSERT_EQ(gitlab.notes.size(), 1u);
    EXPECT_NE(gitlab.notes[0].find("infra-agent ran again"), std::string::npos) << gitlab.notes[0];
    EXPECT_EQ(gitlab.log,
              (std::vector<std::string>{"GET list", "POST merge_requests", "PUT merge_request", "POST note"}));
    auto show = json::parse(run_cli({"pr", "show", "1", "--json"}, opts).out);
    EXPECT_EQ(show["forge"], "gitlab");
    EXPECT_EQ(show["url"], "http://gitlab.test/acme/infra/-/merge_requests/1");
    EXPECT_EQ(show["updates"], 1);
    // The token came through the ledger (env provider), as a hash.
    auto creds = run_cli({"creds", "ls", "--all", "--json"}, opts);
    EXPECT_NE(creds.out.find("\"provider\":\"env\""), std::string::npos) << creds.out;
    EXPECT_EQ(creds.out.find("glpat-test-token"), std::string::npos);
}

/// GitLab's webhook bodies (docs: "Webhook events"), on acme/infra's merge request 1.
class GitLabApprovals : public test::ProductionChange {
protected:
    void SetUp() override
    {
        test::ProductionChange::SetUp();
        if (HasFatalFailure()) return;
        opts.env["CI_GITLAB_TOKEN"] = "glpat-test-token";
        run_reviewed_change("{kind: gitlab, base_url: " + gitlab.url() + ", token_env: CI_GITLAB_TOKEN}", "gitlab",
                            "gitlab_group: acme/platform-oncall");
    }

    json user(const std::string& username)
    {
        return {{"id", 40 + username.size()},
                {"name", username},
                {"username", username},
                {"avatar_url", "https://gitlab.test/uploads/user/avatar/" + username + ".png"},
                {"email", "[REDACTED]"}};
    }

    json project()
    {
        return {{"id", 15},
                {"name", "infra"},
                {"web_url", "http://gitlab.test/acme/infra"},
                {"path_with_namespace", "acme/infra"},
                {"default_branch", "main"},
                {"namespace", "acme"}};
    }

    json merge_request(const std::string& action, int iid)
    {
        return {{"iid", iid},
                {"id", 98 + iid},
                {"source_branch", branch},
                {"target_branch", "main"},
                {"state", "opened"},
                {"action", action},
                {"title", "infra-agent: production drift"},
                {"url", "http://gitlab.test/acme/infra/-/merge_requests/1"},
                {"last_commit", {{"id", commit}, {"message", "infra-agent: drift"}}}};
    }

    json approval(const std::string& username, int iid = 1)
    {
        return deliver("Merge Request Hook", {{"object_kind", "merge_request"},
                                              {"event_type", "merge_request"},
                                              {"user", user(username)},
                                              {"project", project()},
                                              {"object_attributes", merge_request("approval", iid)}});
    }

    json note(const std::string& username, const std::string& text, int iid = 1)
    {
        return deliver("Note Hook", {{"object_kind", "note"},
                                     {"event_type", "note"},
                                     {"user", user(username)},
                                     {"project", project()},
                                     {"object_attributes",
                                      {{"id", 1244},
                                       {"note", text},
                                       {"noteable_type", "MergeRequest"},
                                       {"url", "http://gitlab.test/acme/infra/-/merge_requests/1#note_1244"}}},
                                     {"merge_request", merge_request("", iid)}});
    }

    json deliver(const std::string& event, const json& body)
    {
        httplib::Client http(url);
        http.set_read_timeout(30, 0);
        auto r =
            http.Post("/hooks/gitlab",
                      {{"X-Gitlab-Event", event},
                       {"X-Gitlab-Token", k_hook_secret},
                       {"X-Gitlab-Event-UUID", "13792a34-cac6-4fda-95a8-c58e00a3954" + std::to_string(++deliveries)}},
                      body.dump(), "application/json");
        if (!r) return {{"error", "no answer"}};
        EXPECT_EQ(r->status, 200) << r->body << server->err();
        return json::parse(r->body, nullptr, false);
    }

    std::vector<std::string> notes(std::size_t n, int wait_ms = 0)
    {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
        for (;;) {
            {
                std::lock_guard lock(gitlab.m);
                if (gitlab.notes.size() >= n || std::chrono::steady_clock::now() > deadline) return gitlab.notes;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    }

    GitLabServer gitlab{"glpat-test-token"};
    int deliveries = 0;
};

TEST_F(GitLabApprovals, AGroupMembersApprovalCountsAndANoteApplies)
{
    // Neither mallory nor ivan (invited, not yet a member) is an active member of acme/platform-oncall.
    for (const char* outsider : {"mallory", "ivan"}) {
        auto refused = approval(outsider);
        EXPECT_EQ(refused["status"], "refused") << refused.dump();
        EXPECT_NE(refused["reason"].get<std::string>().find(
                      std::string(outsider) + " is not a member of the GitLab group acme/platform-oncall"),
                  std::string::npos)
            << refused;
    }
    // A wrong token is refused before anything is read.
    httplib::Client http(url);
    auto forged = http.Post("/hooks/gitlab", {{"X-Gitlab-Event", "Note Hook"}, {"X-Gitlab-Token", "guess"}}, "{}",
                            "application/json");
    ASSERT_TRUE(forged);
    EXPECT_EQ(forged->status, 401);

    auto approved = approval("carol");
    ASSERT_EQ(approved["status"], "approved") << approved.dump() << server->err();
    EXPECT_EQ(approved["planSha256"], sha);
    auto applying = note("carol", "/infra-agent apply");
    ASSERT_EQ(applying["status"], "applying") << applying.dump();
    auto said = notes(4, 120000);
    ASSERT_EQ(said.size(), 4u) << server->err();
    EXPECT_NE(said[0].find("@mallory, your approval does not count"), std::string::npos) << said[0];
    EXPECT_NE(said[2].find("approved for platform-oncall by @carol"), std::string::npos) << said[2];
    EXPECT_NE(said[3].find("Applied plan sha256 `" + sha + "`"), std::string::npos) << said[3];
    EXPECT_NE(test::read_file(dir / "state" / "terraform.tfstate").find("\"v2\""), std::string::npos);
    EXPECT_EQ(server->stop(SIGTERM), 0) << server->err();
    {
        std::lock_guard lock(gitlab.m);
        EXPECT_NE(std::find(gitlab.log.begin(), gitlab.log.end(), "GET members carol"), gitlab.log.end());
    }

    // A staging change is an ordinary merge request (tier 2): approving it is how it gets merged,
    // and says nothing; asking infra-agent to approve it is answered.
    std::string staging = enqueue_staging_change();
    // Staging's state is not on this machine: its validation is a check of the file.
    test::write_file(home() / "config.yaml",
                     test::read_file(home() / "config.yaml") +
                         "validation:\n  steps:\n    - [grep, -q, terraform_data, \"{dir}/main.tf\"]\n");
    auto w = run_cli({"worker", "--drain", "--json"}, opts);
    ASSERT_EQ(test::json_lines(w.out).back()["succeeded"], 1)
        << w.out << w.err << run_cli({"queue", "show", staging, "--json"}, opts).out;
    {
        std::lock_guard lock(gitlab.m);
        ASSERT_EQ(gitlab.mrs.size(), 2u);
    }
    test::Background again({"serve", "--listen", "127.0.0.1:0"}, opts);
    url = json::parse(again.read_line(20000))["url"];
    auto merged = approval("carol", 2);
    EXPECT_EQ(merged["status"], "ignored") << merged.dump();
    auto asked = note("carol", "/infra-agent approve", 2);
    EXPECT_EQ(asked["status"], "refused") << asked.dump();
    said = notes(5);
    ASSERT_EQ(said.size(), 5u);
    EXPECT_NE(said[4].find("task " + staging + " is succeeded, and nothing of it waits for approval"),
              std::string::npos)
        << said[4];
    EXPECT_EQ(again.stop(SIGTERM), 0) << again.err();
}

// GitLab's merge request webhook (X-Gitlab-Token, object_attributes.action)
// and its API (the merge request's state) say what became of a bot merge
// request: closed, it declines its findings until `pr reopen` (which opens
// it again on GitLab); merged, its findings are resolved and its branch deleted.
TEST(GitLabForge, MergeRequestsAreFollowedThroughTheWebhookAndTheApi)
{
    GitLabServer gitlab("glpat-test-token");
    test::TempDir dir;
    auto opts = bare_remote_and_home(dir);
    opts.env["GL_SECRET"] = "gitlab-hook-secret";
    test::write_file(
        dir / ".infra-agent" / "config.yaml",
        "forge:\n  kind: gitlab\n  base_url: " + gitlab.url() +
            "\n  token_env: CI_GITLAB_TOKEN\n"
            "repository:\n  id: acme/infra\n"
            "pr:\n  group_by: resource\n"
            "git:\n  repo: " +
            (dir / "acme.git").string() +
            "\n"
            "webhooks:\n  gitlab: {secret_env: GL_SECRET}\n"
            "validation:\n  steps:\n    - [grep, -q, aws_s3_bucket_public_access_block, \"{dir}/main.tf\"]\n");
    auto tasks = run_cli({"ingest", "checkov",
                          (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string()},
                         opts);
    auto o = opts;
    o.stdin_data = tasks.out.substr(0, tasks.out.find('\n') + 1);
    ASSERT_EQ(run_cli({"enqueue"}, o).exit_code, 0);
    ASSERT_EQ(run_cli({"worker", "--drain"}, opts).exit_code, 0);
    std::string branch = json::parse(run_cli({"pr", "show", "1", "--json"}, opts).out)["branch"];
    EXPECT_TRUE(test::json_lines(run_cli({"pr", "sync", "--json"}, opts).out).empty());  // open on GitLab, up to date

    // The webhook: closed by a person.
    json event = {
        {"object_kind", "merge_request"},
        {"event_type", "merge_request"},
        {"user", {{"username", "root"}}},
        {"project", {{"path_with_namespace", "acme/infra"}}},
        {"object_attributes", {{"iid", 1}, {"action", "close"}, {"state", "closed"}, {"source_branch", branch}}}};
    {
        test::Background serve({"serve", "--listen", "127.0.0.1:0"}, opts);
        auto listening = json::parse(serve.read_line(20000), nullptr, false);
        ASSERT_TRUE(listening.is_object()) << serve.err();
        httplib::Client http(listening["url"].get<std::string>());
        http.set_read_timeout(30, 0);
        auto wrong = http.Post("/hooks/gitlab", {{"X-Gitlab-Event", "Merge Request Hook"}, {"X-Gitlab-Token", "guess"}},
                               event.dump(), "application/json");
        ASSERT_TRUE(wrong);
        EXPECT_EQ(wrong->status, 401);
        auto res = http.Post("/hooks/gitlab",
                             {{"X-Gitlab-Event", "Merge Request Hook"}, {"X-Gitlab-Token", "gitlab-hook-secret"}},
                             event.dump(), "application/json");
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 200) << res->body;
        EXPECT_EQ(json::parse(res->body)["transition"]["event"], "pr.declined") << res->body;
        EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.err();
    }
    auto pr = json::parse(run_cli({"pr", "show", "1", "--json"}, opts).out);
    EXPECT_EQ(pr["state"], "closed");
    EXPECT_NE(pr["reason"].get<std::string>().find("closed without merging by root"), std::string::npos) << pr.dump();

    // Reopened here, it is reopened on GitLab.
    ASSERT_EQ(run_cli({"pr", "reopen", "1", "--as", "root"}, opts).exit_code, 0);
    {
        std::lock_guard lock(gitlab.m);
        EXPECT_EQ(gitlab.mrs[0]["state"], "opened");
        // Then merged on GitLab, with no webhook: the reconcile pass asks the API.
        gitlab.mrs[0]["state"] = "merged";
        gitlab.mrs[0]["merged_by"] = {{"username", "maintainer"}};
    }
    auto sync = test::json_lines(run_cli({"pr", "sync", "--json"}, opts).out);
    ASSERT_EQ(sync.size(), 1u);
    EXPECT_EQ(sync[0]["event"], "pr.merged");
    EXPECT_NE(sync[0]["reason"].get<std::string>().find("merged by maintainer"), std::string::npos) << sync[0].dump();
    EXPECT_EQ(test::git(dir / "acme.git", "branch --list " + branch), "");
    EXPECT_EQ(json::parse(run_cli({"pr", "show", "1", "--json"}, opts).out)["state"], "merged");
}

}  // namespace
}  // namespace infra
