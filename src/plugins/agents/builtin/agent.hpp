#pragma once
// The builtin agent: deterministic Terraform fixes for known findings, no
// model involved.

#include "core/agent/agent.hpp"

#include <memory>

namespace infra::plugins::agents {

/// The builtin agent ("builtin").
std::shared_ptr<core::agent::Agent> make_builtin();

}  // namespace infra::plugins::agents
