// The observability commands at their edges: an empty audit log, bad
// arguments with their exit codes, and `events --follow` printing events as
// another process records them.
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

class ObserveCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        opts.cwd = dir.path().string();
        opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
        ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
    }

    std::string task(const std::string& id) const
    {
        return json{{"id", id},
                    {"type", "drift-detection"},
                    {"trigger", {{"source", "schedule"}, {"provider", "cron"}, {"timestamp", "2026-11-24T12:00:00Z"}}},
                    {"context", {{"agentSlug", "builtin"}, {"repositoryId", "acme/infra"}}},
                    {"payload", json::object()},
                    {"dedupeKey", "k-" + id}}
                   .dump() +
               "\n";
    }

    test::TempDir dir;
    test::RunOptions opts;
};

}  // namespace

TEST_F(ObserveCli, AnEmptyLogVerifiesAndHasNoHead)
{
    auto v = run_cli({"audit", "verify"}, opts);
    ASSERT_EQ(v.exit_code, 0) << v.err;
    EXPECT_EQ(json::parse(v.out)["events"], 0);
    auto h = run_cli({"audit", "head"}, opts);
    EXPECT_EQ(h.exit_code, 1);
    EXPECT_NE(h.err.find("the audit log is empty"), std::string::npos) << h.err;
    EXPECT_EQ(run_cli({"events"}, opts).out, "");
}

TEST_F(ObserveCli, BadArgumentsAreUsageErrors)
{
    auto since = run_cli({"events", "--since", "yesterday-ish"}, opts);
    EXPECT_EQ(since.exit_code, 64);
    EXPECT_NE(since.err.find("--since: expected an RFC 3339 time or a duration"), std::string::npos) << since.err;
    auto both = run_cli({"events", "--follow", "--until", "1h"}, opts);
    EXPECT_EQ(both.exit_code, 64);
    auto head = run_cli({"audit", "verify", "--head", "12:nothex"}, opts);
    EXPECT_EQ(head.exit_code, 64);
    EXPECT_NE(head.err.find("expected SEQ:SHA256"), std::string::npos) << head.err;
    auto collector = opts;
    collector.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "collector:4318";
    collector.stdin_data = task("01M88AAAAAAAAAAAAAAAAAAAA9");
    auto otlp = run_cli({"enqueue"}, collector);
    EXPECT_EQ(otlp.exit_code, 64);
    EXPECT_NE(otlp.err.find("OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:// or https:// URL"), std::string::npos)
        << otlp.err;
    EXPECT_TRUE(test::json_lines(run_cli({"queue", "ls", "--json"}, opts).out).empty());  // nothing half done
    auto missing = run_cli({"trace", "01NOSUCHTASK"}, opts);
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("no events of task '01NOSUCHTASK'"), std::string::npos) << missing.err;
}

TEST_F(ObserveCli, FollowPrintsEventsAsTheyAreRecorded)
{
    test::Background follow({"events", "--follow", "--type", "task.*"}, opts);
    auto in = opts;
    in.stdin_data = task("01M88AAAAAAAAAAAAAAAAAAAA1");
    auto q = run_cli({"enqueue"}, in);
    ASSERT_EQ(q.exit_code, 0) << q.err;
    auto line = json::parse(follow.read_line(10000), nullptr, false);
    ASSERT_TRUE(line.is_object()) << follow.err();
    EXPECT_EQ(line["event"], "task.enqueued");
    EXPECT_EQ(line["taskId"], "01M88AAAAAAAAAAAAAAAAAAAA1");
    EXPECT_EQ(line["traceId"].get<std::string>().size(), 32u);
    // Only what matches: the spans of the same admission are left out.
    in.stdin_data = task("01M88AAAAAAAAAAAAAAAAAAAA2");
    ASSERT_EQ(run_cli({"enqueue"}, in).exit_code, 0);
    line = json::parse(follow.read_line(10000), nullptr, false);
    ASSERT_TRUE(line.is_object());
    EXPECT_EQ(line["taskId"], "01M88AAAAAAAAAAAAAAAAAAAA2");
    follow.stop(SIGINT);

    // Resuming after a sequence number gives only what came later.
    auto all = test::json_lines(run_cli({"events"}, opts).out);
    ASSERT_GE(all.size(), 4u);
    auto later = test::json_lines(run_cli({"events", "--after", std::to_string(all[1]["seq"].get<long>())}, opts).out);
    EXPECT_EQ(later.size(), all.size() - 2);
    auto limited = test::json_lines(run_cli({"events", "--type", "span", "--limit", "1"}, opts).out);
    ASSERT_EQ(limited.size(), 1u);
    EXPECT_EQ(limited[0]["event"], "span");
}

}  // namespace infra
