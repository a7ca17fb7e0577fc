#pragma once
// What `apply`, a worker and serve's reviewers need to apply a tier-4
// task's approved plan: the sandbox its decision allows and the repository
// its branch was pushed to, or the pipeline named by apply.pipeline with its
// API tokens.

#include "core/change/apply.hpp"
#include "core/change/open_delivery.hpp"
#include "core/serve/reviews.hpp"

#include <memory>
#include <optional>
#include <string>

namespace infra::core::change {

struct ApplySetup {
    std::unique_ptr<DeliverySetup> delivery;  ///< the broker, and the repository for the sandbox
    std::optional<sandbox::Sandbox> sandbox;
    ApplyRunner runner;  ///< points into this setup: never moved
};

/// What a command line may say about an apply.
struct ApplyOverrides {
    std::string sandbox;  ///< instead of sandbox.mode
    std::string repo;     ///< instead of git.repo
    bool keep = false;    ///< keep the worktree after the apply
};

/// Sets up the apply of task e: through apply.pipeline when it is set, else
/// in the sandbox (Errc::denied when the task's policy forbids the mode) on
/// a clone of the repository.
Result<std::unique_ptr<ApplySetup>> open_apply(const Site& site, const queue::Entry& e,
                                               const ApplyOverrides& overrides);

/// The gated apply of a task as `apply TASK --as BY` runs it (git.repo, the
/// sandbox, or apply.pipeline), one at a time, audited in sink.
serve::ApplyFn gated_apply(const Site& site, events::EventSink* sink);

}  // namespace infra::core::change
