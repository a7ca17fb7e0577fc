// The scale-out queues through the real binary: tasks enqueued into a
// PostgreSQL or Redis server are run by `worker --queue URL` exactly as
// from the SQLite state db, seen by `queue ls/show`, and a queue that
// cannot be reached is a clear runtime error that never shows a password.
#include "support/fixtures.hpp"
#include "support/run.hpp"
#include "support/servers.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
        test::write_file(dir / "home/config.yaml",
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
    test::write_file(dir / "home/config.yaml", test::read_file(dir / "home/config.yaml") + "queue:\n  url: " + url + "\n");
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
    auto events = test::json_lines(run_cli({"events", "--task", "01M89AAAAAAAAAAAAAAAAAAAA2", "--type", "task.*"}, opt()).out);
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
}

INSTANTIATE_TEST_SUITE_P(Backends, ScaleOut, ::testing::Values("postgres", "redis"), [](const auto& info) { return info.param; });

}  // namespace
}  // namespace infra
