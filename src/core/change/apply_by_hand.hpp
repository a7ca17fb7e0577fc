#pragma once
// `apply TASK` as one call: the tier-4 gated apply of exactly the saved plan
// every required group approved, or (recover) letting an interrupted
// apply's plan be applied again once someone checked terraform's state and
// lock. Each attempt and each refusal is audited.

#include "core/change/open_apply.hpp"
#include "core/site.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace infra::core::change {

struct ApplyRequest {
    std::string task;      ///< id, or a unique prefix
    std::string by;        ///< who applies
    std::string queue;     ///< queue URL (empty: queue.url, else the state db)
    ApplyOverrides how;    ///< sandbox, repository, keep the worktree
    bool recover = false;  ///< recover interrupted applies instead of applying
};

struct ApplyDone {
    std::string task_id;
    /// The attempt: {outcome (applied or failed), planSha256, approvers
    /// [{by, group}], error}; an apply that failed is an outcome, not an error.
    nlohmann::json applied;
    std::vector<std::string> recovered;  ///< with recover: the applies recovered
};

/// Errors: denied (refused: not tier 4, no plan, a changed plan, a moved
/// branch, applied before), pending (an approval is missing), conflict and
/// not_found (recover: an apply still runs, none was interrupted).
Result<ApplyDone> apply_by_hand(const Site& site, const ApplyRequest& request);

}  // namespace infra::core::change
