// The queue's commands on the real binary: enqueue's exit codes and
// dedupe, queue ls/show/stats/cancel/retry/purge, worker and run without
// agents.
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <sstream>
#include <thread>

using infra::test::run_cli;
using infra::test::RunOptions;
using infra::test::TempDir;
using infra::test::write_file;

namespace {

std::vector<nlohmann::json> lines(const std::string& out)
{
    std::vector<nlohmann::json> v;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) v.push_back(nlohmann::json::parse(line));
    return v;
}

std::string task(const std::string& id, const std::string& type, const std::string& env, const std::string& key)
{
    return nlohmann::json{{"id", id},
                          {"type", type},
                          {"trigger", {{"source", "api"}, {"provider", "test"}, {"timestamp", "2026-11-24T12:00:00Z"}}},
                          {"context", {{"agentSlug", "builtin"}, {"environment", env}}},
                          {"payload", {{"requestsChange", true}}},
                          {"dedupeKey", key}}
               .dump() +
           "\n";
}

struct QueueCli : ::testing::Test {
    TempDir dir;
    RunOptions opt(const std::string& in = "")
    {
        RunOptions o;
        o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
        o.stdin_data = in;
        return o;
    }
};

}  // namespace

TEST_F(QueueCli, EnqueueQueuesParksAndDenies)
{
    std::string in = task("01M86TZH12FPQAZA78N10Q24A1", "compliance-remediation", "staging", "a") +
                     task("01M86TZH12FPQAZA78N10Q24A2", "compliance-remediation", "production", "b") +
                     task("01M86TZH12FPQAZA78N10Q24A3", "chat", "production", "c");
    auto r = run_cli({"enqueue"}, opt(in));
    EXPECT_EQ(r.exit_code, 3) << r.err;  // one denied
    auto out = lines(r.out);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0]["state"], "queued");
    EXPECT_EQ(out[1]["state"], "pending-approval");
    EXPECT_EQ(out[2]["state"], "denied");
    EXPECT_NE(out[2]["reason"].get<std::string>().find("chat agents never change production"), std::string::npos);

    auto stats = nlohmann::json::parse(run_cli({"queue", "stats", "--json"}, opt()).out);
    EXPECT_EQ(stats["states"]["queued"], 1);
    EXPECT_EQ(stats["states"]["pending-approval"], 1);
    EXPECT_FALSE(stats["states"].contains("denied"));  // never queued

    // The same work again is not queued twice.
    auto again =
        run_cli({"enqueue"}, opt(task("01M86TZH12FPQAZA78N10Q24A9", "compliance-remediation", "staging", "a")));
    EXPECT_EQ(again.exit_code, 0);
    auto dup = lines(again.out);
    EXPECT_EQ(dup[0]["duplicate"], true);
    EXPECT_EQ(dup[0]["id"], "01M86TZH12FPQAZA78N10Q24A1");
}

TEST_F(QueueCli, OnlyPendingExits4)
{
    auto r = run_cli({"enqueue"}, opt(task("01M86TZH12FPQAZA78N10Q24B1", "drift-detection", "prod-eu", "d")));
    EXPECT_EQ(r.exit_code, 4);
}

TEST_F(QueueCli, BadInputQueuesNothing)
{
    std::string in = task("01M86TZH12FPQAZA78N10Q24C1", "compliance-remediation", "staging", "x") + "{\"type\": \n";
    auto r = run_cli({"enqueue"}, opt(in));
    EXPECT_EQ(r.exit_code, 65);
    EXPECT_TRUE(r.out.empty());
    auto ls = run_cli({"queue", "ls", "--json"}, opt());
    EXPECT_TRUE(ls.out.empty()) << ls.out;
    auto kg = run_cli({"enqueue", "--keep-going"}, opt(in));
    EXPECT_EQ(kg.exit_code, 65);
    EXPECT_EQ(lines(kg.out).size(), 1u);
}

TEST_F(QueueCli, ListShowCancelRetryPurge)
{
    ASSERT_EQ(run_cli({"enqueue", "--delay", "1h"},
                      opt(task("01M86TZH12FPQAZA78N10Q24D1", "compliance-remediation", "staging", "e")))
                  .exit_code,
              0);
    auto ls = lines(run_cli({"queue", "ls", "--state", "queued"}, opt()).out);
    ASSERT_EQ(ls.size(), 1u);
    EXPECT_EQ(ls[0]["id"], "01M86TZH12FPQAZA78N10Q24D1");
    auto show = run_cli({"queue", "show", "01M86TZH12FPQAZA78N10Q24D"}, opt());
    ASSERT_EQ(show.exit_code, 0) << show.err;
    auto j = nlohmann::json::parse(show.out);
    EXPECT_EQ(j["task"]["dedupeKey"], "e");
    EXPECT_EQ(j["decision"]["tier"], 2);
    EXPECT_EQ(nlohmann::json::parse(run_cli({"queue", "stats", "--json"}, opt()).out)["delayed"], 1);

    EXPECT_EQ(run_cli({"queue", "cancel", "01M86TZH12FPQAZA78N10Q24D1"}, opt()).exit_code, 0);
    auto twice = run_cli({"queue", "cancel", "01M86TZH12FPQAZA78N10Q24D1"}, opt());
    EXPECT_EQ(twice.exit_code, 1);
    EXPECT_NE(twice.err.find("is cancelled, not unfinished"), std::string::npos) << twice.err;
    EXPECT_EQ(run_cli({"queue", "retry", "01M86TZH12FPQAZA78N10Q24D1"}, opt()).exit_code, 0);
    EXPECT_EQ(run_cli({"queue", "cancel", "01M86TZH12FPQAZA78N10Q24D1"}, opt()).exit_code, 0);
    auto purge = run_cli({"queue", "purge", "--older-than", "0s"}, opt());
    EXPECT_EQ(purge.exit_code, 0) << purge.err;
    EXPECT_EQ(nlohmann::json::parse(purge.out)["purged"], 1);
    EXPECT_EQ(run_cli({"queue", "show", "01M86TZH12FPQAZA78N10Q24D1"}, opt()).exit_code, 1);
    EXPECT_EQ(run_cli({"queue", "ls", "--state", "bogus"}, opt()).exit_code, 64);
    EXPECT_EQ(run_cli({"queue", "purge", "--state", "queued"}, opt()).exit_code, 64);
}

TEST_F(QueueCli, AnotherQueueByUrl)
{
    std::string url = "sqlite://" + (dir / "other.db").string();
    ASSERT_EQ(run_cli({"enqueue", "--queue", url}, opt(task("01M86TZH12FPQAZA78N10Q24E1", "pr-review", "dev", "f")))
                  .exit_code,
              0);
    EXPECT_EQ(lines(run_cli({"queue", "ls", "--queue", url}, opt()).out).size(), 1u);
    EXPECT_TRUE(run_cli({"queue", "ls"}, opt()).out.empty());
    auto bad = run_cli({"queue", "ls", "--queue", "mysql://x"}, opt());
    EXPECT_EQ(bad.exit_code, 64);
    EXPECT_NE(bad.err.find("unsupported queue URL 'mysql://x'"), std::string::npos);
}

TEST_F(QueueCli, WorkerAndRunDecideFirst)
{
    auto w = run_cli({"worker", "--once", "--json"}, opt());
    EXPECT_EQ(w.exit_code, 0) << w.err;
    EXPECT_EQ(nlohmann::json::parse(w.out)["claimed"], 0);
    auto r = run_cli({"run"}, opt(task("01M86TZH12FPQAZA78N10Q24F1", "compliance-remediation", "production", "g")));
    EXPECT_EQ(r.exit_code, 4);  // policy first: production waits for approval
    auto denied = run_cli({"run"}, opt(task("01M86TZH12FPQAZA78N10Q24F2", "chat", "production", "h")));
    EXPECT_EQ(denied.exit_code, 3);
    EXPECT_EQ(run_cli({"worker", "--lease", "soon"}, opt()).exit_code, 64);
    EXPECT_EQ(run_cli({"worker", "--sandbox", "chroot"}, opt()).exit_code, 64);
}

// A worker outlives whoever reads its output: with the reader gone, writing
// an event fails quietly and every task is still worked and acknowledged
// (the CLI's filters, like `ingest ... | head`, end at a closed pipe instead).
TEST_F(QueueCli, AWorkerWhoseReaderWentAwayFinishesItsTasks)
{
    write_file(dir / "home/config.yaml", "exec:\n  command: [sh, -c, \"echo done by exec\"]\n");
    write_file(dir / "ws/main.tf", "status = 1\n");
    std::string in;
    for (int i = 0; i < 5; ++i) {
        auto t = nlohmann::json::parse(task("01M86TZH12FPQAZA78N10Q24P" + std::to_string(i), "compliance-remediation",
                                            "staging", "pipe-" + std::to_string(i)));
        t["context"]["agentSlug"] = "exec";
        in += t.dump() + "\n";
    }
    ASSERT_EQ(run_cli({"enqueue"}, opt(in)).exit_code, 0);
    // `true` exits at once: the worker's first event meets a closed pipe.
    auto status = dir / "status";
    auto r = infra::test::run_program(
        "/bin/sh",
        {"-c", "(\"$0\" worker --drain --events stdout --workspace \"$1\"; echo $? > \"$2\") | true", INFRA_AGENT_BIN,
         (dir / "ws").string(), status.string()},
        opt());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(infra::test::read_file(status), "0\n") << r.err;
    auto ls = run_cli({"queue", "ls", "--json"}, opt());
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    auto entries = lines(ls.out);
    ASSERT_EQ(entries.size(), 5u) << ls.out;
    for (const auto& e : entries) EXPECT_EQ(e["state"], "succeeded") << e.dump();
}

// SIGTERM stops claiming and lets the running task finish: the worker's
// threads (its state sink's writer among them) leave the signal to the one
// that stops it, where it once ended the process at once (exit 143).
TEST_F(QueueCli, SigtermLetsTheRunningTaskFinish)
{
    write_file(dir / "home/config.yaml", "exec:\n  command: [sh, -c, \"sleep 2; echo done by exec\"]\n");
    write_file(dir / "ws/main.tf", "status = 1\n");
    auto t = nlohmann::json::parse(task("01M86TZH12FPQAZA78N10Q24Q0", "compliance-remediation", "staging", "term-1"));
    t["context"]["agentSlug"] = "exec";
    ASSERT_EQ(run_cli({"enqueue"}, opt(t.dump() + "\n")).exit_code, 0);
    infra::test::Background worker({"worker", "--workspace", (dir / "ws").string()}, opt());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
        auto ls = run_cli({"queue", "ls", "--json"}, opt());
        if (ls.out.find("\"leased\"") != std::string::npos) break;
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << ls.out << worker.err();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(worker.stop(SIGTERM), 0) << worker.err();
    EXPECT_NE(worker.err().find("stopping: finishing running tasks"), std::string::npos) << worker.err();
    auto ls = lines(run_cli({"queue", "ls", "--json"}, opt()).out);
    ASSERT_EQ(ls.size(), 1u);
    EXPECT_EQ(ls[0]["state"], "succeeded") << ls[0].dump();
}
