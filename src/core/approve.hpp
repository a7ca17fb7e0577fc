#pragma once
// `approve` and `reject` as one call: a person's decision on a task that
// policy parked for approval, recorded with who and when; on a tier-4 task
// that ran and kept a saved plan, approve approves that plan by its hash,
// for `apply`.

#include "core/approval.hpp"
#include "core/change/apply.hpp"
#include "core/site.hpp"

#include <optional>
#include <string>

namespace infra::core {

struct HumanDecision {
    approval::Request request;  ///< the task, who, approve or reject, the group, why
    std::string queue;          ///< queue URL (empty: queue.url, else the state db)
    std::string plan;           ///< the SHA-256 of the saved plan reviewed; only for a tier-4 task that ran
};

/// What was recorded: a decision on a parked task, or an approval of a
/// tier-4 task's saved plan.
struct HumanVerdict {
    std::optional<approval::Verdict> task;
    std::optional<change::PlanVerdict> plan;
};

/// Errors: usage (no one named, a group to name), conflict (a plan named
/// for a task that has none to approve), and the checks of approval.hpp.
Result<HumanVerdict> decide_by_hand(const Site& site, const HumanDecision& decision);

}  // namespace infra::core
