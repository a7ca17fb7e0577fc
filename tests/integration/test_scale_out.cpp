// The scale-out queues through the real binary: tasks enqueued into a
// PostgreSQL or Redis server are run by `worker --queue URL` exactly as
// from the SQLite state db, seen by `queue ls/show`, and a queue that
// cannot be reached is a clear runtime error that never shows a password.
#include "core/git.hpp"
#include "core/queue/queue.hpp"
#include "core/store/pg.hpp"
#include "plugins/queues/postgres_queue.hpp"
#include "plugins/queues/redis_queue.hpp"
#include "support/fixtures.hpp"
#include "support/run.hpp"
#include "support/servers.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

namespace infra {
namespace {

using nlohmann::json;
using test::run_cli;

std::string task(const std::string& id)
{
    return json{{"id", id},
                {"type", "compliance-remediation"},
                {"title", "enable versioning"},
                {"trigger", {{"source", "api"}, {"provider", "test"}, {"timestamp", "2026-11-24T12:00:00Z"}}},
                {"context", {{"agentSlug", "exec"}, {"environment", "staging"}, {"repositoryId", "acme/infra"}}},
                {"payload", {{"requestsChange", true}}},
                {"dedupeKey", "scale-" + id}}
               .dump() +
           "\n";
}

struct ScaleOut : ::testing::TestWithParam<std::string> {
    test::TempDir dir;
    std::unique_ptr<test::PostgresServer> postgres;
    std::unique_ptr<test::RedisServer> redis;
    std::string url;

    void SetUp() override
    {
        if (GetParam() == "redis") {
            redis = std::make_unique<test::RedisServer>();
            ASSERT_TRUE(redis->ok()) << redis->error();
            url = redis->url(3) + "?prefix=acme";
        } else {
            postgres = std::make_unique<test::PostgresServer>();
            ASSERT_TRUE(postgres->ok()) << postgres->error();
            url = postgres->url();
        }
        test::write_file(
            dir / "home/config.yaml",
            "exec:\n  command: [sh, -c, \"sed -i s/Disabled/Enabled/ main.tf && echo Enabled by exec\"]\n");
        test::write_file(dir / "ws/main.tf", "status = \"Disabled\"\n");
    }

    test::RunOptions opt(const std::string& in = "") const
    {
        test::RunOptions o;
        o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
        o.stdin_data = in;
        return o;
    }
};

TEST_P(ScaleOut, WorkerRunsTasksFromTheQueueUrl)
{
    auto e = run_cli({"enqueue", "--queue", url, "--json"},
                     opt(task("01M89AAAAAAAAAAAAAAAAAAAA1") + task("01M89AAAAAAAAAAAAAAAAAAAA2") +
                         task("01M89AAAAAAAAAAAAAAAAAAAA1")));
    ASSERT_EQ(e.exit_code, 0) << e.err;
    auto queued = test::json_lines(e.out);
    ASSERT_EQ(queued.size(), 3u);
    EXPECT_EQ(queued[2]["duplicate"], true) << e.out;
    // Nothing went to the state db's own queue.
    EXPECT_TRUE(test::json_lines(run_cli({"queue", "ls", "--json"}, opt()).out).empty());

    // The URL may also come from config, as queue.url.
    test::write_file(dir / "home/config.yaml",
                     test::read_file(dir / "home/config.yaml") + "queue:\n  url: " + url + "\n");
    auto w = run_cli({"worker", "--drain", "--json", "--workspace", (dir / "ws").string()}, opt());
    ASSERT_EQ(w.exit_code, 0) << w.err;
    auto summary = json::parse(w.out);
    EXPECT_EQ(summary["claimed"], 2) << w.out;
    EXPECT_EQ(summary["succeeded"], 2) << w.out;
    EXPECT_EQ(test::read_file(dir / "ws/main.tf"), "status = \"Enabled\"\n");

    auto ls = test::json_lines(run_cli({"queue", "ls", "--json"}, opt()).out);
    ASSERT_EQ(ls.size(), 2u);
    for (const auto& t : ls) EXPECT_EQ(t["state"], "succeeded") << t.dump();
    auto show = run_cli({"queue", "show", "01M89AAAAAAAAAAAAAAAAAAAA2", "--json"}, opt());
    ASSERT_EQ(show.exit_code, 0) << show.err;
    EXPECT_EQ(json::parse(show.out)["result"]["summary"], "Enabled by exec") << show.out;
    // The audit trail stays in the state home: the worker's events are there.
    auto events =
        test::json_lines(run_cli({"events", "--task", "01M89AAAAAAAAAAAAAAAAAAAA2", "--type", "task.*"}, opt()).out);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back()["event"], "task.succeeded");
}

TEST_P(ScaleOut, AnUnreachableQueueIsARuntimeErrorWithoutThePassword)
{
    std::string scheme = GetParam() == "redis" ? "redis" : "postgres";
    std::string down = scheme + "://infra:hunter2-secret@127.0.0.1:" + std::to_string(test::free_port()) + "/3";
    auto r = run_cli({"queue", "ls", "--queue", down}, opt());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("cannot connect to '" + scheme + "://infra:***@127.0.0.1:"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
    auto w = run_cli({"worker", "--once", "--queue", down}, opt());
    EXPECT_EQ(w.exit_code, 1);
    EXPECT_EQ(w.err.find("hunter2"), std::string::npos) << w.err;
}

// Distributed mode: `serve` owns the state store and the signing keys; a
// worker on another machine holds only the queue URL and a worker token.
// Its credentials come from serve's broker API (only a task's own scopes,
// for the worker holding its lease),
// and its events reach serve's audit log through the queue's output stream.
TEST_P(ScaleOut, DistributedWorkerHoldsNoKeysAndItsEventsReachTheServer)
{
    const std::string worker_token = "wk-0123456789abcdef0123";
    auto server_home = dir / "server", worker_home = dir / "worker";
    test::write_file(dir / "worker-tokens", "builder-1 " + worker_token + "\n");
    std::string server_config =
        "queue:\n  url: " + url + "\nserve:\n  worker_tokens_file: " + (dir / "worker-tokens").string() + "\n";
    std::string state_url;
    if (postgres) {
        // The whole deployment on PostgreSQL: serve's state store is a
        // database of its own that the workers have no URL for.
        auto admin = core::store::pg::Conn::open(url);
        ASSERT_TRUE(admin) << admin.error().message;
        ASSERT_TRUE((*admin)->exec("CREATE DATABASE serve_state"));
        state_url = postgres->url("serve_state");
        server_config += "state:\n  url: " + state_url + "\n";
    }
    test::write_file(server_home / "config.yaml", server_config);
    test::RunOptions srv;
    srv.env["INFRA_AGENT_HOME"] = server_home.string();
    test::Background serve({"serve", "--listen", "127.0.0.1:0"}, srv);
    auto listening = json::parse(serve.read_line(20000), nullptr, false);
    ASSERT_TRUE(listening.is_object()) << serve.err();
    std::string base = listening["url"];

    test::write_file(
        worker_home / "config.yaml",
        "queue:\n  url: " + url + "\ncreds:\n  provider: broker\nbroker:\n  url: " + base +
            "\nexec:\n  command: [sh, -c, \"sed -i s/Disabled/Enabled/ main.tf && echo Enabled by exec\"]\n");
    test::RunOptions wrk;
    wrk.env["INFRA_AGENT_HOME"] = worker_home.string();
    wrk.env["INFRA_AGENT_WORKER_TOKEN"] = worker_token;

    auto in = srv;
    in.stdin_data = task("01M89BBBBBBBBBBBBBBBBBBBB1") + task("01M89BBBBBBBBBBBBBBBBBBBB2");
    ASSERT_EQ(run_cli({"enqueue"}, in).exit_code, 0);

    // Credentials only for a task a worker holds.
    auto early = run_cli({"creds", "mint", "git:push:repo=acme/infra", "--task", "01M89BBBBBBBBBBBBBBBBBBBB1"}, wrk);
    EXPECT_EQ(early.exit_code, 3) << early.err;
    EXPECT_NE(early.err.find("credentials are minted only for tasks a worker holds"), std::string::npos) << early.err;
    auto stranger = wrk;
    stranger.env["INFRA_AGENT_WORKER_TOKEN"] = "not-a-worker-token-at-all";
    auto refused =
        run_cli({"creds", "mint", "git:push:repo=acme/infra", "--task", "01M89BBBBBBBBBBBBBBBBBBBB1"}, stranger);
    EXPECT_EQ(refused.exit_code, 3);
    EXPECT_NE(refused.err.find("unknown worker token"), std::string::npos) << refused.err;
    {
        core::queue::Registry backends;
        backends.add("postgres", plugins::queues::open_postgres_url);
        backends.add("redis", plugins::queues::open_redis_url);
        auto q = backends.open(url);
        ASSERT_TRUE(q) << q.error().message;
        auto held = (*q)->claim("builder-1/test-holder", 1, std::chrono::seconds(60));
        ASSERT_TRUE(held && held->size() == 1u);
        // Only the task's own push scope, for the lease's holder.
        std::string push = "git:push:repo=acme/infra,branch=" +
                           core::git::branch_name("compliance-remediation", "scale-" + (*held)[0].id);
        auto lease = std::to_string((*held)[0].token);
        auto wide = run_cli({"creds", "mint", "git:push:repo=acme/infra", "--task", (*held)[0].id, "--worker",
                             "builder-1/test-holder", "--lease-token", lease},
                            wrk);
        EXPECT_EQ(wide.exit_code, 3) << wide.err;
        EXPECT_NE(wide.err.find("may have only"), std::string::npos) << wide.err;
        auto not_holder = run_cli(
            {"creds", "mint", push, "--task", (*held)[0].id, "--worker", "builder-1", "--lease-token", lease}, wrk);
        EXPECT_EQ(not_holder.exit_code, 3) << not_holder.err;
        EXPECT_NE(not_holder.err.find("is not leased by worker 'builder-1'"), std::string::npos) << not_holder.err;
        auto minted = run_cli({"creds", "mint", push, "--task", (*held)[0].id, "--worker", "builder-1/test-holder",
                               "--lease-token", lease, "--json"},
                              wrk);
        ASSERT_EQ(minted.exit_code, 0) << minted.err;
        auto cred = json::parse(minted.out);
        EXPECT_FALSE(cred["token"].get<std::string>().empty());
        // The server minted it with its own key and recorded it in its ledger.
        auto ledger = test::json_lines(run_cli({"creds", "ls", "--json"}, srv).out);
        ASSERT_EQ(ledger.size(), 1u);
        EXPECT_EQ(ledger[0]["taskId"], (*held)[0].id);
        EXPECT_EQ(ledger[0]["provider"], "local");
        ASSERT_TRUE((*q)->release((*held)[0].id, (*held)[0].token));
    }
    EXPECT_TRUE(std::filesystem::exists(server_home / "keys/local-creds.key"));
    EXPECT_FALSE(std::filesystem::exists(worker_home / "keys/local-creds.key"));

    auto w = run_cli({"worker", "--drain", "--json", "--events", "queue", "--workspace", (dir / "ws").string()}, wrk);
    ASSERT_EQ(w.exit_code, 0) << w.err;
    EXPECT_EQ(json::parse(w.out)["succeeded"], 2) << w.out;

    // The worker's events are in the server's audit log (moved while it runs).
    std::vector<json> events;
    for (int i = 0; i < 200; ++i) {
        events =
            test::json_lines(run_cli({"events", "--task", "01M89BBBBBBBBBBBBBBBBBBBB2", "--type", "task.*"}, srv).out);
        if (!events.empty() && events.back()["event"] == "task.succeeded") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back()["event"], "task.succeeded");
    auto claimed =
        std::count_if(events.begin(), events.end(), [](const json& e) { return e["event"] == "task.claimed"; });
    EXPECT_GE(claimed, 1);
    EXPECT_EQ(run_cli({"audit", "verify"}, srv).exit_code, 0);
    if (postgres) {
        EXPECT_FALSE(std::filesystem::exists(server_home / "state.db"));
        auto state = core::store::pg::Conn::open(state_url);
        ASSERT_TRUE(state) << state.error().message;
        auto n = (*state)->query("SELECT count(*) FROM events WHERE type = 'task.succeeded'");
        ASSERT_TRUE(n) << n.error().message;
        EXPECT_EQ(n->integer(0, 0), 2);
    }
    // ... and not in a state db of the worker's.
    EXPECT_TRUE(test::json_lines(run_cli({"events", "--type", "task.*"}, wrk).out).empty());
    serve.stop(SIGTERM);
}

TEST(ScaleOutUrls, MalformedRedisUrlsAreUsageErrors)
{
    test::TempDir dir;
    test::RunOptions o;
    o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    for (const char* bad : {"redis://127.0.0.1:notaport", "redis://127.0.0.1:6379/zero", "redis://h:1?db=2"}) {
        auto r = run_cli({"queue", "ls", "--queue", bad}, o);
        EXPECT_EQ(r.exit_code, 64) << bad;
        EXPECT_NE(r.err.find("queue URL '"), std::string::npos) << r.err;
    }
    // The embedded queue has no output stream: its workers write the state db.
    auto w = run_cli({"worker", "--once", "--events", "queue"}, o);
    EXPECT_EQ(w.exit_code, 64);
    EXPECT_NE(w.err.find("this queue has no output stream for events"), std::string::npos) << w.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, ScaleOut, ::testing::Values("postgres", "redis"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace infra
