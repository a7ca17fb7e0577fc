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
// Handed to another writer, the sink makes events ready (text, links) as
// soon as this many wait, and the writer's next commit carries them beside
// its own work; it asks for a transaction of its own only once k_interval
// passed since it last did, for what no commit of the writer carried since.
constexpr std::size_t k_through_batch = 16;
constexpr auto k_interval = std::chrono::milliseconds(50);

struct StateSink::Impl {
    std::string location;
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

    // Handed to another writer (write_through): held while asking it to
    // write, so that writing is handed back only between transactions.
    std::mutex through_mutex;
    std::function<Status()> request;
    // Events this sink made ready before asking for a transaction (the
    // writer's transaction then holds the write for the inserts only), in
    // the order they were emitted; the writer waits while more are made ready.
    std::vector<audit::Prepared> ready;
    bool preparing = false;
    std::condition_variable ready_cv;
    // The writer's connection, and how many events were appended in its
    // open transaction with the head they lead to, until it ends.
    store::Db* carrier = nullptr;
    std::unique_ptr<audit::Appender> carrier_appender;
    std::size_t in_flight = 0;
    audit::Head in_flight_head;

    // The link the next prepared events follow, as far as this sink knows.
    audit::Head next_link() const
    {
        if (!ready.empty()) return ready.back().last();
        return in_flight ? in_flight_head : head;
    }

    // Writes parts made ready before, then batch, on this sink's connection.
    void write(std::vector<audit::Prepared> parts, std::vector<Event>& batch)
    {
        audit::Head next = parts.empty() ? head : parts.back().last();
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

    // Makes what is pending ready for the writer this sink was handed to
    // (mutex held on entry and on return).
    void make_ready(std::unique_lock<std::mutex>& lock)
    {
        if (pending.empty()) return;
        std::vector<Event> batch;
        batch.swap(pending);
        preparing = true;
        audit::Head from = next_link();
        lock.unlock();
        auto prepared = audit::prepare(std::move(batch), std::move(from));
        lock.lock();
        ready.push_back(std::move(prepared));
        preparing = false;
        ready_cv.notify_all();
    }

    // Writes what is buffered: through the writer it was handed to, or on
    // this sink's own connection. Events that cannot be written are
    // dropped with a warning, either way.
    Status write_buffered(std::unique_lock<std::mutex>& lock)
    {
        lock.unlock();
        std::lock_guard through(through_mutex);
        Status st;
        if (request) {
            lock.lock();
            make_ready(lock);
            bool waiting = !ready.empty();
            lock.unlock();
            if (waiting) st = request();
        } else {
            lock.lock();
            std::vector<audit::Prepared> parts;
            parts.swap(ready);  // made ready for a writer since gone
            std::vector<Event> batch;
            batch.swap(pending);
            lock.unlock();
            write(std::move(parts), batch);
        }
        lock.lock();
        return st;
    }

    std::size_t batch_size() const { return request ? k_through_batch : k_batch; }

    void loop()
    {
        std::unique_lock lock(mutex);
        auto due = std::chrono::steady_clock::now() + k_interval;
        for (;;) {
            cv.wait_until(lock, due, [&] { return stop || flush_requested || pending.size() >= batch_size(); });
            bool write_now = stop || flush_requested || !request || std::chrono::steady_clock::now() >= due;
            flush_requested = false;
            writing = true;
            bool done = stop;
            Status st;
            if (!write_now) make_ready(lock);
            else if (!pending.empty() || !ready.empty()) st = write_buffered(lock);
            if (write_now) due = std::chrono::steady_clock::now() + k_interval;
            if (!st) {
                std::size_t n = pending.size();
                for (const auto& p : ready) n += p.events.size();
                spdlog::warn("cannot record {} events: {}", n, st.error().message);
                pending.clear();
                ready.clear();
            }
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
    sink->m_impl->location = location;
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
    if (m_impl->pending.size() == m_impl->batch_size()) m_impl->cv.notify_all();
}

void StateSink::flush()
{
    std::unique_lock lock(m_impl->mutex);
    m_impl->flush_requested = true;
    m_impl->cv.notify_all();
    m_impl->idle_cv.wait(lock, [&] {
        return m_impl->pending.empty() && m_impl->ready.empty() && m_impl->in_flight == 0 && !m_impl->writing;
    });
}

std::string StateSink::location() const
{
    return m_impl->location;
}

void StateSink::write_through(std::function<Status()> request)
{
    std::lock_guard through(m_impl->through_mutex);
    std::lock_guard lock(m_impl->mutex);
    m_impl->request = std::move(request);
    m_impl->carrier = nullptr;
    m_impl->carrier_appender.reset();
}

Status StateSink::append_buffered(store::Db& db)
{
    // Every event emitted so far goes in: those made ready, those being made
    // ready (waited for), then the rest.
    std::vector<audit::Prepared> parts;
    std::vector<Event> rest;
    audit::Head from;
    {
        std::unique_lock lock(m_impl->mutex);
        m_impl->ready_cv.wait(lock, [&] { return !m_impl->preparing; });
        from = m_impl->next_link();
        parts.swap(m_impl->ready);
        rest.swap(m_impl->pending);
        for (const auto& p : parts) m_impl->in_flight += p.events.size();
        m_impl->in_flight += rest.size();
    }
    if (!rest.empty()) parts.push_back(audit::prepare(std::move(rest), std::move(from)));
    if (parts.empty()) return {};
    if (m_impl->carrier != &db) {
        m_impl->carrier = &db;
        m_impl->carrier_appender = std::make_unique<audit::Appender>(db);
    }
    audit::Prepared all = audit::join(std::move(parts));
    auto now = m_impl->carrier_appender->append(all);
    if (!now) return now.error();
    std::lock_guard lock(m_impl->mutex);
    m_impl->in_flight_head = std::move(*now);
    return {};
}

void StateSink::transaction_ended(bool committed)
{
    std::lock_guard lock(m_impl->mutex);
    if (m_impl->in_flight == 0) return;
    if (committed) m_impl->head = m_impl->in_flight_head;
    else spdlog::warn("cannot record {} events: the transaction that carried them failed", m_impl->in_flight);
    m_impl->in_flight = 0;
    m_impl->idle_cv.notify_all();
}

}  // namespace infra::core::events
