#pragma once
// The builtin agent's answer to a drift-detection task, by the decision's
// drift.mode: codify (the default) writes the live values back into the
// root's code where it sets them as literals; revert changes no code, so
// that the task's saved plan (made against the real state, tier 4) undoes
// the drift once approved; report changes nothing. Every mode says, per
// drifted attribute, what it did and why; sensitive values are never shown.

#include "core/agent/agent.hpp"

namespace infra::plugins::agents::builtin {

/// Runs a drift-detection task (payload.root and payload.resources, as
/// `infra-agent drift` makes them).
core::agent::Outcome run_drift(const core::agent::RunContext& ctx);

}  // namespace infra::plugins::agents::builtin
