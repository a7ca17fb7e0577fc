#pragma once
// `validate` as one call: the validation pipeline a worker runs before it
// proposes a change, run on a directory. In a git checkout the change is
// what differs from HEAD, and formatting that was already off before it is
// tolerated; the directory's own providers are used, as terraform init
// would install them there.

#include "core/change/validation.hpp"
#include "core/report.hpp"
#include "core/site.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace infra::core::change {

struct DirectoryValidation {
    Report report;
    /// The failures as findings: files terraform fmt named, the resources
    /// outside the plan's scope where their code declares them, else each
    /// failed step.
    std::vector<report::Finding> findings;
    /// The remote pipelines among the steps: they run on a task's pushed branch, not here.
    std::vector<Step> remote;
};

/// With no decision (no task), the plan may change anything but delete.
/// sandbox names the sandbox (empty: sandbox.mode, else bwrap).
Result<DirectoryValidation> validate_directory(const Site& site, const std::filesystem::path& dir,
                                               const AgentTask& task, const policy::Decision* decision,
                                               const std::string& sandbox);

}  // namespace infra::core::change
