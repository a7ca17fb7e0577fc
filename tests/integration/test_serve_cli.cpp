// `serve` as a deployment runs it: a signed GitHub delivery becomes a task,
// an in-process worker fixes it and pushes a branch to a bare remote, the
// REST API shows the result; replays, bad signatures, malformed and
// oversized bodies, unknown tokens and slow clients are refused while the
// server keeps serving; SIGTERM stops it cleanly.
#include "core/creds/broker.hpp"
#include "core/crypto.hpp"
#include "core/git.hpp"
#include "core/home.hpp"
#include "core/state.hpp"
#include "core/timeutil.hpp"
#include "plugins/credentials/providers.hpp"
#include "plugins/queues/sqlite_queue.hpp"
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <csignal>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

constexpr const char* k_secret = "It's a Secret to Everybody";
constexpr const char* k_ana = "ana-token-0123456789abcdef";
constexpr const char* k_bob = "bob-token-0123456789abcdef";
constexpr const char* k_ana_again = "ana-second-token-0123456789";
constexpr const char* k_mallory = "mallory-token-0123456789abcdef";

/// A GitHub code-scanning alert for the fixture's unprotected bucket, in
/// the shape of GitHub's own sample delivery.
std::string code_scanning_alert()
{
    std::ifstream in(std::string(INFRA_TEST_FIXTURES) +
                     "/samples/github/deliveries/code_scanning_alert.created_1.body.json");
    json body = json::parse(in);
    auto& alert = body["alert"];
    alert["tool"] = {{"name", "Checkov"}, {"version", "3.2.0"}};
    alert["rule"]["id"] = "CKV2_AWS_6";
    alert["rule"]["description"] = "Ensure that S3 bucket has a Public Access block";
    alert["most_recent_instance"] = {{"ref", "refs/heads/main"},
                                     {"location", {{"path", "main.tf"}, {"start_line", 6}, {"end_line", 8}}},
                                     {"message", {{"text", "S3 bucket has no public access block"}}}};
    body["repository"]["full_name"] = "acme/infra";
    return body.dump();
}

httplib::Headers github_headers(const std::string& body, const std::string& event, const std::string& delivery)
{
    return {{"X-GitHub-Event", event},
            {"X-GitHub-Delivery", delivery},
            {"X-Hub-Signature-256", "sha256=" + core::crypto::hmac_sha256_hex(k_secret, body)}};
}

class ServeCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        fs::create_directories(dir / "remote");
        test::checkout_scanned_repo(dir / "seed");
        test::git(dir / "remote", "clone -q --bare ../seed acme.git");
        opts.cwd = dir.path().string();
        opts.env["INFRA_AGENT_HOME"] = home().string();
        opts.env["GH_SECRET"] = k_secret;
        opts.env["AM_TOKEN"] = "alertmanager-token";
        ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
        test::write_file(dir / "tokens", std::string("# name token\nana ") + k_ana + "\nbob " + k_bob + "\n");
    }

    void configure(const std::string& extra = "")
    {
        test::write_file(home() / "config.yaml",
                         "webhooks:\n" + hooks + "serve:\n  api_tokens_file: " + (dir / "tokens").string() +
                             "\n  io_timeout: 2s\n" + serve_extra +
                             "git:\n  repo: " + (dir / "remote" / "acme.git").string() +
                             "\n"
                             "validation:\n  steps:\n    - name: public access block present\n"
                             "      run: [grep, -q, aws_s3_bucket_public_access_block, \"{dir}/main.tf\"]\n" +
                             extra);
    }

    /// Starts serve and returns its base URL.
    std::string start(const std::vector<std::string>& extra = {})
    {
        std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0"};
        args.insert(args.end(), extra.begin(), extra.end());
        server = std::make_unique<test::Background>(args, opts);
        std::string line = server->read_line(20000);
        auto j = json::parse(line, nullptr, false);
        EXPECT_TRUE(j.is_object()) << "serve printed: " << line << "\n" << server->err();
        return j.is_object() ? j["url"].get<std::string>() : "";
    }

    fs::path home() const { return dir / "home"; }

    std::string hooks = "  github: {secret_env: GH_SECRET}\n  alertmanager: {secret_env: AM_TOKEN}\n";
    std::string serve_extra;  ///< more keys of the serve: section

    test::TempDir dir;
    test::RunOptions opts;
    std::unique_ptr<test::Background> server;
};

// serve's HTTP server is a module loaded beside the binary: a binary copied
// without it still runs every other command, and serve says what is wrong.
TEST(ServeModule, ABinaryWithoutItsHttpModuleSaysSoAndOtherCommandsRun)
{
    test::TempDir dir;
    fs::copy_file(INFRA_AGENT_BIN, dir / "infra-agent");
    fs::permissions(dir / "infra-agent", fs::perms::owner_all);
    std::string bin = (dir / "infra-agent").string();
    auto v = test::run_program(bin, {"version"});
    EXPECT_EQ(v.exit_code, 0) << v.err;
    auto r = test::run_program(bin, {"serve", "--listen", "127.0.0.1:0", "--home", (dir / "home").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("infra-agent's module infra-agent-http.so is not installed (looked in " + dir.path().string()),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("hint: reinstall infra-agent"), std::string::npos) << r.err;
}

TEST_F(ServeCli, SignedDeliveryBecomesAPullRequestOnABareRemote)
{
    // A Slack-compatible incoming webhook on loopback hears that the pull request is ready.
    httplib::Server slack;
    std::mutex m;
    std::vector<std::string> said;
    slack.Post("/services/T1/B1/secret", [&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(m);
        said.push_back(json::parse(req.body)["text"]);
        res.set_content("ok", "text/plain");
    });
    int slack_port = slack.bind_to_any_port("127.0.0.1");
    std::thread slack_thread([&] { slack.listen_after_bind(); });
    opts.env["INFRA_AGENT_SLACK_WEBHOOK_URL"] =
        "http://127.0.0.1:" + std::to_string(slack_port) + "/services/T1/B1/secret";

    configure();
    std::string url = start({"--workers", "1", "--log-level", "trace", "--log-format", "json"});
    ASSERT_FALSE(url.empty());
    httplib::Client http(url);
    http.set_read_timeout(30, 0);

    // The sender's W3C trace context comes along.
    const std::string sender_trace = "0af7651916cd43dd8448eb211c80319c";
    std::string body = code_scanning_alert();
    auto traced = github_headers(body, "code_scanning_alert", "d-1");
    traced.emplace("traceparent", "00-" + sender_trace + "-b7ad6b7169203331-01");
    auto r = http.Post("/hooks/github", traced, body, "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
    auto accepted = json::parse(r->body);
    ASSERT_EQ(accepted["taskIds"].size(), 1u);
    std::string id = accepted["taskIds"][0];

    // The in-process worker fixes it, validates, pushes and records the pull request.
    httplib::Headers bob = {{"Authorization", std::string("Bearer ") + k_bob}};
    json task;
    for (int i = 0; i < 600; ++i) {
        auto t = http.Get("/v1/tasks/" + id, bob);
        ASSERT_TRUE(t);
        ASSERT_EQ(t->status, 200) << t->body;
        task = json::parse(t->body);
        if (task["state"] != "queued" && task["state"] != "leased") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(task["state"], "succeeded") << task.dump(2) << "\n" << server->err();
    const auto& change = task["result"]["change"];
    EXPECT_EQ(change["state"], "opened") << change.dump();
    std::string branch = change["branch"];
    EXPECT_NE(test::git(dir / "remote" / "acme.git", "branch --list " + branch), "") << branch;
    std::string fixed = test::git(dir / "remote" / "acme.git", "show " + branch + ":main.tf");
    EXPECT_NE(fixed.find("aws_s3_bucket_public_access_block"), std::string::npos);

    // Its events, through the API.
    auto ev = http.Get("/v1/tasks/" + id + "/events", bob);
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->status, 200);
    EXPECT_NE(ev->body.find("\"change.delivered\""), std::string::npos) << ev->body;

    // GitHub redelivers: the same delivery id makes no second task.
    r = http.Post("/hooks/github", github_headers(body, "code_scanning_alert", "d-1"), body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(json::parse(r->body)["taskIds"], json::array({id}));
    EXPECT_EQ(test::json_lines(run_cli({"queue", "ls", "--json"}, opts).out).size(), 1u);

    // /metrics: the server's counters and what the state store recorded, in a form promtool accepts.
    auto scraped = http.Get("/metrics");
    ASSERT_TRUE(scraped);
    test::RunOptions check;
    check.stdin_data = scraped->body;
    auto promtool = test::run_program("/usr/bin/promtool", {"check", "metrics"}, check);
    EXPECT_EQ(promtool.exit_code, 0) << promtool.out << promtool.err;
    EXPECT_NE(scraped->body.find(
                  "infra_agent_task_duration_seconds_count{type=\"compliance-remediation\",outcome=\"succeeded\"} 1\n"),
              std::string::npos)
        << scraped->body;
    EXPECT_NE(scraped->body.find("infra_agent_webhook_deliveries_total{source=\"github\",outcome=\"accepted\"} 1\n"),
              std::string::npos)
        << scraped->body;

    EXPECT_EQ(server->stop(SIGTERM), 0) << server->err();
    EXPECT_NE(server->err().find("stopped"), std::string::npos);

    // The task's trace is the sender's, from the delivery to the pull request.
    auto t = run_cli({"trace", id, "--json"}, opts);
    ASSERT_EQ(t.exit_code, 0) << t.err;
    auto root = json::parse(t.out);
    EXPECT_EQ(root["name"], "ingest");
    EXPECT_EQ(root["traceId"], sender_trace);
    EXPECT_EQ(root["parentSpanId"], "b7ad6b7169203331");
    EXPECT_NE(t.out.find("\"pr.open\""), std::string::npos) << t.out;

    // No secret in the logs (at trace level), the state db, the audit log or the trace.
    std::string everything = server->err() + test::read_file(home() / "state.db") +
                             run_cli({"audit", "export"}, opts).out + t.out + run_cli({"events"}, opts).out;
    for (const std::string& secret :
         {std::string(k_secret), std::string(k_ana), std::string(k_bob), std::string("alertmanager-token")})
        EXPECT_EQ(everything.find(secret), std::string::npos) << secret;
    slack.stop();
    slack_thread.join();
    std::lock_guard lock(m);
    bool ready = false;
    for (const auto& t : said) ready = ready || t.find("Pull request opened for task " + id) != std::string::npos;
    EXPECT_TRUE(ready) << "notifications: " << json(said).dump();
    EXPECT_EQ(server->err().find("/services/T1/B1/secret"), std::string::npos);  // the URL is a secret
}

TEST_F(ServeCli, AbuseIsRefusedAndTheServerKeepsServing)
{
    configure();
    std::string url = start({"--max-body", "64KiB"});
    ASSERT_FALSE(url.empty());
    httplib::Client http(url);
    auto healthy = [&] {
        auto h = http.Get("/healthz");
        return h && h->status == 200;
    };

    // Slow clients: connections that send half a request and stall.
    auto port = std::stoi(url.substr(url.rfind(':') + 1));
    std::vector<int> slow;
    for (int i = 0; i < 8; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        std::string part = "POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n";
        ASSERT_GT(::write(fd, part.data(), part.size()), 0);
        slow.push_back(fd);
    }
    EXPECT_TRUE(healthy());
    // A second server on the same port fails to start instead of sharing it.
    auto second = run_cli({"serve", "--listen", "127.0.0.1:" + std::to_string(port)}, opts);
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_NE(second.err.find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos) << second.err;

    std::string body = code_scanning_alert();
    // A bad signature.
    auto h = github_headers(body, "code_scanning_alert", "d-2");
    h.erase("X-Hub-Signature-256");
    h.emplace("X-Hub-Signature-256", "sha256=" + core::crypto::hmac_sha256_hex("wrong secret", body));
    auto r = http.Post("/hooks/github", h, body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << r->body;
    // Malformed JSON, correctly signed.
    std::string broken = body.substr(0, body.size() / 2);
    r = http.Post("/hooks/github", github_headers(broken, "code_scanning_alert", "d-3"), broken, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    // Too large.
    std::string big(100 * 1024, ' ');
    r = http.Post("/hooks/github", github_headers(big, "push", "d-4"), big, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413) << r->body;
    // A hook with no secret configured is off.
    r = http.Post("/hooks/pagerduty", "{}", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    // The API without, or with an unknown, token.
    EXPECT_EQ(http.Get("/v1/tasks/x")->status, 401);
    EXPECT_EQ(http.Get("/v1/tasks/x", {{"Authorization", "Bearer not-a-token-at-all-really"}})->status, 401);
    EXPECT_TRUE(healthy());
    // Nothing of that made a task.
    EXPECT_TRUE(test::json_lines(run_cli({"queue", "ls", "--json"}, opts).out).empty());

    // Valid traffic still flows: an Alertmanager alert with its bearer token.
    std::ifstream am(std::string(INFRA_TEST_FIXTURES) + "/samples/alertmanager/02_alertmanager.body.json");
    ASSERT_TRUE(am) << "fixture";
    std::string alert((std::istreambuf_iterator<char>(am)), std::istreambuf_iterator<char>());
    r = http.Post("/hooks/alertmanager", {{"Authorization", "Bearer alertmanager-token"}}, alert, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202) << r->body;

    // The stalled connections are cut after serve.io_timeout.
    for (int fd : slow) {
        timeval tv{10, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char c;
        auto started = std::chrono::steady_clock::now();
        ssize_t n = ::read(fd, &c, 1);
        (void)n;
        EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(9))
            << "a slow client was never cut off";
        ::close(fd);
    }
    EXPECT_TRUE(healthy());

    // The counters saw it all.
    auto m = http.Get("/metrics");
    ASSERT_TRUE(m);
    EXPECT_NE(m->body.find("infra_agent_webhook_deliveries_total{source=\"github\",outcome=\"unauthenticated\"} 1"),
              std::string::npos)
        << m->body;
    EXPECT_NE(m->body.find("infra_agent_webhook_deliveries_total{source=\"github\",outcome=\"invalid\"} 1"),
              std::string::npos);
    EXPECT_NE(m->body.find("infra_agent_tasks_admitted_total{source=\"alertmanager\",state=\"queued\"}"),
              std::string::npos);
    EXPECT_EQ(http.Get("/readyz")->status, 200);
    EXPECT_EQ(server->stop(SIGTERM), 0) << server->err();
}

TEST_F(ServeCli, ApiTasksAreAskedForAndApprovedByTokenHolders)
{
    // Chat tasks need an approval from the platform team here. ana is a
    // member: what stops her is that she asked. "Ana" is another token of
    // hers, mallory one of someone outside the team.
    configure("approvals:\n  groups:\n    platform:\n      members: [ana, bob]\n");
    test::write_file(dir / "tokens", std::string("ana ") + k_ana + "\nbob " + k_bob + "\nAna " + k_ana_again +
                                         "\nmallory " + k_mallory + "\n");
    test::write_file(home() / "policies" / "approvals.yaml",
                     "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: chat-approvals, level: repository}\n"
                     "rules:\n  - name: chat-changes-need-approval\n    match: {type: chat}\n"
                     "    requiredApprovals: [platform]\n");
    std::string url = start();
    ASSERT_FALSE(url.empty());
    httplib::Client http(url);
    httplib::Headers ana = {{"Authorization", std::string("Bearer ") + k_ana}};
    httplib::Headers bob = {{"Authorization", std::string("Bearer ") + k_bob}};
    json task = {{"type", "chat"},
                 {"trigger", {{"source", "api"}, {"provider", "ci"}}},
                 {"context", {{"repositoryId", "acme/infra"}}},
                 {"payload", {{"message", "enable versioning"}, {"requestedBy", "mallory"}}}};
    auto r = http.Post("/v1/tasks", ana, task.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body << server->err();
    auto out = json::parse(r->body);
    ASSERT_EQ(out["tasks"][0]["state"], "pending-approval") << out.dump();
    std::string id = out["taskIds"][0];

    // The token, not the body, says who asked: ana cannot approve her own task.
    auto self = http.Post("/v1/tasks/" + id + "/approve", ana, "{}", "application/json");
    ASSERT_TRUE(self);
    EXPECT_EQ(self->status, 403) << self->body;
    // Nor under a token whose name differs only by case.
    auto self_again = http.Post("/v1/tasks/" + id + "/approve",
                                {{"Authorization", std::string("Bearer ") + k_ana_again}}, "{}", "application/json");
    ASSERT_TRUE(self_again);
    EXPECT_EQ(self_again->status, 403) << self_again->body;
    EXPECT_NE(self_again->body.find("Ana asked for task"), std::string::npos) << self_again->body;
    // A token holder outside the group cannot approve for it.
    auto outsider = http.Post("/v1/tasks/" + id + "/approve", {{"Authorization", std::string("Bearer ") + k_mallory}},
                              "{}", "application/json");
    ASSERT_TRUE(outsider);
    EXPECT_EQ(outsider->status, 403) << outsider->body;
    EXPECT_NE(outsider->body.find("'mallory' is not a member of approval group 'platform'"), std::string::npos)
        << outsider->body;
    EXPECT_EQ(json::parse(http.Get("/v1/tasks/" + id, bob)->body)["state"], "pending-approval");
    auto ok = http.Post("/v1/tasks/" + id + "/approve", bob, "{}", "application/json");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200) << ok->body;
    EXPECT_EQ(json::parse(ok->body)["state"], "queued");
    auto shown = json::parse(http.Get("/v1/tasks/" + id, bob)->body);
    EXPECT_EQ(shown["approvals"][0]["by"], "bob");
    EXPECT_EQ(shown["task"]["payload"]["requestedBy"], "ana");
    // A malformed task is a 400 that names the field.
    auto bad =
        http.Post("/v1/tasks", ana, R"({"type":"nonsense","trigger":{"source":"api","provider":"x"},"context":{}})",
                  "application/json");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400);
    EXPECT_NE(bad->body.find("type"), std::string::npos) << bad->body;
    EXPECT_EQ(server->stop(SIGINT), 0) << server->err();
}

// Alertmanager resends a firing alert every repeat_interval, GitHub sends a
// push per commit, and API clients retry: the duplicates are answered, and
// whatever comes next is still admitted. One duplicate once wedged serve:
// every later delivery got 503 and POST /v1/tasks "database is locked".
TEST_F(ServeCli, DuplicatesAreAnsweredAndAdmissionGoesOn)
{
    configure();
    std::string url = start();
    ASSERT_FALSE(url.empty());
    httplib::Client http(url);
    httplib::Headers am = {{"Authorization", "Bearer alertmanager-token"}};
    httplib::Headers ana = {{"Authorization", std::string("Bearer ") + k_ana}};
    std::ifstream in(std::string(INFRA_TEST_FIXTURES) + "/samples/alertmanager/02_alertmanager.body.json");
    json alert = json::parse(in);
    alert["alerts"] = json::array({alert["alerts"][0]});
    std::string firing = alert.dump();

    auto r = http.Post("/hooks/alertmanager", am, firing, "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body << server->err();
    std::string first = json::parse(r->body)["taskIds"][0];
    for (int i = 0; i < 50; ++i) {
        r = http.Post("/hooks/alertmanager", am, firing, "application/json");
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 202) << "resend " << i << ": " << r->body << server->err();
        auto out = json::parse(r->body);
        EXPECT_EQ(out["taskIds"], json::array({first})) << out.dump();
        EXPECT_EQ(out["tasks"][0]["duplicate"], true) << out.dump();
    }

    // A new alert is admitted.
    alert["alerts"][0]["labels"]["instance"] = "ip-10-0-1-99:9100";
    alert["alerts"][0]["fingerprint"] = "0123456789abcdef";
    r = http.Post("/hooks/alertmanager", am, alert.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body << server->err();
    auto fresh = json::parse(r->body);
    EXPECT_EQ(fresh["tasks"][0]["duplicate"], false) << fresh.dump();
    EXPECT_NE(fresh["taskIds"][0], first);

    // So is an API task, and one that reuses an existing id is a duplicate of it.
    json task = {{"type", "chat"},
                 {"trigger", {{"source", "api"}, {"provider", "ci"}}},
                 {"context", {{"repositoryId", "acme/infra"}}},
                 {"payload", {{"message", "enable versioning"}}}};
    auto api = [&](const json& t) {
        auto res = http.Post("/v1/tasks", ana, t.dump(), "application/json");
        EXPECT_TRUE(res);
        EXPECT_EQ(res ? res->status : 0, 202) << (res ? res->body : "no answer") << server->err();
        return res && res->status == 202 ? json::parse(res->body) : json::object();
    };
    auto asked = api(task);
    ASSERT_EQ(asked["tasks"][0]["state"], "queued") << asked.dump();
    std::string api_id = asked["taskIds"][0];
    json reused = task;
    reused["id"] = api_id;
    reused["payload"]["message"] = "something else under the same id";
    auto dup = api(reused);
    EXPECT_EQ(dup["tasks"][0]["duplicate"], true) << dup.dump();
    EXPECT_EQ(dup["taskIds"][0], api_id);
    task["payload"]["message"] = "enable logging";
    auto after = api(task);
    EXPECT_EQ(after["tasks"][0]["state"], "queued") << after.dump();
    EXPECT_EQ(after["tasks"][0]["duplicate"], false) << after.dump();

    // A push to the default branch, then another under a new delivery id (the
    // same drift work: a duplicate), then GitHub's redelivery of that one.
    std::ifstream pf(std::string(INFRA_TEST_FIXTURES) + "/samples/github/deliveries/push.none_1.body.json");
    json push = json::parse(pf);
    push["ref"] = "refs/heads/master";
    std::string pushed = push.dump();
    r = http.Post("/hooks/github", github_headers(pushed, "push", "p-1"), pushed, "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body << server->err();
    std::string drift = json::parse(r->body)["taskIds"][0];
    r = http.Post("/hooks/github", github_headers(pushed, "push", "p-2"), pushed, "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body << server->err();
    EXPECT_EQ(json::parse(r->body)["tasks"][0]["duplicate"], true) << r->body;
    EXPECT_EQ(json::parse(r->body)["taskIds"][0], drift);
    r = http.Post("/hooks/github", github_headers(pushed, "push", "p-2"), pushed, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(json::parse(r->body)["status"], "duplicate") << r->body;

    // And the next thing is still admitted and queued.
    task["payload"]["message"] = "tag the buckets";
    auto last = api(task);
    ASSERT_EQ(last["tasks"][0]["state"], "queued") << last.dump();
    auto shown = http.Get("/v1/tasks/" + last["taskIds"][0].get<std::string>(), ana);
    ASSERT_TRUE(shown);
    EXPECT_EQ(shown->status, 200) << shown->body;
    EXPECT_EQ(json::parse(shown->body)["state"], "queued") << shown->body;
    EXPECT_EQ(server->stop(SIGTERM), 0) << server->err();
    // Six tasks, each once: two alerts, three API tasks, one drift check.
    auto ls = test::json_lines(run_cli({"queue", "ls", "--json"}, opts).out);
    EXPECT_EQ(ls.size(), 6u);
    EXPECT_EQ(server->err().find("database is locked"), std::string::npos) << server->err();
}

// The broker API mints only what the asking worker's own lease allows: the
// task's repository and bot branch, as far as its decision's tier goes,
// until the lease ends. Anything else is refused with 403 and audited.
TEST_F(ServeCli, TheBrokerMintsOnlyTheLeasedTasksOwnScopes)
{
    const std::string worker_token = "wk-0123456789abcdef0123";
    test::write_file(dir / "worker-tokens", "builder-1 " + worker_token + "\n");
    serve_extra = "  worker_tokens_file: " + (dir / "worker-tokens").string() + "\n";
    configure();
    auto task = [](const std::string& id) {
        return json{{"id", id},
                    {"type", "compliance-remediation"},
                    {"trigger", {{"source", "api"}, {"provider", "test"}, {"timestamp", "2026-11-24T12:00:00Z"}}},
                    {"context", {{"agentSlug", "builtin"}, {"environment", "staging"}, {"repositoryId", "acme/infra"}}},
                    {"payload", {{"requestsChange", true}}},
                    {"dedupeKey",
                     "sha256:" +
                         std::string(id == "01M89CCCCCCCCCCCCCCCCCCCC1" ? "0123456789abcdef" : "fedcba9876543210") +
                         "00"}}
                   .dump() +
               "\n";
    };
    const std::string mine = "01M89CCCCCCCCCCCCCCCCCCCC1", theirs = "01M89CCCCCCCCCCCCCCCCCCCC2";
    auto in = opts;
    in.stdin_data = task(mine) + task(theirs);
    auto enq = run_cli({"enqueue", "--json"}, in);
    ASSERT_EQ(enq.exit_code, 0) << enq.err;
    for (const auto& q : test::json_lines(enq.out)) ASSERT_EQ(q["state"], "queued") << enq.out;

    std::string url = start();
    ASSERT_FALSE(url.empty());
    // Two workers hold one task each, as `worker` would claim them.
    auto queue = plugins::queues::open_sqlite_queue((home() / "state.db").string());
    ASSERT_TRUE(queue) << queue.error().message;
    auto a = (*queue)->claim("builder-1/100", 1, std::chrono::seconds(60));
    auto b = (*queue)->claim("builder-2:200", 1, std::chrono::seconds(60));
    ASSERT_TRUE(a && a->size() == 1u && b && b->size() == 1u);
    ASSERT_EQ((*a)[0].id, mine);
    ASSERT_EQ((*b)[0].id, theirs);
    const std::int64_t token = (*a)[0].token, lease_until = (*a)[0].lease_until_ms;
    const std::string branch = core::git::branch_name("compliance-remediation", "sha256:0123456789abcdef00");
    const std::string own_push = "git:push:repo=acme/infra,branch=" + branch;

    httplib::Client http(url);
    httplib::Headers worker = {{"Authorization", "Bearer " + worker_token}};
    auto ask = [&](const std::string& scope, const std::string& task_id, std::int64_t ttl, const std::string& worker_id,
                   std::int64_t lease_token) {
        json body = {{"scope", scope}, {"taskId", task_id}, {"ttlSeconds", ttl}};
        if (!worker_id.empty()) body["workerId"] = worker_id;
        if (lease_token) body["leaseToken"] = lease_token;
        return http.Post("/v1/credentials", worker, body.dump(), "application/json");
    };

    struct Refusal {
        std::string what, scope, task, worker_id;
        std::int64_t ttl, token;
        std::string why;
    };
    std::vector<Refusal> refusals = {
        {"another repository", "git:push:repo=victim/other,branch=main", mine, "builder-1/100", 900, token,
         "may have only"},
        {"another branch", "git:push:repo=acme/infra,branch=infra-agent/compliance-remediation/ffffffffffffffff", mine,
         "builder-1/100", 900, token, "may have only"},
        {"main", "git:push:repo=acme/infra,branch=main", mine, "builder-1/100", 900, token, "may have only"},
        {"every branch", "git:push:repo=acme/infra,branch=*", mine, "builder-1/100", 900, token, "may have only"},
        {"an aws admin role", "aws:assume-role:role=arn:aws:iam::123456789012:role/Admin,actions=*", mine,
         "builder-1/100", 900, token, "may have only"},
        {"a task another worker holds", "git:fetch:repo=acme/infra", theirs, "builder-1/100", 900, (*b)[0].token,
         "is not leased by worker 'builder-1/100'"},
        // ... even naming that worker's lease exactly, as anyone who can read the queue could.
        {"another token's lease", "git:fetch:repo=acme/infra", theirs, "builder-2:200", 900, (*b)[0].token,
         "worker id 'builder-2:200' is not one of worker token 'builder-1''s"},
        {"another lease of the task", own_push, mine, "builder-1/100", 900, token + 1, "is not its current lease"},
        {"no lease at all", own_push, mine, "", 900, 0, "names no lease"},
        {"a lifetime beyond the lease", own_push, mine, "builder-1/100", 99999, token,
         "a lifetime of 99999s is longer than a task's credential lives"},
    };
    for (const auto& r : refusals) {
        auto res = ask(r.scope, r.task, r.ttl, r.worker_id, r.token);
        ASSERT_TRUE(res) << r.what;
        EXPECT_EQ(res->status, 403) << r.what << ": " << res->body;
        auto body = json::parse(res->body, nullptr, false);
        ASSERT_TRUE(body.is_object()) << res->body;
        EXPECT_NE(body["error"].get<std::string>().find(r.why), std::string::npos) << r.what << ": " << res->body;
        EXPECT_EQ(body.find("token"), body.end()) << r.what;
    }
    // What the task may have is named in the refusal.
    auto other_repo = ask("git:push:repo=victim/other,branch=main", mine, 900, "builder-1/100", token);
    EXPECT_NE(other_repo->body.find("git:push:branch=" + branch + ",repo=acme/infra"), std::string::npos)
        << other_repo->body;

    // The task's own push scope, for its holder, ends with the lease.
    auto granted = ask(own_push, mine, 900, "builder-1/100", token);
    ASSERT_TRUE(granted);
    ASSERT_EQ(granted->status, 200) << granted->body << server->err();
    auto cred = json::parse(granted->body);
    EXPECT_FALSE(cred["token"].get<std::string>().empty());
    EXPECT_EQ(cred["worker"], "builder-1");
    EXPECT_LE(cred["expiresMs"].get<std::int64_t>(), lease_until) << granted->body;
    EXPECT_LE(cred["ttlSeconds"].get<std::int64_t>(), 60) << granted->body;

    // The broker provider of a worker's own binary sends its lease.
    test::RunOptions wrk;
    wrk.env["INFRA_AGENT_HOME"] = (dir / "worker-home").string();
    wrk.env["INFRA_AGENT_WORKER_TOKEN"] = worker_token;
    test::write_file(dir / "worker-home" / "config.yaml", "creds:\n  provider: broker\nbroker:\n  url: " + url + "\n");
    auto fetch = run_cli({"creds", "mint", "git:fetch:repo=acme/infra", "--task", mine, "--worker", "builder-1/100",
                          "--lease-token", std::to_string(token), "--json"},
                         wrk);
    ASSERT_EQ(fetch.exit_code, 0) << fetch.err;
    EXPECT_LE(json::parse(fetch.out)["ttlSeconds"].get<std::int64_t>(), 60) << fetch.out;
    auto unleased = run_cli({"creds", "mint", "git:fetch:repo=acme/infra", "--task", mine}, wrk);
    EXPECT_EQ(unleased.exit_code, 3) << unleased.err;
    EXPECT_NE(unleased.err.find("names no lease"), std::string::npos) << unleased.err;
    EXPECT_EQ(server->stop(SIGTERM), 0) << server->err();

    // Every refusal is in the audit log, naming what was asked; the ledger holds only grants.
    auto refused = test::json_lines(run_cli({"events", "--type", "credential.refused", "--json"}, opts).out);
    EXPECT_EQ(refused.size(), refusals.size() + 2) << json(refused).dump();
    for (const auto& r : refusals) {
        bool found = false;
        for (const auto& e : refused) found = found || e.dump().find(json(r.scope).dump()) != std::string::npos;
        EXPECT_TRUE(found) << r.what << " is not audited: " << json(refused).dump();
    }
    auto ledger = test::json_lines(run_cli({"creds", "ls", "--all", "--json"}, opts).out);
    ASSERT_FALSE(ledger.empty());
    for (const auto& c : ledger) {
        EXPECT_EQ(c["taskId"], mine) << c.dump();
        EXPECT_TRUE(c["scope"] == "git:push:branch=" + branch + ",repo=acme/infra" ||
                    c["scope"] == "git:fetch:repo=acme/infra")
            << c.dump();
    }
    EXPECT_EQ(run_cli({"audit", "verify"}, opts).exit_code, 0);
}

// The whole chain of a distributed worker: it holds no key; each credential
// its delivery needs (clone, push) comes from serve's broker for the lease
// it holds, and the git server accepts what serve minted.
TEST_F(ServeCli, ADistributedWorkerPushesWithCredentialsBoundToItsLease)
{
    const std::string worker_token = "wk-0123456789abcdef0123";
    test::write_file(dir / "worker-tokens", "builder-1 " + worker_token + "\n");
    serve_extra = "  worker_tokens_file: " + (dir / "worker-tokens").string() + "\n";
    configure();
    std::string url = start();
    ASSERT_FALSE(url.empty());

    // A forge's git server: only serve's credentials, for acme/infra, pushes to bot branches.
    auto verify = [&](const std::string& token) -> core::Result<core::creds::LedgerEntry> {
        auto db = core::open_state(core::Home{home(), ""});
        if (!db) return db.error();
        core::creds::Ledger ledger(**db);
        auto key = plugins::credentials::load_or_create_key(home() / "keys" / "local-creds.key");
        if (!key) return key.error();
        auto provider = plugins::credentials::make_local(*key);
        core::creds::Broker broker(ledger, *provider);
        return broker.verify(token, std::nullopt);
    };
    test::GitHttpServer git_server(
        dir / "remote", [&](const std::string&, const std::string& password, const std::string& path, bool is_push) {
            if (path.rfind("/acme.git/", 0) != 0) return false;
            auto e = verify(password);
            if (!e) return false;
            auto scope = core::creds::parse_scope(e->scope);
            if (!scope || scope->attr("repo") != "acme/infra") return false;
            return !is_push || (scope->action == "push" && scope->attr("branch").rfind("infra-agent/", 0) == 0);
        });

    httplib::Client http(url);
    std::string body = code_scanning_alert();
    auto r =
        http.Post("/hooks/github", github_headers(body, "code_scanning_alert", "d-dist"), body, "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 202) << r->body;
    std::string id = json::parse(r->body)["taskIds"][0];

    test::RunOptions wrk;
    wrk.cwd = dir.path().string();
    wrk.env["INFRA_AGENT_HOME"] = (dir / "worker-home").string();
    wrk.env["INFRA_AGENT_WORKER_TOKEN"] = worker_token;
    test::write_file(dir / "worker-home" / "config.yaml",
                     "queue:\n  url: sqlite://" + (home() / "state.db").string() +
                         "\ncreds:\n  provider: broker\nbroker:\n  url: " + url +
                         "\nvalidation:\n  steps:\n    - name: public access block present\n"
                         "      run: [grep, -q, aws_s3_bucket_public_access_block, \"{dir}/main.tf\"]\n");
    // An id that is not the worker token's is refused before anything runs.
    auto wrong = run_cli({"worker", "--drain", "--id", "someone-else", "--repo", git_server.url() + "acme.git"}, wrk);
    EXPECT_EQ(wrong.exit_code, 64) << wrong.err;
    EXPECT_NE(wrong.err.find("worker id 'someone-else' is not one of worker token 'builder-1''s"), std::string::npos)
        << wrong.err;
    // Without --id, the worker claims as builder-1/host:pid.
    auto w =
        run_cli({"worker", "--drain", "--json", "--repo", git_server.url() + "acme.git", "--sandbox", "bwrap"}, wrk);
    ASSERT_EQ(w.exit_code, 0) << w.err;
    EXPECT_EQ(test::json_lines(w.out).back()["succeeded"], 1) << w.out << w.err;
    EXPECT_EQ(git_server.pushes(), 1) << w.err;
    EXPECT_EQ(test::json_lines(w.out).back()["worker"].get<std::string>().rfind("builder-1/", 0), 0u) << w.out;
    EXPECT_FALSE(fs::exists(dir / "worker-home" / "keys" / "local-creds.key"));
    EXPECT_EQ(server->stop(SIGTERM), 0) << server->err();

    // serve minted each of them for the task's own scopes and the worker's lease.
    auto shown = json::parse(run_cli({"queue", "show", id, "--json"}, opts).out);
    std::string branch = shown["result"]["change"]["branch"];
    auto ledger = test::json_lines(run_cli({"creds", "ls", "--all", "--json"}, opts).out);
    ASSERT_GE(ledger.size(), 2u);
    int pushes = 0;
    for (const auto& c : ledger) {
        EXPECT_EQ(c["taskId"], id);
        pushes += c["scope"] == "git:push:branch=" + branch + ",repo=acme/infra";
        EXPECT_TRUE(c["scope"] == "git:fetch:repo=acme/infra" ||
                    c["scope"] == "git:push:branch=" + branch + ",repo=acme/infra")
            << c.dump();
        auto issued = core::timeutil::parse_rfc3339(c["issuedAt"].get<std::string>());
        auto expires = core::timeutil::parse_rfc3339(c["expiresAt"].get<std::string>());
        ASSERT_TRUE(issued && expires) << c.dump();
        EXPECT_LE(*expires - *issued, std::chrono::seconds(30)) << c.dump();  // the worker's lease
    }
    EXPECT_EQ(pushes, 1) << json(ledger).dump();
    EXPECT_TRUE(test::json_lines(run_cli({"events", "--type", "credential.refused", "--json"}, opts).out).empty());
}

TEST_F(ServeCli, ApiTasksForProductionWaitForApprovalHoweverItIsSpelled)
{
    configure();
    std::string url = start();
    ASSERT_FALSE(url.empty());
    httplib::Client http(url);
    httplib::Headers ana = {{"Authorization", std::string("Bearer ") + k_ana}};
    auto task = [](const std::string& env, const std::string& resource) {
        return json{{"type", "compliance-remediation"},
                    {"trigger", {{"source", "api"}, {"provider", "ci"}}},
                    {"context", {{"repositoryId", "acme/infra"}, {"environment", env}, {"resource", resource}}},
                    {"payload", json::object()}}
            .dump();
    };
    int n = 0;
    for (std::string env : {"production", "Production", "production ", "PRODUCTION", "\tProDuction\n"}) {
        auto r = http.Post("/v1/tasks", ana, task(env, "aws_s3_bucket.b" + std::to_string(n++)), "application/json");
        ASSERT_TRUE(r);
        ASSERT_EQ(r->status, 202) << json(env).dump() << ": " << r->body;
        auto out = json::parse(r->body);
        EXPECT_EQ(out["tasks"][0]["state"], "pending-approval") << json(env).dump() << ": " << out.dump();
        auto shown = json::parse(http.Get("/v1/tasks/" + out["taskIds"][0].get<std::string>(), ana)->body);
        EXPECT_EQ(shown["task"]["context"]["environment"], "production") << shown.dump();
    }
    // A Cyrillic o (U+043E) that looks like a Latin one is refused, naming the field.
    auto r = http.Post("/v1/tasks", ana,
                       task("pr\xd0\xbe"
                            "duction",
                            "aws_s3_bucket.lookalike"),
                       "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << r->body;
    EXPECT_NE(r->body.find("context.environment"), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("U+043E"), std::string::npos) << r->body;
    EXPECT_EQ(server->stop(SIGTERM), 0) << server->err();
}

TEST_F(ServeCli, PagerDutyAndSnsHooks)
{
    std::ifstream vf(std::string(INFRA_TEST_FIXTURES) + "/samples/pagerduty/vector.json");
    json vec = json::parse(vf);
    std::ifstream bf(std::string(INFRA_TEST_FIXTURES) + "/samples/pagerduty/vector.body.json");
    std::string pd_body((std::istreambuf_iterator<char>(bf)), std::istreambuf_iterator<char>());
    opts.env["PD_SECRET"] = vec["secret"].get<std::string>();
    opts.env["SNS_SECRET"] = "sns-shared-secret";
    hooks = "  pagerduty: {secret_env: PD_SECRET}\n  sns: {secret_env: SNS_SECRET}\n";
    configure();
    std::string url = start();
    ASSERT_FALSE(url.empty());
    httplib::Client http(url);

    // PagerDuty: the published signature vector, then a tampered signature.
    auto r = http.Post("/hooks/pagerduty", {{"X-PagerDuty-Signature", vec["valid"].get<std::string>()}}, pd_body,
                       "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202) << r->body;
    r = http.Post("/hooks/pagerduty", {{"X-PagerDuty-Signature", vec["mismatch"].get<std::string>()}}, pd_body,
                  "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << r->body;

    // SNS over HTTPS delivers the alarm as a string in Message; the secret is the basic-auth password.
    std::ifstream af(std::string(INFRA_TEST_FIXTURES) +
                     "/samples/cloudwatch/cloudwatch-alarm-sns-payload-single-metric.json");
    json lambda = json::parse(af);
    json notification = lambda["Records"][0]["Sns"];
    std::string sns_body = notification.dump();
    std::string message_id = notification["MessageId"];
    httplib::Headers auth = {{"x-amz-sns-message-id", message_id}};
    httplib::Client sns(url);
    sns.set_basic_auth("sns", "sns-shared-secret");
    r = sns.Post("/hooks/sns", auth, sns_body, "text/plain");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202) << r->body;
    r = sns.Post("/hooks/sns", auth, sns_body, "text/plain");  // SNS retries with the same message id
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    httplib::Client wrong(url);
    wrong.set_basic_auth("sns", "guess");
    r = wrong.Post("/hooks/sns", auth, sns_body, "text/plain");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(test::json_lines(run_cli({"queue", "ls", "--json"}, opts).out).size(), 2u);
    EXPECT_EQ(server->stop(SIGTERM), 0) << server->err();
}

}  // namespace
}  // namespace infra
