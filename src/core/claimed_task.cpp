#include "core/claimed_task.hpp"

#include "core/text.hpp"

namespace infra::core {
namespace {

Error unreadable(const queue::Lease& lease, const Error& why)
{
    return make_error(Errc::invalid_input,
                      "task " + text::quote(lease.id) + " in the queue cannot be read: " + why.message,
                      "the task cannot run as stored; enqueue it again from its source");
}

}  // namespace

Result<AgentTask> read_claimed_task(const queue::Lease& lease)
{
    auto task = task_from_json(lease.task);
    if (!task) return unreadable(lease, task.error());
    return task;
}

Result<policy::Decision> read_claimed_decision(const queue::Lease& lease)
{
    auto decision = policy::decision_from_json(lease.decision);
    if (!decision) return unreadable(lease, decision.error());
    return decision;
}

}  // namespace infra::core
