#pragma once
// The builtin agent: deterministic Terraform fixes for known findings, no
// model involved.

#include "core/agent/agent.hpp"
#include "plugins/agents/builtin/fallback.hpp"

#include <memory>

namespace infra::plugins::agents {

/// The builtin agent ("builtin"); findings it has no fix for go to the
/// fallback agent when one is configured.
std::shared_ptr<core::agent::Agent> make_builtin(builtin::Fallback fallback = nullptr);

}  // namespace infra::plugins::agents
