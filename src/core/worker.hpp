#pragma once
// The stateless worker: claims tasks from a queue, checks policy again
// (it may have changed since enqueue), runs each through its agent with a
// heartbeat on the lease, and acks or nacks. It sees the queue and an event
// sink, nothing else: no state store, no long-lived credentials.

#include "core/agent/agent.hpp"
#include "core/change/delivery.hpp"
#include "core/claimed_task.hpp"
#include "core/events/event.hpp"
#include "core/events/trace.hpp"
#include "core/policy/engine.hpp"
#include "core/queue/queue.hpp"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace infra::core {

namespace creds {
struct TaskLease;
}

struct WorkerOptions {
    std::string id;              ///< names the lease owner; host:pid by default
    int concurrency = 1;         ///< tasks run at the same time
    std::size_t batch = 1;       ///< tasks claimed per claim
    queue::Millis lease{30000};  ///< visibility timeout; heartbeats every third of it
    queue::Millis poll{500};     ///< wait between empty claims
    queue::Millis grace{30000};  ///< after stop(): time to finish before leases are released
    bool once = false;           ///< run at most one task, then return
    bool drain = false;          ///< return when nothing is ready to claim
    queue::Backoff backoff;
    const Workspace* workspace = nullptr;       ///< where agents edit files
    const sandbox::Sandbox* sandbox = nullptr;  ///< where agents run commands
    std::string record_dir;                     ///< model exchanges go to <record_dir>/<task>-<attempt>.jsonl
    /// When set, each task gets its own worktree of the repository, and a
    /// successful run becomes a branch, a push and a pull request.
    change::Delivery* delivery = nullptr;
    /// Called when a claim found nothing, before the worker waits (or, when
    /// draining, decides it is done); by one thread at a time. The worker
    /// command applies approved tier-4 plans here.
    std::function<void()> on_idle;
    /// Keep what became of each task (WorkerSummary::tasks), for a command
    /// that shows it; a long-running worker keeps only the counts.
    bool keep_outcomes = false;
};

/// What became of one task the worker claimed: its last attempt's end.
struct TaskOutcome {
    std::string id;
    /// succeeded; queued (to be retried, or waiting on a limit on pull
    /// requests); dead; pending-approval or denied (by policy at claim);
    /// leased (released at shutdown, or the lease was lost).
    queue::State state = queue::State::leased;
    bool waiting = false;                ///< queued to wait on pr.max_open or pr.max_per_hour
    json result = json::object();        ///< the agent's result and the change it delivered
    std::string error;                   ///< why it failed, waits, or was refused
    std::vector<std::string> approvals;  ///< the approvals it waits for
};

/// What became of a task, read from the queue (for a task this process's
/// worker did not run to its end).
Result<TaskOutcome> outcome_of(queue::Queue& queue, const std::string& id);

/// What a worker did.
struct WorkerSummary {
    std::size_t claimed = 0;
    std::size_t succeeded = 0;
    std::size_t failed = 0;  ///< attempts that failed (retried or dead)
    std::size_t dead = 0;
    std::size_t released = 0;        ///< given back at shutdown
    std::size_t waiting = 0;         ///< given back to wait on a limit on pull requests (pr.max_open, pr.max_per_hour)
    std::size_t denied = 0;          ///< refused by policy at claim
    std::size_t lost = 0;            ///< leases lost before the result could be recorded
    std::vector<TaskOutcome> tasks;  ///< with keep_outcomes: in the order they ended
};

class Worker {
public:
    /// policy may be null (no claim-time check; for tests of the queue alone).
    Worker(queue::Queue& q, const agent::Registry& agents, events::EventSink& events, const policy::Engine* policy,
           WorkerOptions options);
    ~Worker();

    /// Runs until stop(), or until once/drain say it is done.
    Result<WorkerSummary> run();

    /// Stops claiming; running tasks get the grace period to finish, then
    /// are cancelled and their leases released. Safe from any thread and
    /// from a signal-watching thread.
    void stop();

private:
    struct InFlight;
    void thread_main();
    void heartbeat_main();
    /// A finished attempt whose ack is deferred to be batched.
    struct Done {
        queue::Lease* lease;
        json result;
        double ms;
        std::string agent;
        std::string type;
        events::SpanContext trace;  ///< the task's
    };
    struct Attempt;
    /// Works on one claimed lease, step by step (the functions below).
    void process(queue::Lease& lease, std::vector<Done>& acks, std::int64_t lease_start);
    /// Policy again at claim: it may have changed since enqueue. Nothing
    /// when the task was set aside: denied, or waiting for approvals it was
    /// not queued with.
    std::optional<policy::Decision> judge_at_claim(const Attempt& a, const Result<AgentTask>& task);
    /// A worker without the sandbox runs only what policy allows
    /// unsandboxed: true when the task was refused.
    bool refused_unsandboxed(const Attempt& a, const policy::Decision& decision);
    /// Over a limit on noise the task waits (not an attempt) until its pull
    /// request may go out: true when it was put back to wait.
    bool waits_on_limits(const Attempt& a, const AgentTask& task);
    /// Runs the task while the heartbeats keep its lease.
    agent::Outcome attempt(const Attempt& a, const ClaimedTask& claimed, std::int64_t lease_start);
    /// What the attempt's credentials are bound to: this task and lease.
    creds::TaskLease bound_lease(const queue::Lease& lease, const ClaimedTask& claimed,
                                 std::shared_ptr<InFlight> flight) const;
    /// Runs the task's agent, in a worktree of its own when the worker
    /// delivers changes, and delivers what it changed.
    agent::Outcome run_agent(const Attempt& a, const ClaimedTask& claimed, InFlight& flight);
    /// Runs the agent within the task's time limit; it is cancelled when the
    /// lease is lost or the worker aborts.
    agent::Outcome run_in(agent::Agent& agent, const Attempt& a, const ClaimedTask& claimed, InFlight& flight,
                          const Workspace* workspace);
    /// Delivers a successful run's change (the result's "change"); a change
    /// that cannot be delivered fails the attempt.
    void deliver(const Attempt& a, const ClaimedTask& claimed, const git::Checkout& checkout, agent::Outcome& outcome);
    /// Ends the attempt: released at shutdown past the grace period, acked
    /// (in a batch) when it succeeded, else nacked.
    void settle(const Attempt& a, agent::Outcome outcome, std::vector<Done>& acks);
    /// Nacks a failed attempt and counts it; m_mutex not held.
    void failed(const queue::Lease& lease, const agent::Outcome& outcome, double ms, const std::string& type);
    void flush_acks(std::vector<Done>& acks);
    /// The task.succeeded event of an attempt, in its task's trace.
    events::Event succeeded(const Done& d) const;
    bool should_exit_idle();
    /// Keeps what became of a task (with keep_outcomes); m_mutex held.
    void ended(TaskOutcome outcome);

    queue::Queue& m_queue;
    const agent::Registry& m_agents;
    events::EventSink& m_events;
    const policy::Engine* m_policy;
    WorkerOptions m_opt;

    std::atomic<bool> m_stopping{false};
    std::atomic<bool> m_aborting{false};
    std::atomic<bool> m_done{false};
    std::atomic<int> m_once_taken{0};
    std::mutex m_mutex;
    std::mutex m_idle_mutex;  ///< one thread in on_idle at a time
    std::condition_variable m_cv;
    std::thread m_grace;
    std::vector<std::shared_ptr<InFlight>> m_inflight;
    WorkerSummary m_summary;
    Error m_fatal;
    bool m_failed = false;
};

/// host:pid, the default worker id.
std::string default_worker_id();

}  // namespace infra::core
