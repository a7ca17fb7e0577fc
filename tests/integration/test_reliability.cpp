// Reliability of the queue with real processes: several workers on one
// queue, workers killed with SIGKILL throughout (on every backend, against
// real servers), and an enqueue killed in the middle of its batch.
#include "core/events/audit.hpp"
#include "core/store/db.hpp"
#include "plugins/queues/postgres_queue.hpp"
#include "plugins/queues/redis_queue.hpp"
#include "plugins/queues/sqlite_queue.hpp"
#include "support/fixtures.hpp"
#include "support/run.hpp"
#include "support/servers.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>

using namespace infra::core;
using infra::test::TempDir;

extern "C" char** environ;

namespace {

long long now_us()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Result<std::unique_ptr<queue::Queue>> open_queue(const std::string& url)
{
    queue::Registry backends;
    backends.add("sqlite", infra::plugins::queues::open_sqlite_url);
    backends.add("postgres", infra::plugins::queues::open_postgres_url);
    backends.add("redis", infra::plugins::queues::open_redis_url);
    return backends.open(url);
}

void enqueue_tasks(const std::string& url, int n, int max_attempts)
{
    auto q = open_queue(url);
    ASSERT_TRUE(q) << q.error().message;
    std::vector<queue::EnqueueItem> items;
    std::mt19937 rng(1);
    for (int i = 0; i < n; ++i) {
        AgentTask t;
        t.id = "T" + std::to_string(100000 + i);
        t.type = TaskType::compliance_remediation;
        t.trigger = {"api", "test", "", "2026-11-24T12:00:00.000Z"};
        t.context.agent_slug = "test";
        t.context.priority = static_cast<Priority>(i % 4);
        t.payload = {{"sleepMs", 2 + static_cast<int>(rng() % 7)}};
        t.dedupe_key = "k" + std::to_string(i);
        items.push_back(
            {t, json{{"allowed", true}, {"tier", 2}}, queue::State::queued, queue::Millis(0), max_attempts});
    }
    ASSERT_TRUE((*q)->enqueue(std::move(items)));
}

pid_t spawn(const std::vector<std::string>& args)
{
    std::vector<char*> argv;
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

struct Run {
    long long start = 0, end = 0;
    int pid = 0;
};

// task -> token -> its START/END.
std::map<std::string, std::map<long long, Run>> read_log(const std::string& path)
{
    std::map<std::string, std::map<long long, Run>> runs;
    std::ifstream in(path);
    std::string what, id;
    long long token, pid, t;
    while (in >> what >> id >> token >> pid >> t) {
        Run& r = runs[id][token];
        r.pid = static_cast<int>(pid);
        (what == "START" ? r.start : r.end) = t;
    }
    return runs;
}

struct Final {
    std::map<std::string, std::string> state;
    std::map<std::string, long long> fence;
    std::map<std::string, long long> acked_token;
    std::map<std::string, long long> attempts;
    std::string integrity;
};

Final read_final(const std::string& url, int n)
{
    Final f;
    auto q = open_queue(url);
    EXPECT_TRUE(q) << q.error().message;
    if (!q) return f;
    for (int i = 0; i < n; ++i) {
        std::string id = "T" + std::to_string(100000 + i);
        auto e = (*q)->show(id);
        if (!e) continue;
        f.state[id] = std::string(queue::to_string(e->state));
        f.fence[id] = e->fence;
        f.attempts[id] = e->attempts;
        if (e->result.is_object()) f.acked_token[id] = e->result.value("token", -1LL);
    }
    f.integrity = "ok";
    if (url.rfind("sqlite://", 0) == 0) {
        auto d = store::Db::open(url.substr(9), false);
        EXPECT_TRUE(d);
        auto ic = (*d)->prepare("PRAGMA integrity_check");
        if (*ic->step()) f.integrity = ic->text(0);
    }
    return f;
}

// No two attempts of a task overlapped: attempt t2 started only after t1
// ended, or after t1's worker was killed.
int overlaps(const std::map<std::string, std::map<long long, Run>>& runs, const std::map<int, long long>& killed_at)
{
    int bad = 0;
    for (const auto& [id, tokens] : runs) {
        const Run* prev = nullptr;
        for (const auto& [token, r] : tokens) {
            if (prev) {
                long long prev_end = prev->end ? prev->end : killed_at.count(prev->pid) ? killed_at.at(prev->pid) : 0;
                if (prev_end == 0 || r.start < prev_end) ++bad;
            }
            prev = &r;
        }
    }
    return bad;
}

// Each test runs against a SQLite file, and PostgreSQL and Redis servers of its own.
struct ReliabilityOf : ::testing::TestWithParam<std::string> {
    TempDir dir;
    std::unique_ptr<infra::test::PostgresServer> postgres;
    std::unique_ptr<infra::test::RedisServer> redis;
    std::string db;

    void SetUp() override
    {
        if (GetParam() == "redis") {
            redis = std::make_unique<infra::test::RedisServer>();
            ASSERT_TRUE(redis->ok()) << redis->error();
            db = redis->url();
        } else if (GetParam() == "postgres") {
            postgres = std::make_unique<infra::test::PostgresServer>();
            ASSERT_TRUE(postgres->ok()) << postgres->error();
            db = postgres->url();
        } else {
            db = "sqlite://" + (dir / "q.db").string();
        }
    }
};

}  // namespace

TEST_P(ReliabilityOf, SeveralWorkerProcessesNeitherDoubleRunNorLose)
{
    std::string log = (dir / "runs.log").string();
    enqueue_tasks(db, 300, 5);
    std::vector<pid_t> pids;
    for (int i = 0; i < 3; ++i)
        pids.push_back(spawn({INFRA_TEST_WORKER, db, log, "--drain", "--concurrency", "2", "--lease", "10000"}));
    for (pid_t p : pids) {
        int status = 0;
        waitpid(p, &status, 0);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    auto f = read_final(db, 300);
    EXPECT_EQ(f.state.size(), 300u);
    for (const auto& [id, st] : f.state) EXPECT_EQ(st, "succeeded") << id;
    auto runs = read_log(log);
    EXPECT_EQ(runs.size(), 300u);
    for (const auto& [id, tokens] : runs) EXPECT_EQ(tokens.size(), 1u) << id << " ran more than once";
    EXPECT_EQ(overlaps(runs, {}), 0);
    EXPECT_EQ(f.integrity, "ok");
}

TEST_P(ReliabilityOf, ChaosWorkersKilledThroughoutLoseNothing)
{
    std::string log = (dir / "runs.log").string();
    const int tasks = 1000, workers = 4;
    enqueue_tasks(db, tasks, 100);
    auto start_worker = [&] {
        // Batched claims and acks, so that a kill can land between a run and its deferred ack. The
        // lease leaves room for a worker starved of CPU by other tests to notice it lost the lease.
        std::vector<std::string> args = {INFRA_TEST_WORKER, db,  log,      "--concurrency", "2", "--lease", "4000",
                                         "--batch",         "4", "--drain"};
        // On SQLite, the events too: they commit with the acks.
        if (GetParam() == "sqlite") args.push_back("--events");
        return spawn(args);
    };
    std::vector<pid_t> pids;
    for (int i = 0; i < workers; ++i) pids.push_back(start_worker());
    std::mt19937 rng(std::random_device{}());
    std::map<int, long long> killed_at;
    int kills = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
    auto q = open_queue(db);
    ASSERT_TRUE(q) << q.error().message;
    for (;;) {
        auto st = (*q)->stats();
        ASSERT_TRUE(st);
        long long open = st->by_state["queued"] + st->by_state["leased"];
        if (open == 0) break;
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << open << " tasks still open";
        std::this_thread::sleep_for(std::chrono::milliseconds(60 + rng() % 120));
        // Kill one worker at random while tasks remain, and start another.
        std::size_t i = rng() % pids.size();
        if (::kill(pids[i], SIGKILL) == 0) {
            killed_at[pids[i]] = now_us();
            ++kills;
        }
        waitpid(pids[i], nullptr, 0);
        pids[i] = start_worker();
        // Drained workers exit; keep the pool full until the queue is empty.
        for (auto& p : pids)
            if (waitpid(p, nullptr, WNOHANG) == p) p = start_worker();
    }
    for (pid_t p : pids) {
        ::kill(p, SIGTERM);
        waitpid(p, nullptr, 0);
    }
    auto f = read_final(db, tasks);
    auto runs = read_log(log);
    int lost = 0, duplicated = 0, reruns = 0;
    for (int i = 0; i < tasks; ++i) {
        std::string id = "T" + std::to_string(100000 + i);
        if (f.state[id] != "succeeded") ++lost;
        // Exactly one success: the result recorded is that of the attempt
        // holding the last fencing token.
        if (!f.acked_token.count(id) || f.acked_token[id] != f.fence[id]) ++duplicated;
        if (runs[id].size() > 1) ++reruns;
    }
    std::printf(
        "chaos (%s): %d tasks, %d workers, %d kills, %d lost, %d duplicated, %d re-run after a kill, integrity %s\n",
        GetParam().c_str(), tasks, workers, kills, lost, duplicated, reruns, f.integrity.c_str());
    EXPECT_EQ(f.state.size(), static_cast<std::size_t>(tasks));
    EXPECT_EQ(lost, 0);
    EXPECT_EQ(duplicated, 0);
    EXPECT_GT(kills, 5);
    EXPECT_EQ(overlaps(runs, killed_at), 0);
    EXPECT_EQ(f.integrity, "ok");
    if (GetParam() == "sqlite") {
        // Every acked task's success is in the audit log once, from the
        // attempt that was acked, though workers were killed after acks.
        auto d = store::Db::open(db.substr(9), false);
        ASSERT_TRUE(d) << d.error().message;
        auto s = (*d)->prepare("SELECT task_id, COUNT(*), MAX(json_extract(data, '$.attempt')) FROM events "
                               "WHERE type = 'task.succeeded' GROUP BY task_id");
        ASSERT_TRUE(s);
        std::map<std::string, std::pair<long long, long long>> recorded;
        while (*s->step()) recorded[s->text(0)] = {s->integer(1), s->integer(2)};
        int unrecorded = 0;
        for (const auto& [id, state] : f.state) {
            if (state != "succeeded") continue;
            auto it = recorded.find(id);
            if (it == recorded.end()) ++unrecorded;
            else EXPECT_EQ(it->second, std::make_pair(1LL, f.attempts[id])) << id;
        }
        EXPECT_EQ(unrecorded, 0);
        auto report = events::audit::verify(**d);
        ASSERT_TRUE(report) << report.error().message;
        EXPECT_FALSE(report->problem) << report->problem->message;
    }
}

INSTANTIATE_TEST_SUITE_P(Backends, ReliabilityOf, ::testing::Values("sqlite", "postgres", "redis"),
                         [](const auto& info) { return info.param; });

TEST(Reliability, KilledEnqueueLeavesAllOrNothingOfTheBatch)
{
    TempDir dir;
    const int n = 5000;
    infra::test::write_file(dir / "pol/p.yaml", "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: all}\n"
                                                "rules:\n  - {name: all, match: {}, tier: 2}\n");
    {
        std::ofstream out(dir / "tasks.jsonl");
        for (int i = 0; i < n; ++i)
            out << json{{"id", "E" + std::to_string(100000 + i)},
                        {"type", "compliance-remediation"},
                        {"trigger", {{"source", "api"}, {"provider", "test"}, {"timestamp", "2026-11-24T12:00:00Z"}}},
                        {"context", {{"agentSlug", "test"}}},
                        {"payload", {{"blob", std::string(200, 'x')}}},
                        {"dedupeKey", "e" + std::to_string(i)}}
                       .dump()
                << "\n";
    }
    auto enqueue = [&](const std::string& home) {
        return spawn({INFRA_AGENT_BIN, "--home", home, "-q", "enqueue", "--no-bundle", "--policies",
                      (dir / "pol").string(), (dir / "tasks.jsonl").string()});
    };
    // A full run first, to know how long one takes on this machine.
    auto t0 = std::chrono::steady_clock::now();
    pid_t full = enqueue((dir / "full").string());
    int status = 0;
    waitpid(full, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    double whole_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    // Then kills spread over that time, densest near the end where the batch commits.
    std::set<long long> seen;
    for (double frac : {0.1, 0.4, 0.7, 0.85, 0.9, 0.94, 0.97, 0.99, 1.01}) {
        int delay_ms = static_cast<int>(whole_ms * frac);
        std::string home = (dir / ("h" + std::to_string(delay_ms))).string();
        pid_t p = enqueue(home);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        ::kill(p, SIGKILL);
        waitpid(p, nullptr, 0);
        long long count = 0;
        std::string integrity = "ok";
        if (auto d = store::Db::open(home + "/state.db", false)) {
            if (auto s = (*d)->prepare("SELECT COUNT(*) FROM queue"); s && *s->step()) count = s->integer(0);
            if (auto ic = (*d)->prepare("PRAGMA integrity_check"); ic && *ic->step()) integrity = ic->text(0);
        }
        EXPECT_TRUE(count == 0 || count == n) << "killed after " << delay_ms << " ms: " << count << " tasks";
        EXPECT_EQ(integrity, "ok");
        seen.insert(count);
    }
    std::printf("enqueue of %d tasks takes %.0f ms; killed runs left %s\n", n, whole_ms,
                seen.size() == 2 ? "nothing, or everything"
                : seen.count(0)  ? "nothing"
                                 : "everything");
}
