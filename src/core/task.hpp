#pragma once
// The AgentTask: the unit of work every plane passes along (CLI.md "Shapes").

#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infra::core {

using nlohmann::json;

/// What kind of work a task asks for; each has a minimum policy tier.
enum class TaskType { compliance_remediation, drift_detection, pr_review, chat, incident_triage };

/// Queue order: critical first.
enum class Priority { low = 0, normal = 1, high = 2, critical = 3 };

/// "compliance-remediation", ...
std::string_view to_string(TaskType t);
/// "low", "normal", "high", "critical".
std::string_view to_string(Priority p);
/// Parses a task type name; nothing when unknown.
std::optional<TaskType> parse_task_type(std::string_view s);
/// Parses a priority name; nothing when unknown.
std::optional<Priority> parse_priority(std::string_view s);

/// Where a task came from.
struct Trigger {
    std::string source;     ///< webhook | schedule | user | api | alert
    std::string provider;   ///< github | checkov | alertmanager | ...
    std::string source_id;  ///< PR number, finding id, alert fingerprint, delivery id
    std::string timestamp;  ///< RFC 3339 UTC
};

/// Who and what a task is about.
struct TaskContext {
    std::string organization_id;
    std::string repository_id;
    std::string agent_slug;
    Priority priority = Priority::normal;
    std::string environment;  ///< empty when unknown
    std::string resource;     ///< terraform address or cloud ARN; empty when unknown
};

/// A normalized signal: the unit of work of every later plane.
struct AgentTask {
    std::string id;
    TaskType type = TaskType::compliance_remediation;
    Trigger trigger;
    TaskContext context;
    json payload = json::object();
    std::string dedupe_key;
    /// The W3C trace context the task's spans join ("00-<trace>-<span>-01"),
    /// from its signal or given at intake; nothing until then.
    std::optional<std::string> traceparent;
    /// Top-level fields added by later steps (decision ...), kept verbatim
    /// so that a task passes through every command intact.
    json extra = json::object();
};

/// A scanner finding as a compliance-remediation task carries it:
/// payload.finding, and in a group each of payload.findings. Read once from
/// the task's JSON; the JSON stays the form on the wire and in the queue.
struct TaskFinding {
    std::string tool;               ///< checkov, trivy, a SARIF tool ...
    std::string rule_id;            ///< as the tool reported it
    std::string canonical_rule_id;  ///< the catalogue's id (CKV_AWS_20), or rule_id when unknown
    std::string title;
    std::string message;
    std::string severity;  ///< critical, high, medium, low, info or unknown
    std::string resource;  ///< terraform address or cloud ARN; empty when unknown
    std::string file;      ///< repository-relative path; empty when unknown
    std::int64_t start_line = 0;
    std::int64_t end_line = 0;
    std::string key;            ///< in a group: the finding's own dedupe key; else empty
    std::string content;        ///< in a group: the hash of what it says; else empty
    json raw = json::object();  ///< the finding as carried, fields of its source included

    /// "main.tf:12", "main.tf", or empty.
    std::string location() const;
};

/// Reads one finding; fields that are absent or of another type are empty.
TaskFinding finding_from_json(const json& f);

/// The findings a task's payload is about: a group's, else its one, else none.
std::vector<TaskFinding> findings_of(const json& payload);

/// How a group's findings were put together (payload.group): by resource,
/// file, root or rule, and the value they share; empty for a task alone.
struct TaskGroup {
    std::string by;
    std::string value;
};
TaskGroup group_of(const json& payload);

/// The Terraform root a task names (payload.root) without trailing slashes;
/// empty when it names none.
std::string root_of(const json& payload);

/// The resource addresses a drift task is about: what changed outside
/// Terraform (payload.drift) and what its plan found different
/// (payload.resources), each as listed.
std::vector<std::string> drifted_addresses(const json& payload);

/// Resources that other tasks of the same report fix in the same files
/// (payload.otherResources): a fix leaves them alone.
std::vector<std::string> other_resources(const json& payload);

/// The longest task id.
constexpr std::size_t k_max_task_id = 128;

/// The one grammar of task ids, enforced wherever a task enters (ingest,
/// the API, enqueue): 1 to k_max_task_id ASCII letters, digits, '-' or '_'.
/// No dots and no slashes: an id names directories of the state home.
bool valid_task_id(std::string_view s);

/// The task as CLI.md's JSON shape (camelCase keys).
json to_json(const AgentTask& task);

/// Reads and validates a task. Errors name the field ("context.priority:
/// expected one of low, normal, high, critical, got 'urgent'"). With
/// complete=false, id, dedupeKey and trigger.timestamp may be missing (the
/// api source fills them in); otherwise they are required.
Result<AgentTask> task_from_json(const json& j, bool complete = true);

/// A short id for display and branch names: the first 12 characters of the
/// dedupe key.
std::string fingerprint(const AgentTask& task);

}  // namespace infra::core
