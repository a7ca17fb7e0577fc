#pragma once
// The durable queue: the interface every backend (SQLite by default,
// PostgreSQL and Redis Streams to scale out) keeps exactly.
//
// At-least-once delivery with leases: a claim leases a task for a time and
// hands out a fencing token; heartbeats extend the lease; ack and nack are
// refused unless they carry the current token of a live lease, so a worker
// that lost its lease can never finish a task another worker now holds.

#include "core/events/event.hpp"
#include "core/result.hpp"
#include "core/task.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infra::core::queue {

using Millis = std::chrono::milliseconds;

/// Where a task is in its lifecycle (ARCHITECTURE.md).
enum class State { pending_approval, queued, leased, succeeded, dead, cancelled, denied };
std::string_view to_string(State s);
std::optional<State> parse_state(std::string_view s);
/// Succeeded, dead, cancelled and denied are final.
bool is_final(State s);

/// One task to put on the queue, already decided by policy.
struct EnqueueItem {
    AgentTask task;
    json decision;                  ///< the PolicyDecision made at enqueue
    State initial = State::queued;  ///< queued, or pending_approval when approvals are required
    Millis delay{0};                ///< not claimable before now + delay
    int max_attempts = 5;
};

/// What enqueue did with one item.
struct EnqueueOutcome {
    std::string id;  ///< the task's id, or the id of the unfinished task it duplicates
    State state = State::queued;
    bool duplicate = false;  ///< an unfinished task with the same dedupe key exists
};

/// A claimed task.
struct Lease {
    std::string id;
    std::int64_t token = 0;  ///< fencing token of this attempt
    int attempt = 0;         ///< 1 for the first
    int max_attempts = 0;
    std::int64_t lease_until_ms = 0;  ///< epoch milliseconds
    std::int64_t ready_ms = 0;        ///< when it became claimable (epoch ms); 0 if unknown
    std::int64_t claimed_ms = 0;      ///< when this claim was made (epoch ms); 0 if unknown
    json task;
    json decision;
};

/// Retries: exponential backoff with jitter, capped.
struct Backoff {
    Millis base{1000};
    Millis cap{300000};
    /// The delay before attempt+1 after attempt failed: base * 2^(attempt-1),
    /// capped, then jittered uniformly into [50%, 100%].
    Millis delay(int attempt) const;
};

/// A task as `queue ls/show` sees it.
struct Entry {
    std::string id;
    std::string type;
    std::string agent;
    std::string dedupe_key;
    State state = State::queued;
    Priority priority = Priority::normal;
    int attempts = 0;
    int max_attempts = 0;
    std::int64_t fence = 0;  ///< the fencing token of the latest claim
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
    std::int64_t available_ms = 0;
    std::int64_t lease_until_ms = 0;
    std::string lease_owner;
    std::string last_error;
    std::vector<std::string> required_approvals;
    json approvals = json::array();  ///< [{group, by, at}]
    json task;                       ///< only filled by show()
    json decision;                   ///< only filled by show()
    json result;                     ///< only filled by show()
};

/// An entry as JSON (queue ls/show, the REST API); full adds the task,
/// its decision and its result.
json to_json(const Entry& e, bool full);

/// Filter for list().
struct ListFilter {
    std::vector<State> states;  ///< empty: all
    std::string type;
    std::size_t limit = 100;
};

/// Counts for stats().
struct Stats {
    std::map<std::string, std::int64_t> by_state;
    std::int64_t ready = 0;            ///< queued and available now
    std::int64_t delayed = 0;          ///< queued, available later
    std::int64_t expired_leases = 0;   ///< leased past their lease
    std::int64_t oldest_ready_ms = 0;  ///< age of the oldest ready task
};

/// The queue. Implementations are safe to use from several threads.
class Queue {
public:
    virtual ~Queue() = default;

    /// Puts a batch on the queue atomically: all of it or none of it.
    /// Unfinished tasks with the same dedupe key are not added again; the
    /// outcome names the existing task.
    virtual Result<std::vector<EnqueueOutcome>> enqueue(std::vector<EnqueueItem> items) = 0;

    /// Leases up to max tasks, highest priority first, then first in, first
    /// out, skipping delayed ones. Expired leases are reclaimed first (a
    /// dead worker's task goes to the next claimer; its attempt counts).
    /// agents, when not empty, restricts the claim to those agents.
    virtual Result<std::vector<Lease>> claim(const std::string& worker, std::size_t max, Millis lease,
                                             const std::vector<std::string>& agents = {}) = 0;

    /// Extends a live lease; refused (Errc::conflict) when the token is stale.
    virtual Status heartbeat(const std::string& id, std::int64_t token, Millis lease) = 0;

    /// Finishes a task; refused (Errc::conflict) when the lease was lost.
    virtual Status ack(const std::string& id, std::int64_t token, const json& result) = 0;

    /// One ack of a batch.
    struct Ack {
        std::string id;
        std::int64_t token = 0;
        json result;
        /// What to record about the ack when it succeeds, emitted inside
        /// its commit by a queue that commits events (ack_events_sink()).
        std::vector<events::Event> events;
    };

    /// Acks several tasks in one commit; each gets its own status (a lost
    /// lease refuses that ack only). The default acks one by one.
    virtual std::vector<Status> ack_batch(const std::vector<Ack>& acks)
    {
        std::vector<Status> out;
        for (const auto& a : acks) out.push_back(ack(a.id, a.token, a.result));
        return out;
    }

    /// Lets the queue write sink's buffered events in its own write
    /// transactions when both are in the same database, so that an ack
    /// returns with the task's events (and Ack::events) on disk, in one
    /// commit. False when the backend cannot. sink must outlive the queue.
    virtual bool carry_events(events::InTransactionSink& sink) { return false; }

    /// Where ack_batch() emits each successful ack's Ack::events inside
    /// the ack's commit: the queue's own sink (OpenOptions::events) once it
    /// carries the state store's events; null when the caller emits them
    /// after the ack.
    virtual events::EventSink* ack_events_sink() const { return nullptr; }

    /// Fails an attempt: the task is retried after backoff, or is dead after
    /// its last attempt (or at once when retry is false), keeping error.
    /// Refused when the lease was lost. Returns the state the task is now in.
    virtual Result<State> nack(const std::string& id, std::int64_t token, const std::string& error,
                               const Backoff& backoff, bool retry = true) = 0;

    /// Gives a leased task back without counting the attempt (shutdown).
    virtual Status release(const std::string& id, std::int64_t token) = 0;

    /// Gives a leased task back without counting the attempt, claimable
    /// again after delay, with reason as its last error (a limit it waits on).
    virtual Status defer(const std::string& id, std::int64_t token, Millis delay, const std::string& reason) = 0;

    /// Moves a task that can no longer be run back (claim-time policy):
    /// to denied (final) or to pending_approval with new approvals.
    virtual Status redecide(const std::string& id, std::int64_t token, State to, const json& decision,
                            const std::string& reason) = 0;

    /// Records one approval; when every required group has approved, a
    /// pending task becomes queued. Returns the task's state after it.
    virtual Result<State> approve(const std::string& id, const std::string& group, const std::string& by) = 0;

    /// Rejects a pending task: it becomes denied.
    virtual Status reject(const std::string& id, const std::string& by, const std::string& reason) = 0;

    /// A dead (or cancelled) task back to queued with fresh attempts.
    virtual Status retry(const std::string& id) = 0;

    /// Cancels an unfinished task; a worker holding it loses its lease.
    virtual Status cancel(const std::string& id) = 0;

    /// Deletes final tasks older than retention; returns how many.
    virtual Result<std::int64_t> purge(Millis retention, const std::vector<State>& states = {}) = 0;

    /// Waits up to max for work to be announced (a backend with wake-ups,
    /// such as LISTEN/NOTIFY). Returns false at once when this backend
    /// announces nothing, so that the caller sleeps and polls instead.
    virtual bool wait_for_work(Millis max) { return false; }

    /// The output stream of distributed mode: workers that do not own the
    /// state store append their events (JSON lines) here, and the server
    /// that owns it moves them into the audit log. The embedded queue has
    /// none: its workers share the state db and write there themselves.
    virtual Status publish_events(const std::vector<std::string>& lines)
    {
        return fail(Errc::usage, "this queue has no output stream for events",
                    "workers of a SQLite queue write the state db themselves (--events state)");
    }

    /// Hands up to max of the oldest events of the output stream to apply,
    /// each with its id in the stream, and removes them once apply
    /// succeeded. A crash in between hands them out again with the same ids:
    /// a consumer that records the ids with what it applied, atomically,
    /// applies each event once. Returns how many were handed out.
    using StreamEvent = std::pair<std::string, std::string>;  ///< id, line
    virtual Result<std::size_t> consume_events(std::size_t max,
                                               const std::function<Status(const std::vector<StreamEvent>&)>& apply)
    {
        return std::size_t{0};
    }

    virtual Result<std::vector<Entry>> list(const ListFilter& filter) = 0;
    virtual Result<Entry> show(const std::string& id) = 0;
    virtual Result<Stats> stats() = 0;
};

/// Settings every backend takes when it is opened.
struct OpenOptions {
    /// Where the queue reports what it does on its own (reclaimed leases).
    events::EventSink* events = nullptr;
};

/// Opens a queue from a URL; backends register their scheme.
using Factory = std::function<Result<std::unique_ptr<Queue>>(const std::string& url, const OpenOptions& options)>;

/// Queue backends by URL scheme ("sqlite", "postgres", "redis").
class Registry {
public:
    void add(std::string scheme, Factory factory);
    /// Opens url with the backend of its scheme.
    Result<std::unique_ptr<Queue>> open(const std::string& url, const OpenOptions& options = {}) const;

private:
    std::map<std::string, Factory> m_factories;
};

/// Milliseconds since the epoch, the clock every backend stores.
std::int64_t now_ms();

}  // namespace infra::core::queue
