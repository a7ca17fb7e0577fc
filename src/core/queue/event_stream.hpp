#pragma once
// Distributed mode: a worker that does not own the state store sends its
// events through the queue's output stream (StreamSink), and the server that
// owns the store moves them into the audit log (reconcile_events).

#include "core/events/event.hpp"
#include "core/queue/queue.hpp"

#include <memory>

namespace infra::core::store {
class Db;
}

namespace infra::core::queue {

/// Sends events to the queue's output stream in batches from a thread of
/// its own: emit() only buffers. A failed send is retried with backoff; the
/// buffer is bounded, and flush() waits (up to about a minute) until
/// everything buffered was sent.
class StreamSink final : public events::EventSink {
public:
    explicit StreamSink(std::unique_ptr<Queue> queue);
    ~StreamSink() override;
    void emit(events::Event e) override;
    void flush() override;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// Whether queue has an output stream (publishing nothing succeeds).
bool has_event_stream(Queue& queue);

/// The server's side, on a thread of its own: moves events from the queue's
/// output stream into the state db until stopped, then what is left.
class EventReconciler {
public:
    EventReconciler(std::unique_ptr<Queue> queue, std::unique_ptr<store::Db> state);
    ~EventReconciler();  ///< stops, after draining the stream
    EventReconciler(const EventReconciler&) = delete;
    EventReconciler& operator=(const EventReconciler&) = delete;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// Moves up to max events from the queue's output stream into the state db
/// (its audit chain), each once: the stream ids are recorded with the
/// events, so a batch handed out again after a crash is not appended twice.
/// Returns how many were handed out. Lines that are not events are recorded
/// as `event.invalid` with the reason, never dropped silently.
Result<std::size_t> reconcile_events(Queue& queue, store::Db& state, std::size_t max = 1024);

/// reconcile_events' two halves: appends the events whose stream ids were
/// not applied before, and records the ids, in one transaction; then, once
/// the stream has removed them, forgets the ids.
Status apply_stream_events(store::Db& state, const std::vector<Queue::StreamEvent>& lines);
Status forget_stream_events(store::Db& state, const std::vector<std::string>& ids);

}  // namespace infra::core::queue
