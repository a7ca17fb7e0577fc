#pragma once
// Admission: the one way a task gets into the queue. Policy decides afresh
// (a decision that came with the task is a record, never a permission), the
// decision is recorded for `policy replay`, a denied task is escalated and
// not queued, a task that needs approvals is parked, and everything else is
// queued, deduplicated on its dedupeKey. `enqueue`, `remediate`, `serve`'s
// webhooks, REST API and scheduler all admit tasks through here.

#include "core/events/event.hpp"
#include "core/events/trace.hpp"
#include "core/policy/engine.hpp"
#include "core/policy/record.hpp"
#include "core/queue/queue.hpp"
#include "core/result.hpp"
#include "core/store/db.hpp"
#include "core/task.hpp"

#include <functional>
#include <string>
#include <vector>

namespace infra::core::intake {

/// What became of one submitted task.
struct Admitted {
    std::string task_id;  ///< the id the task was submitted with
    std::string id;       ///< its id in the queue: the existing task's when it is a duplicate
    std::string state;    ///< queued, pending-approval or denied
    bool duplicate = false;
    std::string reason;                  ///< why it was denied
    nlohmann::json decision;             ///< the decision taken now
    std::vector<std::string> approvals;  ///< approvals it waits for
};

struct Options {
    std::string stage = "enqueue";  ///< recorded with decisions and escalations
    queue::Millis delay{0};
    int max_attempts = 3;
    bool dry_run = false;  ///< decide and record nothing, queue nothing
    /// Runs inside the transaction that records the decisions, after the
    /// tasks are queued (serve records the deliveries there).
    std::function<Status(store::Db&, const std::vector<Admitted>&)> record_with;
};

/// Tasks checked and decided, nothing written yet: the first half of admit.
struct Decided {
    std::vector<Admitted> admissions;
    std::vector<queue::EnqueueItem> items;       ///< the allowed tasks, to queue
    std::vector<std::size_t> item_of;            ///< items[i] is admissions[item_of[i]]
    std::vector<policy::DecisionRow> decisions;  ///< one per admission, to record
    std::vector<events::SpanContext> traces;     ///< traces[i] is admissions[i]'s
};

/// Checks and decides tasks (each in its own trace, or the caller's) and
/// records their policy.evaluate spans; writes nothing else. Safe to call
/// from several threads at once, so that a server decides deliveries in
/// parallel and only the writes of commit() are serial.
Result<Decided> decide(std::vector<AgentTask> tasks, const policy::Engine& engine, events::EventSink& events,
                       const Options& options);

/// The second half of admit: queues the allowed tasks of every batch in one
/// enqueue, records all decisions in one transaction, and emits the tasks'
/// events. Admissions come back in the order of the batches.
Result<std::vector<Admitted>> commit(std::vector<Decided> batches, store::Db& state, queue::Queue& queue,
                                     events::EventSink& events, const Options& options);

/// Admits tasks as one batch: every allowed task is queued, or none is.
Result<std::vector<Admitted>> admit(std::vector<AgentTask> tasks, const policy::Engine& engine, store::Db& state,
                                    queue::Queue& queue, events::EventSink& events, const Options& options);

}  // namespace infra::core::intake
