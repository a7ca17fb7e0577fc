#pragma once
// Helpers that every signal parser shares: normalizing findings into
// remediation tasks, dedupe keys, environments, and the streaming loop.

#include "core/json_stream.hpp"
#include "core/signals/signal.hpp"
#include "core/task.hpp"

#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace infra::core::signals {

/// A scanner finding in one shape, whatever tool reported it.
struct Finding {
    std::string tool;     ///< checkov, trivy, tfsec, prowler, or a SARIF tool's name
    std::string rule_id;  ///< as the tool reported it
    std::string title;
    std::string message;
    std::string severity;  ///< as reported; empty when the tool gave none
    std::string resource;  ///< terraform address or cloud ARN
    std::string file;      ///< repository-relative path when known
    long long start_line = 0;
    long long end_line = 0;
    std::string guideline;                            ///< a URL explaining the rule
    std::string framework;                            ///< terraform, kubernetes, cloud ...
    std::string source_id;                            ///< the tool's own id of this result, when it has one
    std::string timestamp;                            ///< when the tool saw it, when known
    std::map<std::string, std::string> tags;          ///< resource tags/labels, for the environment
    nlohmann::json extra = nlohmann::json::object();  ///< tool-specific fields worth keeping
};

/// A compliance-remediation task for a failed finding.
AgentTask remediation_task(const Finding& f, const IngestOptions& opt);

/// A dedupe key: 32 hex digits of SHA-256 over the parts, so it is stable
/// across runs, machines and sources.
std::string dedupe_key(std::initializer_list<std::string_view> parts);

/// Normalized severity: critical, high, medium, low, info, or unknown.
std::string normalize_severity(std::string_view s);

/// The queue priority for a normalized severity.
Priority priority_for(std::string_view severity);

/// Normalizes an environment name: prod/prd -> production, stage/stg ->
/// staging, dev -> development; others lower-cased.
std::string normalize_environment(std::string_view s);

/// The environment named by tags or labels (environment, env, stage), if any.
std::string environment_from_tags(const std::map<std::string, std::string>& tags);

/// The environment named by a directory of a path (envs/prod/main.tf), if any.
std::string environment_from_path(std::string_view path);

/// A repository-relative path: leading "/" and "./" removed, backslashes
/// turned into slashes, and root removed from absolute paths under it.
std::string normalize_path(std::string_view path, std::string_view root);

/// Fills id, timestamp, organization, agent and dedupe defaults of a task.
void finish_task(AgentTask& t, const IngestOptions& opt);

/// The default agent for a task type: builtin for remediation and drift,
/// llm for the others.
std::string default_agent(TaskType t);

/// A header of a delivery by case-insensitive name, or empty.
std::string header(const IngestOptions& opt, std::string_view name);

/// Turns one streamed record into tasks through emit; an Error rejects it.
using RecordFn = std::function<Status(json_stream::Record&&, const json_stream::Context&, Sink&)>;
/// Checks a finished document's shape; an Error rejects the whole document.
using ShapeFn = std::function<Status(const json_stream::DocumentShape&, std::size_t records)>;

/// The streaming loop of report parsers: every top-level document of in is
/// read with selection, its records go through fn, and its tasks are
/// committed together once the document is complete and well-formed.
Status stream_records(ByteSource& in, const json_stream::Selection& selection, const IngestOptions& opt, Sink& sink,
                      const RecordFn& fn, const ShapeFn& shape);

/// Reads a webhook body whole (up to opt.max_body) and parses it as JSON.
Result<json> read_body(ByteSource& in, const IngestOptions& opt, std::string* raw = nullptr);

/// A string member of j, or fallback when it is missing or not a string.
std::string str(const json& j, std::string_view key, std::string fallback = {});

/// A string at a JSON pointer, or fallback.
std::string str_at(const json& j, const char* pointer, std::string fallback = {});

}  // namespace infra::core::signals
