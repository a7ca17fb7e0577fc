#pragma once
// What the builtin agent does with a finding it has no fix for: with
// `agents.fallback: llm` and a model configured, the llm agent works it
// under the same decision; otherwise the attempt fails and says which
// setting would let the llm agent try.

#include "core/agent/agent.hpp"

#include <functional>

namespace infra::plugins::agents::builtin {

/// The agent to hand unfixable findings to: nullptr when none is configured,
/// an error when the configuration cannot work (agents.fallback: llm
/// without a model).
using Fallback = std::function<core::Result<core::agent::Agent*>()>;

/// Runs the fallback agent on the task, or fails with why and the setting to change.
core::agent::Outcome hand_over(const Fallback& fallback, const core::agent::RunContext& ctx, const std::string& why);

}  // namespace infra::plugins::agents::builtin
