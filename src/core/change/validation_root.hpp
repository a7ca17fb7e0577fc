#pragma once
// One Terraform root of a change through validation's local steps, run in
// the sandbox (what validate() does for each root), and the files of saved
// plans.

#include "core/change/validation.hpp"

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>

namespace infra::core::change {

/// Runs the local steps in the Terraform root dir of root, adding what they
/// find to report (ok false at the first that fails; the rest of the root's
/// steps build on it), and leaves the root as it found it. many: report is
/// of more than one root, so a plan's summary names its own.
Status validate_root(const std::filesystem::path& root, const std::string& dir, const AgentTask& task,
                     const policy::Decision& decision, const ValidationOptions& opt, bool many, Report& report);

/// Keeps a plan's bytes in plans_dir as the index'th saved plan; returns
/// its file name and SHA-256.
Result<std::pair<std::string, std::string>> keep_plan_bytes(const std::string& bytes,
                                                            const std::filesystem::path& plans_dir, std::size_t index);

}  // namespace infra::core::change
