// bench/queue, our side: the queue with durable commits, on SQLite,
// PostgreSQL or Redis Streams.
// Usage: queue_bench QUEUE enqueue N
//        queue_bench QUEUE e2e N WORKERS BATCH [observe]
// QUEUE is a SQLite file or a queue URL (postgres://..., redis://...).
// BATCH 1 makes every claim and ack its own commit; observe records every
// event and span in the same database's audit chain, as the worker command
// does (without it they are dropped; SQLite only).
// Prints one JSON line in the shape bullmq.mjs prints.
#include "core/events/event.hpp"
#include "core/process.hpp"
#include "core/worker.hpp"
#include "plugins/queues/postgres_queue.hpp"
#include "plugins/queues/redis_queue.hpp"
#include "plugins/queues/sqlite_queue.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>

using namespace infra::core;
using clock_type = std::chrono::steady_clock;

namespace {

const std::string k_blob(1000, 'x');

queue::EnqueueItem make(int k)
{
    AgentTask t;
    t.id = "J" + std::to_string(10000000 + k);
    t.type = TaskType::compliance_remediation;
    t.trigger = {"api", "bench", "", "2026-11-24T12:00:00.000Z"};
    t.context.agent_slug = "noop";
    t.payload = {{"blob", k_blob}, {"k", k}};
    t.dedupe_key = "d" + std::to_string(k);
    return {std::move(t), json{{"allowed", true}, {"tier", 1}}, queue::State::queued, queue::Millis(0), 3};
}

class Noop final : public agent::Agent {
public:
    std::string name() const override { return "noop"; }
    agent::Outcome run(const agent::RunContext&) override { return {true, "", nullptr, true}; }
};

// Records when each task's success was reported (after its ack committed,
// or, where the queue carries the events, inside the ack's commit), and
// passes every event on.
class Timing final : public events::EventSink {
public:
    explicit Timing(events::EventSink& inner) : m_inner(inner) {}
    void emit(events::Event e) override
    {
        if (e.type == "task.succeeded") {
            auto now = clock_type::now();
            std::lock_guard lock(m);
            done[e.task_id] = now;
        }
        m_inner.emit(std::move(e));
    }
    void flush() override { m_inner.flush(); }
    events::EventSink& m_inner;
    std::mutex m;
    std::map<std::string, clock_type::time_point> done;
};

}  // namespace

int main(int argc, char** argv)
{
    infra::core::process::retain_heap();  // as the worker command does
    if (argc < 4) {
        std::fprintf(stderr, "usage: queue_bench QUEUE enqueue N | queue_bench QUEUE e2e N WORKERS BATCH\n");
        return 64;
    }
    std::string db = argv[1], mode = argv[2];
    int n = std::atoi(argv[3]);
    queue::Registry backends;
    backends.add("sqlite", infra::plugins::queues::open_sqlite_url);
    backends.add("postgres", infra::plugins::queues::open_postgres_url);
    backends.add("redis", infra::plugins::queues::open_redis_url);
    bool is_file = db.find("://") == std::string::npos;
    bool observe = argc > 6 && std::string(argv[6]) == "observe" && is_file && mode == "e2e";
    // With observe, the events go to the queue's own database, whose queue
    // carries them in its commits, as the worker command's do; the queue
    // creates the database first.
    std::unique_ptr<events::StateSink> state;
    if (observe) {
        if (auto created = backends.open("sqlite://" + db); !created) {
            std::fprintf(stderr, "%s\n", created.error().message.c_str());
            return 1;
        }
        auto s = events::StateSink::open(db);
        if (!s) {
            std::fprintf(stderr, "%s\n", s.error().message.c_str());
            return 1;
        }
        state = std::move(*s);
    }
    events::NullSink dropped;
    Timing timing(state ? static_cast<events::EventSink&>(*state) : dropped);
    auto q = backends.open(is_file ? "sqlite://" + db : db, {&timing});
    if (!q) {
        std::fprintf(stderr, "%s\n", q.error().message.c_str());
        return 1;
    }
    if (state && !(*q)->carry_events(*state)) {
        std::fprintf(stderr, "the queue does not carry the events of its own database\n");
        return 1;
    }
    if (mode == "enqueue") {
        auto t0 = clock_type::now();
        for (int i = 0; i < n; i += 1000) {
            std::vector<queue::EnqueueItem> items;
            for (int k = i; k < std::min(n, i + 1000); ++k) items.push_back(make(k));
            if (!(*q)->enqueue(std::move(items))) return 1;
        }
        double s = std::chrono::duration<double>(clock_type::now() - t0).count();
        std::printf("{\"engine\":\"infra-agent\",\"mode\":\"enqueue\",\"jobs\":%d,\"jobsPerSecond\":%.1f}\n", n, n / s);
        return 0;
    }
    int workers = std::atoi(argv[4]);
    std::size_t batch = static_cast<std::size_t>(std::atoi(argv[5]));
    agent::Registry agents;
    agents.add(std::make_shared<Noop>());
    std::map<std::string, clock_type::time_point> added;
    std::mutex added_m;
    WorkerOptions o;
    o.concurrency = workers;
    o.batch = batch;
    o.poll = std::chrono::milliseconds(1);
    Worker w(**q, agents, timing, nullptr, o);
    auto t0 = clock_type::now();
    std::thread producer([&] {
        for (int i = 0; i < n; i += 500) {
            std::vector<queue::EnqueueItem> items;
            for (int k = i; k < std::min(n, i + 500); ++k) items.push_back(make(k));
            auto now = clock_type::now();
            {
                std::lock_guard lock(added_m);
                for (const auto& it : items) added[it.task.id] = now;
            }
            if (!(*q)->enqueue(std::move(items))) std::abort();
        }
    });
    std::thread stopper([&] {
        for (;;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            std::lock_guard lock(timing.m);
            if (static_cast<int>(timing.done.size()) >= n) break;
        }
        w.stop();
    });
    auto summary = w.run();
    producer.join();
    stopper.join();
    timing.flush();  // every event on disk counts against the run
    double s = std::chrono::duration<double>(clock_type::now() - t0).count();
    std::vector<double> lat;
    for (const auto& [id, t] : timing.done)
        lat.push_back(std::chrono::duration<double, std::milli>(t - added[id]).count());
    std::sort(lat.begin(), lat.end());
    std::printf(
        "{\"engine\":\"infra-agent\",\"mode\":\"e2e\",\"jobs\":%d,\"workers\":%d,\"batch\":%zu,\"jobsPerSecond\":%.1f,"
        "\"p50ms\":%.2f,\"p99ms\":%.2f,\"succeeded\":%zu,\"observe\":%s}\n",
        n, workers, batch, n / s, lat[lat.size() / 2], lat[lat.size() * 99 / 100], summary ? summary->succeeded : 0,
        observe ? "true" : "false");
    return 0;
}
