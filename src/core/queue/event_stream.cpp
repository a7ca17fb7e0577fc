#include "core/queue/event_stream.hpp"

#include "core/events/audit.hpp"
#include "core/log.hpp"
#include "core/store/db.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace infra::core::queue {

namespace {
constexpr std::size_t k_batch = 512;
constexpr std::size_t k_capacity = 65536;
}  // namespace

struct StreamSink::Impl {
    std::unique_ptr<Queue> queue;
    std::mutex mutex;
    std::condition_variable cv, idle_cv;
    std::deque<std::string> pending;
    std::size_t in_flight = 0;
    std::size_t dropped = 0;
    bool stopping = false;
    std::thread thread;

    void run()
    {
        auto backoff = std::chrono::milliseconds(50);
        std::unique_lock lock(mutex);
        for (;;) {
            cv.wait_for(lock, std::chrono::milliseconds(20), [&] { return stopping || pending.size() >= k_batch; });
            if (pending.empty()) {
                if (stopping) return;
                continue;
            }
            std::vector<std::string> batch;
            while (!pending.empty() && batch.size() < k_batch) {
                batch.push_back(std::move(pending.front()));
                pending.pop_front();
            }
            in_flight = batch.size();
            lock.unlock();
            auto st = queue->publish_events(batch);
            lock.lock();
            in_flight = 0;
            if (!st) {
                // Back to the front, in order, and try again later.
                for (auto it = batch.rbegin(); it != batch.rend(); ++it) pending.push_front(std::move(*it));
                spdlog::warn("events not sent to the queue yet: {}", st.error().message);
                if (stopping && backoff > std::chrono::seconds(8)) return;  // flush gave up
                cv.wait_for(lock, backoff);
                backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(10));
                continue;
            }
            backoff = std::chrono::milliseconds(50);
            if (pending.empty()) idle_cv.notify_all();
        }
    }
};

StreamSink::StreamSink(std::unique_ptr<Queue> queue) : m_impl(std::make_unique<Impl>())
{
    m_impl->queue = std::move(queue);
    m_impl->thread = std::thread([impl = m_impl.get()] { impl->run(); });
}

StreamSink::~StreamSink()
{
    flush();
    {
        std::lock_guard lock(m_impl->mutex);
        m_impl->stopping = true;
    }
    m_impl->cv.notify_all();
    m_impl->thread.join();
    if (!m_impl->pending.empty())
        spdlog::error("{} events could not be sent to the queue's output stream", m_impl->pending.size());
}

void StreamSink::emit(events::Event e)
{
    events::stamp(e);
    std::string line = log::redact(events::to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    std::lock_guard lock(m_impl->mutex);
    if (m_impl->pending.size() >= k_capacity) {
        // The queue has been away for long: keep the newest, count the loss.
        m_impl->pending.pop_front();
        if (m_impl->dropped++ % 1000 == 0)
            spdlog::error("the queue is unreachable: {} events dropped", m_impl->dropped);
    }
    m_impl->pending.push_back(std::move(line));
    if (m_impl->pending.size() >= k_batch) m_impl->cv.notify_one();
}

void StreamSink::flush()
{
    std::unique_lock lock(m_impl->mutex);
    m_impl->cv.notify_one();
    m_impl->idle_cv.wait_for(lock, std::chrono::seconds(60),
                             [&] { return m_impl->pending.empty() && m_impl->in_flight == 0; });
}

bool has_event_stream(Queue& queue)
{
    return static_cast<bool>(queue.publish_events({}));
}

struct EventReconciler::Impl {
    std::unique_ptr<Queue> queue;
    std::unique_ptr<store::Db> state;
    std::mutex mutex;
    std::condition_variable cv;
    bool stopping = false;
    std::thread thread;

    void run()
    {
        for (;;) {
            auto n = reconcile_events(*queue, *state);
            if (!n) spdlog::warn("reconciling worker events: {}", n.error().message);
            if (n && *n > 0) continue;
            std::unique_lock lock(mutex);
            if (stopping) return;  // the stream is drained
            cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping; });
        }
    }
};

EventReconciler::EventReconciler(std::unique_ptr<Queue> queue, std::unique_ptr<store::Db> state)
    : m_impl(std::make_unique<Impl>())
{
    m_impl->queue = std::move(queue);
    m_impl->state = std::move(state);
    m_impl->thread = std::thread([impl = m_impl.get()] { impl->run(); });
}

EventReconciler::~EventReconciler()
{
    {
        std::lock_guard lock(m_impl->mutex);
        m_impl->stopping = true;
    }
    m_impl->cv.notify_all();
    m_impl->thread.join();
}

Status apply_stream_events(store::Db& state, const std::vector<Queue::StreamEvent>& lines)
{
    // The events and the stream ids they came with, in one transaction: ids
    // seen before were applied by a run that died before the stream let go
    // of them, and are not appended twice.
    auto tx = store::Transaction::begin(state);
    if (!tx) return tx.error();
    auto seen = state.prepare("SELECT 1 FROM stream_applied WHERE id = ?");
    if (!seen) return seen.error();
    auto mark = state.prepare("INSERT INTO stream_applied (id, applied_at) VALUES (?, ?)");
    if (!mark) return mark.error();
    std::vector<events::Event> batch;
    batch.reserve(lines.size());
    std::int64_t now = now_ms();
    for (const auto& [id, line] : lines) {
        seen->reset();
        seen->bind(1, id);
        auto row = seen->step();
        if (!row) return row.error();
        if (*row) continue;
        mark->reset();
        mark->bind(1, id).bind(2, now);
        if (auto st = mark->run(); !st) return st;
        auto j = nlohmann::json::parse(line, nullptr, false);
        auto e = j.is_discarded() ? Result<events::Event>(fail(Errc::invalid_input, "not JSON"))
                                  : events::event_from_json(j);
        if (e) {
            batch.push_back(std::move(*e));
            continue;
        }
        events::Event bad{"event.invalid", "", "", {{"reason", e.error().message}, {"line", line.substr(0, 4096)}}};
        events::stamp(bad);
        batch.push_back(std::move(bad));
    }
    if (auto st = events::audit::append(state, batch); !st) return st;
    return tx->commit();
}

Status forget_stream_events(store::Db& state, const std::vector<std::string>& ids)
{
    auto forget = state.prepare("DELETE FROM stream_applied WHERE id = ? OR applied_at < ?");
    if (!forget) return forget.error();
    std::int64_t day_ago = now_ms() - 86400000;
    for (const auto& id : ids) {
        forget->reset();
        forget->bind(1, id).bind(2, day_ago);
        if (auto st = forget->run(); !st) return st;
    }
    return {};
}

Result<std::size_t> reconcile_events(Queue& queue, store::Db& state, std::size_t max)
{
    std::vector<std::string> handed;
    auto n = queue.consume_events(max, [&](const std::vector<Queue::StreamEvent>& lines) -> Status {
        for (const auto& l : lines) handed.push_back(l.first);
        return apply_stream_events(state, lines);
    });
    if (!n) return n;
    // The stream has let go of them: their ids need not be kept. (Ids left by
    // a crash just here are dropped once they are a day old.)
    if (auto st = forget_stream_events(state, handed); !st) return st.error();
    return n;
}

}  // namespace infra::core::queue
