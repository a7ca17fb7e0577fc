// A worker process for the reliability tests: the real Worker and SQLite
// queue, with an agent that writes START and END lines (task, token, pid,
// microseconds) to a shared log so tests can check what ran when.
// Usage: infra_test_worker QUEUE LOG [--concurrency N] [--lease MS] [--drain] [--batch N] [--events]
// QUEUE is a SQLite file or a queue URL (sqlite://, postgres://, redis://).
// --events records the events in a SQLite queue's own database, carried in
// the queue's commits, as the worker command does.
#include "core/events/event.hpp"
#include "core/json_access.hpp"
#include "core/worker.hpp"
#include "plugins/queues/postgres_queue.hpp"
#include "plugins/queues/redis_queue.hpp"
#include "plugins/queues/sqlite_queue.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <thread>
#include <unistd.h>

using namespace infra::core;

namespace {

long long now_us()
{
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class LoggingAgent final : public agent::Agent {
public:
    explicit LoggingAgent(int fd) : m_fd(fd) {}
    std::string name() const override { return "test"; }
    agent::Outcome run(const agent::RunContext& ctx) override
    {
        const std::string& id = ctx.task.id;
        log("START", id, ctx.lease_token);
        auto ms = infra::core::int_member(ctx.task.payload, "sleepMs", 5);
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < until) {
            if (ctx.cancelled()) {
                log("END", id, ctx.lease_token);  // it stops here, and says when
                return {false, "cancelled", {}, true};
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        log("END", id, ctx.lease_token);
        return {true, "", {{"token", ctx.lease_token}, {"pid", ::getpid()}}, true};
    }

private:
    void log(const char* what, const std::string& id, std::int64_t token)
    {
        // One write per line with O_APPEND: lines of several processes never mix.
        std::string line = std::string(what) + " " + id + " " + std::to_string(token) + " " +
                           std::to_string(::getpid()) + " " + std::to_string(now_us()) + "\n";
        (void)!::write(m_fd, line.data(), line.size());
    }
    int m_fd;
};

}  // namespace

int main(int argc, char** argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: infra_test_worker QUEUE LOG [--concurrency N] [--lease MS] [--drain] [--batch N] "
                             "[--events]\n");
        return 64;
    }
    WorkerOptions opt;
    opt.poll = std::chrono::milliseconds(10);
    opt.backoff = {std::chrono::milliseconds(10), std::chrono::milliseconds(50)};
    bool record = false;
    for (int i = 3; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--drain") opt.drain = true;
        else if (a == "--events") record = true;
        else if (a == "--concurrency" && i + 1 < argc) opt.concurrency = std::atoi(argv[++i]);
        else if (a == "--lease" && i + 1 < argc) opt.lease = std::chrono::milliseconds(std::atoi(argv[++i]));
        else if (a == "--batch" && i + 1 < argc) opt.batch = static_cast<std::size_t>(std::atoi(argv[++i]));
    }
    int fd = ::open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return 1;
    queue::Registry backends;
    backends.add("sqlite", infra::plugins::queues::open_sqlite_url);
    backends.add("postgres", infra::plugins::queues::open_postgres_url);
    backends.add("redis", infra::plugins::queues::open_redis_url);
    std::string url = argv[1];
    if (url.find("://") == std::string::npos) url = "sqlite://" + url;
    std::unique_ptr<events::StateSink> state;  // outlives the queue that carries it
    if (record) {
        auto s = events::StateSink::open(url.substr(9));
        if (!s) {
            std::fprintf(stderr, "%s\n", s.error().message.c_str());
            return 1;
        }
        state = std::move(*s);
    }
    events::NullSink dropped;
    events::EventSink& events = state ? static_cast<events::EventSink&>(*state) : dropped;
    auto q = backends.open(url, {&events});
    if (!q) {
        std::fprintf(stderr, "%s\n", q.error().message.c_str());
        return 1;
    }
    if (state && !(*q)->carry_events(*state)) {
        std::fprintf(stderr, "the queue at %s does not carry its database's events\n", url.c_str());
        return 1;
    }
    agent::Registry agents;
    agents.add(std::make_shared<LoggingAgent>(fd));
    Worker worker(**q, agents, events, nullptr, opt);
    auto s = worker.run();
    if (!s) {
        std::fprintf(stderr, "%s\n", s.error().message.c_str());
        return 1;
    }
    std::printf("%zu %zu %zu\n", s->claimed, s->succeeded, s->lost);
    return 0;
}
