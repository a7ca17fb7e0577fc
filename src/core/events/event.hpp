#pragma once
// Events: what happened to a task, emitted by every step through an
// EventSink. Workers only emit; the process that owns the state store
// writes them down.

#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace infra::core::store {
class Db;
}

namespace infra::core::events {

using nlohmann::json;

/// One event. type is dotted: task.enqueued, task.claimed, task.heartbeat,
/// task.succeeded, task.failed, task.retried, task.dead, task.escalated ...
/// and "span" for a finished span (see trace.hpp).
struct Event {
    Event() = default;
    Event(std::string type_, std::string task_id_, std::string time_ = {}, json data_ = json::object())
        : type(std::move(type_)), task_id(std::move(task_id_)), time(std::move(time_)), data(std::move(data_))
    {
    }

    std::string type;
    std::string task_id;
    std::string time;  ///< RFC 3339; filled by emit() when empty
    json data = json::object();
    /// W3C trace context: filled by emit() from the thread's current span
    /// when empty. A span event names its own span and its parent.
    std::string trace_id;
    std::string span_id;
    std::string parent_id;
};

/// The event as one JSON object: {"type":"event","event":...,"taskId":...}.
json to_json(const Event& e);

/// An event back from its JSON object (a line of a worker's output
/// stream); names the field that is missing or of the wrong type.
Result<Event> event_from_json(const json& j);

/// What every sink does first: fills time and trace context. Secrets
/// (log::add_secret) are replaced where an event leaves the process: in the
/// text each sink writes, on the sink's own thread.
void stamp(Event& e);

/// Where events go.
class EventSink {
public:
    virtual ~EventSink() = default;
    virtual void emit(Event e) = 0;
    /// Writes what is buffered; called before a process exits.
    virtual void flush() {}
};

/// Discards events.
class NullSink final : public EventSink {
public:
    void emit(Event) override {}
};

/// Keeps events in memory (tests).
class MemorySink final : public EventSink {
public:
    void emit(Event e) override;
    std::vector<Event> events() const;

private:
    mutable std::mutex m_mutex;
    std::vector<Event> m_events;
};

/// Writes events as JSON Lines to a stream (a worker's output stream in
/// distributed mode).
class JsonLinesSink final : public EventSink {
public:
    explicit JsonLinesSink(std::FILE* out) : m_out(out) {}
    void emit(Event e) override;
    void flush() override;

private:
    std::mutex m_mutex;
    std::FILE* m_out;
};

/// Buffered events that another writer of the same database commits
/// inside its own write transactions, so that its changes and the events
/// about them share one commit. The SQLite queue carries the state store's
/// sink this way: an ack and the task's events reach the disk together.
class InTransactionSink {
public:
    virtual ~InTransactionSink() = default;
    /// The database the events belong in (a SQLite file or a URL).
    virtual std::string location() const = 0;
    /// Hands writing over: from now on the events are written only by
    /// append_buffered(), in the writer's transactions, and the sink asks
    /// for such a transaction by calling request (which returns when it
    /// ended). An empty request hands writing back to the sink. The sink
    /// must outlive the writer it was handed to.
    virtual void write_through(std::function<Status()> request) = 0;
    /// Appends every buffered event to the audit chain through db, inside
    /// db's open write transaction.
    virtual Status append_buffered(store::Db& db) = 0;
    /// The transaction of the last append_buffered() ended: committed, or
    /// rolled back (its events are dropped, with a warning).
    virtual void transaction_ended(bool committed) = 0;
};

/// Writes events to the state store's events table (the audit log),
/// batched: emit() only buffers; a batch is written in one transaction when
/// it fills, when a short interval passes, and on flush() and destruction.
/// Handed to a writer of the same database (write_through), it is written
/// in that writer's transactions instead.
class StateSink final : public EventSink, public InTransactionSink {
public:
    /// Opens its own connection to the state store at location (a SQLite
    /// file or a postgres:// URL).
    static Result<std::unique_ptr<StateSink>> open(const std::string& location);
    ~StateSink() override;
    void emit(Event e) override;
    void flush() override;
    std::string location() const override;
    void write_through(std::function<Status()> request) override;
    Status append_buffered(store::Db& db) override;
    void transaction_ended(bool committed) override;

private:
    StateSink() = default;
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace infra::core::events
