#include "core/events/event.hpp"

#include "core/events/audit.hpp"
#include "core/events/trace.hpp"
#include "core/log.hpp"
#include "core/store/db.hpp"
#include "core/timeutil.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <thread>
#include <tuple>

namespace infra::core::events {

json to_json(const Event& e)
{
    json j = {{"type", "event"}, {"event", e.type}, {"time", e.time}};
    if (!e.task_id.empty()) j["taskId"] = e.task_id;
    if (!e.trace_id.empty()) j["traceId"] = e.trace_id;
    if (!e.span_id.empty()) j["spanId"] = e.span_id;
    if (!e.parent_id.empty()) j["parentSpanId"] = e.parent_id;
    j["data"] = e.data;
    return j;
}

Result<Event> event_from_json(const json& j)
{
    if (!j.is_object()) return fail(Errc::invalid_input, "an event must be a JSON object");
    auto text = [&](const char* key, bool required, std::string& out) -> Status {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) {
            if (required) return fail(Errc::invalid_input, std::string("event: missing \"") + key + "\"");
            return {};
        }
        if (!it->is_string()) return fail(Errc::invalid_input, std::string("event: \"") + key + "\" must be a string");
        out = it->get<std::string>();
        return {};
    };
    Event e;
    for (auto [key, required, out] :
         {std::tuple{"event", true, &e.type}, std::tuple{"time", true, &e.time},
          std::tuple{"taskId", false, &e.task_id}, std::tuple{"traceId", false, &e.trace_id},
          std::tuple{"spanId", false, &e.span_id}, std::tuple{"parentSpanId", false, &e.parent_id}})
        if (auto st = text(key, required, *out); !st) return st.error();
    if (e.type.empty()) return fail(Errc::invalid_input, "event: \"event\" is empty");
    if (auto it = j.find("data"); it != j.end()) {
        if (!it->is_object()) return fail(Errc::invalid_input, "event: \"data\" must be an object");
        e.data = *it;
    }
    return e;
}

void stamp(Event& e)
{
    if (e.time.empty()) e.time = timeutil::now_rfc3339();
    if (e.trace_id.empty()) {
        const SpanContext& now = current_context();
        e.trace_id = now.trace_id;
        if (e.span_id.empty()) e.span_id = now.span_id;
    }
}

void MemorySink::emit(Event e)
{
    stamp(e);
    // As the other sinks do: secrets are replaced in the serialized text.
    e.data = json::parse(log::redact(e.data.dump(-1, ' ', false, json::error_handler_t::replace)));
    std::lock_guard lock(m_mutex);
    m_events.push_back(std::move(e));
}

std::vector<Event> MemorySink::events() const
{
    std::lock_guard lock(m_mutex);
    return m_events;
}

void JsonLinesSink::emit(Event e)
{
    stamp(e);
    std::string line = log::redact(to_json(e).dump(-1, ' ', false, json::error_handler_t::replace)) + "\n";
    std::lock_guard lock(m_mutex);
    std::fwrite(line.data(), 1, line.size(), m_out);
}

void JsonLinesSink::flush()
{
    std::lock_guard lock(m_mutex);
    std::fflush(m_out);
}

// Events are written in batches: they are made ready (text, links) outside
// any transaction, then written in transactions of at most k_tx_events, so
// that recording them holds the database's write lock, which the queue's
// claims and acks need, for a short while at a time.
constexpr std::size_t k_batch = 4096;
constexpr std::size_t k_tx_events = 256;

struct StateSink::Impl {
    std::unique_ptr<store::Db> db;
    std::mutex mutex;
    std::condition_variable cv;       // wakes the writer
    std::condition_variable idle_cv;  // wakes flush()
    std::vector<Event> pending;
    bool stop = false;
    bool flush_requested = false;
    bool writing = false;
    std::thread writer;
    // The head this sink left; the next batch is linked on from it, and
    // linked again in its transaction if another writer appended since.
    audit::Head head{0, audit::k_genesis};
    std::unique_ptr<audit::Appender> appender;  // over db

    void write(std::vector<Event>& batch)
    {
        std::vector<audit::Prepared> parts;
        audit::Head next = head;
        for (std::size_t at = 0; at < batch.size(); at += k_tx_events) {
            std::vector<Event> part;
            for (std::size_t i = at; i < std::min(batch.size(), at + k_tx_events); ++i)
                part.push_back(std::move(batch[i]));
            parts.push_back(audit::prepare(std::move(part), next));
            next = parts.back().last();
        }
        batch.clear();
        for (auto& part : parts) {
            auto tx = store::Transaction::begin(*db);
            Result<audit::Head> now = tx ? appender->append(part) : Result<audit::Head>(tx.error());
            Status st = now ? tx->commit() : Status(now.error());
            if (st) head = std::move(*now);
            else spdlog::warn("cannot record {} events: {}", part.events.size(), st.error().message);
        }
    }

    void loop()
    {
        std::unique_lock lock(mutex);
        for (;;) {
            cv.wait_for(lock, std::chrono::milliseconds(50),
                        [&] { return stop || flush_requested || pending.size() >= k_batch; });
            std::vector<Event> batch;
            batch.swap(pending);
            flush_requested = false;
            writing = true;
            bool done = stop;
            lock.unlock();
            write(batch);
            lock.lock();
            writing = false;
            idle_cv.notify_all();
            if (done && pending.empty()) return;
        }
    }
};

Result<std::unique_ptr<StateSink>> StateSink::open(const std::string& location)
{
    auto db = store::Db::open(location, false);
    if (!db) return db.error();
    std::unique_ptr<StateSink> sink(new StateSink());
    sink->m_impl = std::make_unique<Impl>();
    sink->m_impl->db = std::move(*db);
    sink->m_impl->appender = std::make_unique<audit::Appender>(*sink->m_impl->db);
    // Events are observability: NORMAL sync is durable across a process
    // crash, which is what a worker dying needs.
    (void)sink->m_impl->db->relax_sync();
    sink->m_impl->writer = std::thread([impl = sink->m_impl.get()] { impl->loop(); });
    return sink;
}

StateSink::~StateSink()
{
    if (!m_impl) return;
    {
        std::lock_guard lock(m_impl->mutex);
        m_impl->stop = true;
    }
    m_impl->cv.notify_all();
    if (m_impl->writer.joinable()) m_impl->writer.join();
}

void StateSink::emit(Event e)
{
    stamp(e);
    std::lock_guard lock(m_impl->mutex);
    m_impl->pending.push_back(std::move(e));
    if (m_impl->pending.size() >= k_batch) m_impl->cv.notify_all();
}

void StateSink::flush()
{
    std::unique_lock lock(m_impl->mutex);
    m_impl->flush_requested = true;
    m_impl->cv.notify_all();
    m_impl->idle_cv.wait(lock, [&] { return m_impl->pending.empty() && !m_impl->writing; });
}

}  // namespace infra::core::events
