#pragma once
// Decisions recorded in the state database, and replaying them against a
// proposed policy set so that a policy change can be reviewed before it lands.

#include "core/policy/engine.hpp"
#include "core/store/db.hpp"

#include <string>
#include <vector>

namespace infra::core::policy {

/// Records a task and the decision made for it; source says which step
/// decided ("policy eval", "enqueue", "claim").
Status record_decision(store::Db& db, const json& task, const json& decision, std::string_view source);

/// A decision as it is recorded, serialized ahead of the write.
struct DecisionRow {
    std::string task_id;
    std::string task;
    std::string decision;
    std::string policy_digest;
};
DecisionRow decision_row(const json& task, const json& decision);

/// Records rows in order, with one statement (record_decision, many at once).
Status record_decisions(store::Db& db, const std::vector<DecisionRow>& rows, std::string_view source);

/// One recorded decision and what the proposed policies decide instead.
struct ReplayEntry {
    std::string task_id;
    std::string recorded_at;
    json before;
    json after;
    std::vector<std::string> changes;  ///< "tier: 2 -> 1", "allowed: true -> false"
};

/// What a replay found.
struct ReplayReport {
    std::size_t total = 0;
    std::size_t changed = 0;
    std::size_t newly_denied = 0;
    std::size_t newly_allowed = 0;
    std::vector<ReplayEntry> entries;  ///< every replayed decision, changed or not
};

/// Re-decides the latest recorded decision of every task (up to limit, 0 =
/// all) with proposed and compares allowed, tier, approvals and constraints.
Result<ReplayReport> replay(store::Db& db, const Engine& proposed, std::size_t limit = 0);

}  // namespace infra::core::policy
