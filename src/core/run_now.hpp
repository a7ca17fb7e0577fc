#pragma once
// `run` as one call: one task decided afresh and, when policy allows it
// without approvals, run by its agent once, now, without the queue (for CI
// jobs). Recorded as a worker's run is: the decision, events, spans and the
// audit chain in the state store, exported and notified when configured.

#include "core/agent/agent.hpp"
#include "core/policy/engine.hpp"
#include "core/site.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace infra::core {

struct RunNow {
    std::filesystem::path workspace = ".";  ///< where the agent works
    std::string sandbox;                    ///< bwrap or none; empty: sandbox.mode, else bwrap
    std::string record;                     ///< model agents: append every exchange to this file
    std::string replay;                     ///< model agents: play this recording back instead
};

struct RunNowResult {
    nlohmann::json decision;  ///< the PolicyDecision taken now
    agent::Outcome outcome;   ///< what the agent did; a failed run is an outcome, not an error
};

/// Fails denied or pending (with the decision's reason) when policy does not
/// let the task run now, unavailable when no agent of its agentSlug exists.
Result<RunNowResult> run_now(const Site& site, AgentTask task, const policy::Engine& engine, const RunNow& options);

}  // namespace infra::core
