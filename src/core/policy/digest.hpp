#pragma once
// The PolicyDigest: the rules that bind an agent for one task, as JSON and
// as text to put into an agent's prompt.

#include "core/policy/engine.hpp"

#include <string>

namespace infra::core::policy {

/// {organizationPolicies, agentHardRules, repositoryConventions,
/// complianceFrameworks, tier, policyDigest} for the task.
json digest(const Engine& engine, const json& task);

/// The digest as plain text for a system prompt: short imperative lines.
std::string digest_text(const json& digest);

/// A sentence for a rule: its description, else one made from its fields.
std::string describe(const Rule& r);

}  // namespace infra::core::policy
