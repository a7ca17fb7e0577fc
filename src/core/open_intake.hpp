#pragma once
// What the commands that make tasks (enqueue, remediate, drift, chat,
// schedule run, serve, pr sync) open before they admit them: the policy
// engine, the recorder (state db, event store, notifications) and the queue.

#include "core/intake.hpp"
#include "core/recorder.hpp"
#include "core/site.hpp"

#include <memory>
#include <string>

namespace infra::core {

struct Intake : Recorder {
    std::unique_ptr<policy::Engine> engine;
    std::unique_ptr<queue::Queue> queue;

    /// Admits tasks (intake::admit) and flushes the events.
    Result<std::vector<intake::Admitted>> admit(std::vector<AgentTask> tasks, const intake::Options& options);

    ~Intake();  ///< the queue closes before the events it writes to
};

/// Opens everything; queue_flag overrides queue.url (empty: queue.url, else the state db).
Result<std::unique_ptr<Intake>> open_intake(const Site& site, const PolicySources& policies,
                                            const std::string& queue_flag);

}  // namespace infra::core
