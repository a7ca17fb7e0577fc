#pragma once
// The check every agent's Terraform changes pass before they count: the
// files still parse, and `terraform fmt -check` accepts them (in the
// sandbox, when terraform is installed).

#include "core/result.hpp"
#include "core/sandbox.hpp"
#include "core/workspace.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace infra::core::agent {

/// Whether a terraform binary is installed where the sandbox can run it.
bool terraform_installed();

/// Checks the changed .tf files (others and deleted files are skipped).
/// sandbox may be null: then only the parse check runs. A failure is
/// Errc::denied with what is wrong, to be fed back to the agent.
Status check_terraform(const Workspace& ws, const std::vector<std::string>& changed, const sandbox::Sandbox* sandbox,
                       std::chrono::steady_clock::time_point deadline);

}  // namespace infra::core::agent
