#include "core/policy/record.hpp"
#include "core/json_access.hpp"

#include "core/timeutil.hpp"

#include <set>

namespace infra::core::policy {
namespace {

void diff(const json& a, const json& b, const std::string& prefix, std::vector<std::string>& out)
{
    for (const char* key : {"allowed", "tier", "requiredApprovals"}) {
        json x = a.value(key, json()), y = b.value(key, json());
        if (x != y) out.push_back(prefix + key + ": " + x.dump() + " -> " + y.dump());
    }
    json ca = core::object_member(a, "constraints"), cb = core::object_member(b, "constraints");
    std::set<std::string> keys;
    for (auto it = ca.begin(); it != ca.end(); ++it) keys.insert(it.key());
    for (auto it = cb.begin(); it != cb.end(); ++it) keys.insert(it.key());
    for (const auto& k : keys) {
        json x = ca.value(k, json()), y = cb.value(k, json());
        if (x != y) out.push_back("constraints." + k + ": " + x.dump() + " -> " + y.dump());
    }
}

}  // namespace

Status record_decision(store::Db& db, const json& task, const json& decision, std::string_view source)
{
    return record_decisions(db, {decision_row(task, decision)}, source);
}

DecisionRow decision_row(const json& task, const json& decision)
{
    return {core::string_member(task, "id"), task.dump(-1, ' ', false, json::error_handler_t::replace),
            decision.dump(-1, ' ', false, json::error_handler_t::replace),
            core::string_member(decision, "policyDigest")};
}

Status record_decisions(store::Db& db, const std::vector<DecisionRow>& rows, std::string_view source)
{
    if (rows.empty()) return {};
    auto stmt = db.prepare("INSERT INTO decisions (time, task_id, task, decision, policy_digest, source) "
                           "VALUES (?, ?, ?, ?, ?, ?)");
    if (!stmt) return stmt.error();
    std::string now = timeutil::now_rfc3339();
    for (const auto& row : rows) {
        stmt->reset();
        stmt->bind(1, now)
            .bind(2, row.task_id)
            .bind(3, row.task)
            .bind(4, row.decision)
            .bind(5, row.policy_digest)
            .bind(6, source);
        if (auto st = stmt->run(); !st) return st;
    }
    return {};
}

Result<ReplayReport> replay(store::Db& db, const Engine& proposed, std::size_t limit)
{
    auto stmt =
        db.prepare("SELECT d.task_id, d.time, d.task, d.decision FROM decisions d "
                   "JOIN (SELECT task_id, MAX(seq) AS seq FROM decisions GROUP BY task_id) last ON last.seq = d.seq "
                   "ORDER BY d.seq LIMIT ?");
    if (!stmt) return stmt.error();
    stmt->bind(1, limit ? static_cast<std::int64_t>(limit) : INT64_MAX);  // no limit
    ReplayReport report;
    for (;;) {
        auto row = stmt->step();
        if (!row) return row.error();
        if (!*row) break;
        ReplayEntry e;
        e.task_id = stmt->text(0);
        e.recorded_at = stmt->text(1);
        json task = json::parse(stmt->text(2), nullptr, false);
        e.before = json::parse(stmt->text(3), nullptr, false);
        if (task.is_discarded() || e.before.is_discarded()) continue;
        e.after = to_json(proposed.decide(task));
        diff(e.before, e.after, "", e.changes);
        ++report.total;
        if (!e.changes.empty()) {
            ++report.changed;
            bool was = core::bool_member(e.before, "allowed"), now = core::bool_member(e.after, "allowed");
            if (was && !now) ++report.newly_denied;
            if (!was && now) ++report.newly_allowed;
        }
        report.entries.push_back(std::move(e));
    }
    return report;
}

}  // namespace infra::core::policy
