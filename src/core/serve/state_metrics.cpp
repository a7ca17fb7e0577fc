#include "core/serve/state_metrics.hpp"

#include "core/store/db.hpp"

#include <functional>

namespace infra::core::serve {
namespace {

// Runs sql and hands each row's columns (as text) to row.
Status rows(store::Db& db, const std::string& sql, int columns,
            const std::function<void(const std::vector<std::string>&, const store::Stmt&)>& row)
{
    auto s = db.prepare(sql);
    if (!s) return s.error();
    std::vector<std::string> cols(static_cast<std::size_t>(columns));
    for (;;) {
        auto r = s->step();
        if (!r) return r.error();
        if (!*r) return {};
        for (int i = 0; i < columns; ++i) cols[static_cast<std::size_t>(i)] = s->is_null(i) ? "" : s->text(i);
        row(cols, *s);
    }
}

std::string or_unknown(const std::string& s)
{
    return s.empty() ? "unknown" : s;
}

/// Reads members of the JSON text columns in the SQL of the store's engine.
/// Column and member names are this file's constants, never input.
struct JsonSql {
    bool pg;

    std::string member(const std::string& col, const std::string& key) const
    {
        return pg ? "(" + col + "::jsonb -> '" + key + "')" : "json_extract(" + col + ", '$.\"" + key + "\"')";
    }
    /// The member as text (NULL when missing).
    std::string text(const std::string& col, const std::string& key) const
    {
        return pg ? "(" + col + "::jsonb ->> '" + key + "')" : member(col, key);
    }
    std::string number(const std::string& col, const std::string& key) const
    {
        if (!pg) return member(col, key);
        return "CASE WHEN jsonb_typeof(" + member(col, key) + ") = 'number' THEN " + text(col, key) + "::numeric END";
    }
    std::string is(const std::string& col, const std::string& key, bool value) const
    {
        return member(col, key) + (pg ? (value ? " = 'true'::jsonb" : " = 'false'::jsonb") : (value ? " = 1" : " = 0"));
    }
    std::string array_length(const std::string& col, const std::string& key) const
    {
        if (!pg) return "json_array_length(" + col + ", '$.\"" + key + "\"')";
        return "CASE WHEN jsonb_typeof(" + member(col, key) + ") = 'array' THEN jsonb_array_length(" +
               member(col, key) + ") ELSE 0 END";
    }
    /// A table of the member array's elements, with one column: value.
    std::string elements(const std::string& col, const std::string& key, const std::string& alias) const
    {
        if (!pg) return "json_each(" + col + ", '$.\"" + key + "\"') " + alias;
        return "jsonb_array_elements_text(CASE WHEN jsonb_typeof(" + member(col, key) + ") = 'array' THEN " +
               member(col, key) + " ELSE '[]'::jsonb END) AS " + alias + " (value)";
    }
};

void describe(Metrics& m)
{
    m.describe("infra_agent_task_duration_seconds", "histogram",
               "Task attempts by task type and outcome, and how long they ran.",
               {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600});
    m.describe("infra_agent_policy_decisions_total", "counter",
               "Policy decisions by outcome (allowed, pending-approval, denied).");
    m.describe("infra_agent_policy_rule_matches_total", "counter",
               "Rules that contributed to a decision, by rule and outcome.");
    m.describe("infra_agent_tool_calls_total", "counter",
               "Agent tool calls by tool and outcome (ok, failed, refused).");
    m.describe("infra_agent_model_calls_total", "counter", "Model calls by model and outcome.");
    m.describe("infra_agent_model_tokens_total", "counter", "Model tokens by model and direction (input, output).");
    m.describe("infra_agent_credential_mints_total", "counter", "Credentials minted, by provider.");
    m.describe("infra_agent_credential_reuses_total", "counter",
               "Credentials handed out again before they expired, by provider.");
    m.describe(
        "infra_agent_errors_total", "counter",
        "Failures by kind: task attempts failed, tasks dead, leases lost, model errors, tools refused, escalations.");
    m.describe("infra_agent_events_total", "counter",
               "Events in the audit log by type (spans apart: they are exported as traces).");
}

/// The sequence numbers of the rows recorded since the last refresh, up to
/// what was there when this one began.
struct Range {
    std::int64_t from = 0;
    std::int64_t to = 0;

    /// The query with each {range} replaced by the condition on seq.
    std::string in(std::string sql) const
    {
        // Sequence numbers are integers this process read: nothing to quote.
        for (auto at = sql.find("{range}"); at != std::string::npos; at = sql.find("{range}"))
            sql.replace(at, 7, "seq > " + std::to_string(from) + " AND seq <= " + std::to_string(to));
        return sql;
    }
};

/// One refresh: the store, its SQL for JSON members, the new rows of the
/// audit log and of the decisions, and the metrics they are added to.
struct Reading {
    store::Db& db;
    JsonSql j;
    Range events;
    Range decisions;
    Metrics& m;
};

/// A decision's outcome (allowed, pending-approval, denied) from its JSON column.
std::string outcome(const JsonSql& j, const std::string& col)
{
    return "CASE WHEN " + j.is(col, "allowed", true) + " THEN CASE WHEN " + j.array_length(col, "requiredApprovals") +
           " > 0 THEN 'pending-approval' ELSE 'allowed' END ELSE 'denied' END";
}

Status task_durations(const Reading& r)
{
    const JsonSql& j = r.j;
    return rows(
        r.db,
        r.events.in("SELECT type, " + j.text("data", "taskType") + ", " + j.number("data", "durationMs") +
                    " FROM events WHERE type IN ('task.succeeded', 'task.failed') AND type <> 'span' AND {range}"),
        3, [&](const std::vector<std::string>& c, const store::Stmt& s) {
            r.m.observe("infra_agent_task_duration_seconds",
                        {{"type", or_unknown(c[1])}, {"outcome", c[0] == "task.succeeded" ? "succeeded" : "failed"}},
                        s.real(2) / 1000.0);
        });
}

Status policy_decisions(const Reading& r)
{
    return rows(
        r.db,
        r.decisions.in("SELECT " + outcome(r.j, "decision") +
                       " AS outcome, COUNT(*) FROM decisions WHERE {range} GROUP BY 1"),
        2, [&](const std::vector<std::string>& c, const store::Stmt& s) {
            r.m.add("infra_agent_policy_decisions_total", {{"outcome", c[0]}}, static_cast<double>(s.integer(1)));
        });
}

Status rule_matches(const Reading& r)
{
    return rows(r.db,
                r.decisions.in("SELECT r.value, " + outcome(r.j, "d.decision") +
                               " AS outcome, COUNT(*) FROM decisions d, " +
                               r.j.elements("d.decision", "matchedRules", "r") + " WHERE {range} GROUP BY 1, 2"),
                3, [&](const std::vector<std::string>& c, const store::Stmt& s) {
                    r.m.add("infra_agent_policy_rule_matches_total", {{"rule", c[0]}, {"outcome", c[1]}},
                            static_cast<double>(s.integer(2)));
                });
}

Status tool_calls(const Reading& r)
{
    const JsonSql& j = r.j;
    return rows(
        r.db,
        r.events.in("SELECT " + j.text("data", "tool") + ", CASE WHEN type = 'task.tool-refused' THEN 'refused' WHEN " +
                    j.is("data", "ok", true) +
                    " THEN 'ok' ELSE 'failed' END, COUNT(*) FROM events "
                    "WHERE type IN ('task.tool', 'task.tool-refused') AND type <> 'span' AND {range} GROUP BY 1, 2"),
        3, [&](const std::vector<std::string>& c, const store::Stmt& s) {
            r.m.add("infra_agent_tool_calls_total", {{"tool", or_unknown(c[0])}, {"outcome", c[1]}},
                    static_cast<double>(s.integer(2)));
        });
}

Status model_calls(const Reading& r)
{
    const JsonSql& j = r.j;
    return rows(r.db,
                r.events.in("SELECT COALESCE(" + j.text("data", "gen_ai.request.model") + ", " +
                            j.text("data", "model") + "), CASE WHEN " + j.is("data", "ok", false) +
                            " THEN 'error' ELSE 'ok' END, COUNT(*), COALESCE(SUM(" +
                            j.number("data", "gen_ai.usage.input_tokens") + "), 0), COALESCE(SUM(" +
                            j.number("data", "gen_ai.usage.output_tokens") + "), 0) " +
                            "FROM events WHERE type = 'task.model-call' AND type <> 'span' AND {range} GROUP BY 1, 2"),
                5, [&](const std::vector<std::string>& c, const store::Stmt& s) {
                    std::string model = or_unknown(c[0]);
                    r.m.add("infra_agent_model_calls_total", {{"model", model}, {"outcome", c[1]}},
                            static_cast<double>(s.integer(2)));
                    if (c[1] != "ok") return;
                    r.m.add("infra_agent_model_tokens_total", {{"model", model}, {"direction", "input"}},
                            static_cast<double>(s.integer(3)));
                    r.m.add("infra_agent_model_tokens_total", {{"model", model}, {"direction", "output"}},
                            static_cast<double>(s.integer(4)));
                });
}

/// The credentials ledger is read whole (it is small), so these are set, not added.
Status credential_uses(const Reading& r)
{
    return rows(
        r.db, "SELECT provider, COUNT(*), COALESCE(SUM(reuses), 0) FROM credentials GROUP BY provider", 3,
        [&](const std::vector<std::string>& c, const store::Stmt& s) {
            r.m.set("infra_agent_credential_mints_total", {{"provider", c[0]}}, static_cast<double>(s.integer(1)));
            r.m.set("infra_agent_credential_reuses_total", {{"provider", c[0]}}, static_cast<double>(s.integer(2)));
        });
}

/// The event types that count as errors, and their kind.
constexpr std::pair<const char*, const char*> k_error_kinds[] = {{"task.failed", "task_failed"},
                                                                 {"task.dead", "task_dead"},
                                                                 {"task.lease-lost", "lease_lost"},
                                                                 {"task.tool-refused", "tool_refused"},
                                                                 {"task.escalated", "escalated"}};

Status events_and_errors(const Reading& r)
{
    return rows(
        r.db,
        r.events.in("SELECT type, COUNT(*), SUM(CASE WHEN type = 'task.model-call' AND " + r.j.is("data", "ok", false) +
                    " THEN 1 ELSE 0 END) FROM events WHERE type <> 'span' AND {range} GROUP BY type"),
        3, [&](const std::vector<std::string>& c, const store::Stmt& s) {
            double n = static_cast<double>(s.integer(1));
            r.m.add("infra_agent_events_total", {{"type", c[0]}}, n);
            for (const auto& [type, kind] : k_error_kinds)
                if (c[0] == type) r.m.add("infra_agent_errors_total", {{"kind", kind}}, n);
            if (c[0] == "task.model-call")
                r.m.add("infra_agent_errors_total", {{"kind", "model_error"}}, static_cast<double>(s.integer(2)));
        });
}

}  // namespace

StateMetrics::StateMetrics() : m_metrics(std::make_unique<Metrics>())
{
    describe(*m_metrics);
}

Status StateMetrics::refresh(store::Db& db)
{
    std::lock_guard lock(m_mutex);
    Status st = read_since(db);
    if (!st) {
        // Part of the new rows may have been counted: start over next time.
        m_metrics = std::make_unique<Metrics>();
        describe(*m_metrics);
        m_events_seq = m_decisions_seq = 0;
    }
    return st;
}

Status StateMetrics::read_since(store::Db& db)
{
    // The rows recorded since the last refresh, up to what is there now:
    // the audit log and the decisions only grow, so totals add up exactly.
    std::int64_t events_to = 0, decisions_to = 0;
    Status st =
        rows(db, "SELECT (SELECT COALESCE(MAX(seq), 0) FROM events), (SELECT COALESCE(MAX(seq), 0) FROM decisions)", 2,
             [&](const std::vector<std::string>&, const store::Stmt& s) {
                 events_to = s.integer(0);
                 decisions_to = s.integer(1);
             });
    if (!st) return st;
    const Reading reading{db,
                          JsonSql{db.dialect() == store::Dialect::postgres},
                          {m_events_seq, events_to},
                          {m_decisions_seq, decisions_to},
                          *m_metrics};
    for (auto* step :
         {task_durations, policy_decisions, rule_matches, tool_calls, model_calls, credential_uses, events_and_errors})
        if (st = step(reading); !st) return st;
    m_events_seq = events_to;
    m_decisions_seq = decisions_to;
    return {};
}

std::string StateMetrics::render() const
{
    std::lock_guard lock(m_mutex);
    return m_metrics->render();
}

}  // namespace infra::core::serve
