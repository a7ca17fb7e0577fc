#pragma once
// The tools an agent may call, and the checks every call passes first: the
// task's decision (allowedTools, deniedTools), argument validation, paths
// confined to the workspace. Every call is recorded as an event with its
// arguments (secrets redacted, file contents cut short).

#include "core/events/event.hpp"
#include "core/policy/policy.hpp"
#include "core/sandbox.hpp"
#include "core/workspace.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace infra::core::agent {

using nlohmann::json;

/// What a tool call returned: output for the model, or why it failed.
struct ToolResult {
    bool ok = false;
    json output;
    std::string error;
    bool refused = false;  ///< refused by policy or a path check, not a tool failure
};

/// The names of every tool, in the order they are offered.
const std::vector<std::string>& tool_names();

class ToolBox {
public:
    /// decision is the task's PolicyDecision (its constraints bind the tools);
    /// sandbox may be null, and run_command is then unavailable.
    ToolBox(const Workspace& ws, const policy::Decision& decision, const sandbox::Sandbox* sandbox,
            events::EventSink& events, std::string task_id);

    /// Runs one call after every check.
    ToolResult call(const std::string& name, const json& args);

    /// JSON Schemas of the tools this decision allows, for a model's tool list.
    json specs() const;

    /// Whether policy allows a tool.
    bool allowed(const std::string& name) const;

    bool finished() const { return m_finished; }
    /// Commands are killed when the task's time is up.
    void set_deadline(std::chrono::steady_clock::time_point deadline) { m_deadline = deadline; }

    /// After a failed validation: the agent may work and finish again.
    void reopen() { m_finished = false; }
    const std::string& summary() const { return m_summary; }
    std::size_t calls() const { return m_calls; }

    /// Files changed through the tools: path -> content before the first change
    /// (nullopt for files the agent created).
    const std::map<std::string, std::optional<std::string>>& originals() const { return m_originals; }

    /// A unified diff of every change made through the tools.
    std::string diff() const;

private:
    ToolResult run(const std::string& name, const json& args);
    ToolResult write(const std::string& path, const std::string& content);
    ToolResult apply_patch(const std::string& patch);

    const Workspace& m_ws;
    std::optional<std::vector<std::string>> m_allowed_tools;  ///< none: every tool not denied
    std::vector<std::string> m_denied_tools;
    const sandbox::Sandbox* m_sandbox;
    events::EventSink& m_events;
    std::string m_task;
    bool m_finished = false;
    std::string m_summary;
    std::size_t m_calls = 0;
    std::chrono::steady_clock::time_point m_deadline = std::chrono::steady_clock::time_point::max();
    std::map<std::string, std::optional<std::string>> m_originals;
};

/// Applies a unified diff to text; hunks must match their context exactly.
Result<std::string> apply_unified(const std::string& text, const std::string& hunks);

}  // namespace infra::core::agent
