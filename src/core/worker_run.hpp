#pragma once
// `worker` as one call: opens the queue, the policies, the sandbox, the
// delivery of changes (with a repository) and where events go, runs a
// Worker until it is done (--once, --drain) or SIGTERM or SIGINT stops it
// (a second one exits at once; leases then expire), and applies on the way
// the tier-4 tasks that asked for it once every approval of their plan is in.

#include "core/change/open_delivery.hpp"
#include "core/site.hpp"
#include "core/worker.hpp"

#include <memory>
#include <string>

namespace infra::core {

struct WorkerRun {
    WorkerOptions worker;  ///< id, concurrency, batch, once, drain, lease, grace, poll
    std::string queue;     ///< the queue URL, over queue.url
    PolicySources policies;
    /// Where events go: state (the home's state db), queue (the queue's
    /// output stream, for a server to move into its state db), or none.
    std::string events = "state";
    /// Where events go instead, when set (the command's own output).
    std::unique_ptr<events::EventSink> sink;
    std::string workspace;  ///< without a repository: the directory agents edit in place
    std::string sandbox;    ///< bwrap or none; empty: sandbox.mode, else bwrap
    std::string record;     ///< a directory each model exchange is recorded in; empty: none
    change::DeliveryOverrides delivery;
};

struct WorkerRunSummary {
    std::string id;  ///< the id the worker claimed as
    WorkerSummary counts;
};

/// Call it before any other thread starts: it blocks SIGTERM, SIGINT and
/// SIGUSR1 in this thread, and every thread inherits the mask.
Result<WorkerRunSummary> run_worker(const Site& site, WorkerRun run);

}  // namespace infra::core
