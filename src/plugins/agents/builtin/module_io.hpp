#pragma once
// Reading a Terraform module's files through the agent's tools (so that the
// sandbox and the decision's constraints apply to every read).

#include "core/agent/agent.hpp"
#include "core/agent/tools.hpp"
#include "plugins/agents/builtin/checks.hpp"

#include <optional>
#include <string>

namespace infra::plugins::agents::builtin {

/// Parses every .tf file directly in dir (a workspace-relative directory,
/// "." for the root) into module; nothing on success, else why it failed.
std::optional<core::agent::Outcome> read_module(core::agent::ToolBox& tools, const std::string& dir, Module& module);

}  // namespace infra::plugins::agents::builtin
