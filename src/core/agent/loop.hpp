#pragma once
// The agent loop: the model proposes, the tool box checks and runs, and the
// results go back to the model, within the decision's limits (iterations,
// time). A validation that fails after the agent finishes goes back into
// the loop as feedback, up to the same limits.

#include "core/agent/agent.hpp"
#include "core/agent/model.hpp"
#include "core/agent/tools.hpp"

#include <functional>
#include <string>

namespace infra::core::agent {

struct LoopInput {
    std::string system;  ///< instructions and the policy digest
    std::string user;    ///< the task, quoted as data
    /// Checks the work after finish; an Error's message is fed back.
    std::function<Status()> validate;
};

/// Runs the loop; the Outcome's result has summary, iterations, tokens and diff.
Outcome run_loop(Model& model, ToolBox& tools, const LoopInput& in, const RunContext& ctx);

}  // namespace infra::core::agent
