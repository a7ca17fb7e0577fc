#pragma once
// The llm agent: a language model works the task through the tool box,
// inside the decision's limits, and its work is validated before it counts.

#include "core/agent/agent.hpp"
#include "plugins/agents/llm/providers.hpp"

#include <functional>
#include <memory>

namespace infra::plugins::agents {

/// The llm agent ("llm"). settings is called for each run that needs a
/// model (not for replays), so configuration errors surface per task.
std::shared_ptr<core::agent::Agent> make_llm(std::function<core::Result<llm::Settings>()> settings);

/// The system prompt for a task: instructions, then the policy digest.
std::string system_prompt(const nlohmann::json& policy_digest);

/// The user message for a task: the task quoted as data between markers
/// that its text cannot forge.
std::string task_message(const nlohmann::json& task);

}  // namespace infra::plugins::agents
