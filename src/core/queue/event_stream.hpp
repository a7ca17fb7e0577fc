#pragma once
// Distributed mode: a worker that does not own the state store sends its
// events through the queue's output stream (StreamSink), and the server that
// owns the store moves them into the audit log (reconcile_events).

#include "core/events/event.hpp"
#include "core/queue/queue.hpp"

#include <memory>

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

/// Moves up to max events from the queue's output stream into the state db
/// (its audit chain); returns how many. Lines that are not events are
/// recorded as `event.invalid` with the reason, never dropped silently.
Result<std::size_t> reconcile_events(Queue& queue, store::Db& state, std::size_t max = 1024);

}  // namespace infra::core::queue
