#pragma once
// A claimed lease read once at the worker boundary: the queue keeps the task
// and its decision as JSON (its storage and wire form); from the claim on,
// the worker, the agents and delivery read typed fields.

#include "core/policy/policy.hpp"
#include "core/queue/queue.hpp"
#include "core/result.hpp"
#include "core/task.hpp"

namespace infra::core {

/// The task a worker holds a lease on, and the decision its run is bound by.
struct ClaimedTask {
    AgentTask task;
    policy::Decision decision;
};

/// Reads a lease's task. Errc::invalid_input naming the task and the field
/// when it cannot be read ("task 't1' in the queue cannot be read:
/// context.priority: expected one of ...").
Result<AgentTask> read_claimed_task(const queue::Lease& lease);

/// Reads the decision stored with a lease (the one made at enqueue), with
/// errors as read_claimed_task's ("...: decision.tier: missing").
Result<policy::Decision> read_claimed_decision(const queue::Lease& lease);

}  // namespace infra::core
