#pragma once
// What `apply` and a worker need to apply a tier-4 task's approved plan: the
// sandbox its decision allows and the repository its branch was pushed to,
// or the pipeline named by apply.pipeline with its API tokens.

#include "cli/delivery_setup.hpp"
#include "core/change/apply.hpp"

#include <memory>
#include <optional>

namespace infra::cli {

struct ApplySetup {
    std::unique_ptr<DeliverySetup> delivery;  ///< the broker, and the repository for the sandbox
    std::optional<core::sandbox::Sandbox> sandbox;
    core::change::ApplyRunner runner;  ///< points into this setup: never moved
};

/// Sets up the apply of task e: through apply.pipeline when it is set, else
/// in the sandbox (sandbox_flag, else sandbox.mode; Errc::denied when the
/// task's policy forbids the mode) on a clone of repo_flag, else git.repo.
core::Result<std::unique_ptr<ApplySetup>> open_apply(Context& ctx, const core::queue::Entry& e,
                                                     const std::string& sandbox_flag, const std::string& repo_flag,
                                                     bool keep_worktree);

}  // namespace infra::cli
