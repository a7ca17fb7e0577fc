#pragma once
// What every queue backend decides the same way: effective priorities, the
// approval rules, payload encoding, and the words of refusals.

#include "core/queue/queue.hpp"

#include <optional>
#include <string>
#include <vector>

namespace infra::plugins::queues {

/// A JSON array of strings stored as text, back as strings.
std::vector<std::string> strings_of(const std::string& text);

/// The task's priority, raised (never lowered) by the decision's.
int effective_priority(const core::AgentTask& t, const core::json& decision);

/// Payloads are stored as CBOR: binary JSON, same data model, faster both ways.
core::json from_cbor(std::string_view bytes);

/// Records group's approval by `by` in approvals (a JSON array of
/// {group, by, atMs}) for a task in state `state` that requires `required`;
/// returns the state the task moves to: queued once every group approved.
core::Result<core::queue::State> add_approval(const std::string& id, const std::string& state,
                                              const std::vector<std::string>& required, core::json& approvals,
                                              const std::string& group, const std::string& by, std::int64_t now_ms);

/// Why a fenced operation was refused. state and fence are the task's now;
/// no state: the task is gone.
core::Error lost_lease(const std::string& id, std::int64_t token, const std::optional<std::string>& state,
                       std::int64_t fence);

/// A task is not in the state an operation needs (no state: it is gone).
core::Error wrong_state(const std::string& id, const std::optional<std::string>& state, const std::string& wanted);

/// The refusal for purging unfinished states, and the SQL list of states.
core::Result<std::string> purgeable_states(const std::vector<core::queue::State>& states);

}  // namespace infra::plugins::queues
