// `serve` as a deployment runs it: a signed GitHub delivery becomes a task,
// an in-process worker fixes it and pushes a branch to a bare remote, the
// REST API shows the result; replays, bad signatures, malformed and
// oversized bodies, unknown tokens and slow clients are refused while the
// server keeps serving; SIGTERM stops it cleanly.
#include "core/crypto.hpp"
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
    std::ifstream in(std::string(INFRA_TEST_FIXTURES) + "/samples/github/deliveries/code_scanning_alert.created_1.body.json");
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
                         "webhooks:\n" + hooks +
                         "serve:\n  api_tokens_file: " + (dir / "tokens").string() + "\n  io_timeout: 2s\n"
                         "git:\n  repo: " + (dir / "remote" / "acme.git").string() + "\n"
                         "validation:\n  steps:\n    - name: public access block present\n"
                         "      run: [grep, -q, aws_s3_bucket_public_access_block, \"{dir}/main.tf\"]\n" + extra);
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

    test::TempDir dir;
    test::RunOptions opts;
    std::unique_ptr<test::Background> server;
};

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
    opts.env["INFRA_AGENT_SLACK_WEBHOOK_URL"] = "http://127.0.0.1:" + std::to_string(slack_port) + "/services/T1/B1/secret";

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
    EXPECT_NE(scraped->body.find("infra_agent_task_duration_seconds_count{type=\"compliance-remediation\",outcome=\"succeeded\"} 1\n"),
              std::string::npos) << scraped->body;
    EXPECT_NE(scraped->body.find("infra_agent_webhook_deliveries_total{source=\"github\",outcome=\"accepted\"} 1\n"),
              std::string::npos) << scraped->body;

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
    for (const std::string& secret : {std::string(k_secret), std::string(k_ana), std::string(k_bob), std::string("alertmanager-token")})
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
        EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(9)) << "a slow client was never cut off";
        ::close(fd);
    }
    EXPECT_TRUE(healthy());

    // The counters saw it all.
    auto m = http.Get("/metrics");
    ASSERT_TRUE(m);
    EXPECT_NE(m->body.find("infra_agent_webhook_deliveries_total{source=\"github\",outcome=\"unauthenticated\"} 1"), std::string::npos) << m->body;
    EXPECT_NE(m->body.find("infra_agent_webhook_deliveries_total{source=\"github\",outcome=\"invalid\"} 1"), std::string::npos);
    EXPECT_NE(m->body.find("infra_agent_tasks_admitted_total{source=\"alertmanager\",state=\"queued\"}"), std::string::npos);
    EXPECT_EQ(http.Get("/readyz")->status, 200);
    EXPECT_EQ(server->stop(SIGTERM), 0) << server->err();
}

TEST_F(ServeCli, ApiTasksAreAskedForAndApprovedByTokenHolders)
{
    // Chat tasks need an approval from the platform team here. ana is a
    // member: what stops her is that she asked. "Ana" is another token of
    // hers, mallory one of someone outside the team.
    configure("approvals:\n  groups:\n    platform:\n      members: [ana, bob]\n");
    test::write_file(dir / "tokens", std::string("ana ") + k_ana + "\nbob " + k_bob + "\nAna " + k_ana_again + "\nmallory " + k_mallory + "\n");
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
    auto self_again = http.Post("/v1/tasks/" + id + "/approve", {{"Authorization", std::string("Bearer ") + k_ana_again}}, "{}",
                                "application/json");
    ASSERT_TRUE(self_again);
    EXPECT_EQ(self_again->status, 403) << self_again->body;
    EXPECT_NE(self_again->body.find("Ana asked for task"), std::string::npos) << self_again->body;
    // A token holder outside the group cannot approve for it.
    auto outsider = http.Post("/v1/tasks/" + id + "/approve", {{"Authorization", std::string("Bearer ") + k_mallory}}, "{}",
                              "application/json");
    ASSERT_TRUE(outsider);
    EXPECT_EQ(outsider->status, 403) << outsider->body;
    EXPECT_NE(outsider->body.find("'mallory' is not a member of approval group 'platform'"), std::string::npos) << outsider->body;
    EXPECT_EQ(json::parse(http.Get("/v1/tasks/" + id, bob)->body)["state"], "pending-approval");
    auto ok = http.Post("/v1/tasks/" + id + "/approve", bob, "{}", "application/json");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200) << ok->body;
    EXPECT_EQ(json::parse(ok->body)["state"], "queued");
    auto shown = json::parse(http.Get("/v1/tasks/" + id, bob)->body);
    EXPECT_EQ(shown["approvals"][0]["by"], "bob");
    EXPECT_EQ(shown["task"]["payload"]["requestedBy"], "ana");
    // A malformed task is a 400 that names the field.
    auto bad = http.Post("/v1/tasks", ana, R"({"type":"nonsense","trigger":{"source":"api","provider":"x"},"context":{}})", "application/json");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400);
    EXPECT_NE(bad->body.find("type"), std::string::npos) << bad->body;
    EXPECT_EQ(server->stop(SIGINT), 0) << server->err();
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
    auto r = http.Post("/v1/tasks", ana, task("pr\xd0\xbe" "duction", "aws_s3_bucket.lookalike"), "application/json");
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
    auto r = http.Post("/hooks/pagerduty", {{"X-PagerDuty-Signature", vec["valid"].get<std::string>()}}, pd_body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202) << r->body;
    r = http.Post("/hooks/pagerduty", {{"X-PagerDuty-Signature", vec["mismatch"].get<std::string>()}}, pd_body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << r->body;

    // SNS over HTTPS delivers the alarm as a string in Message; the secret is the basic-auth password.
    std::ifstream af(std::string(INFRA_TEST_FIXTURES) + "/samples/cloudwatch/cloudwatch-alarm-sns-payload-single-metric.json");
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
