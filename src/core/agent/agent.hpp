#pragma once
// Agents: what a worker runs for a task. Concrete agents (builtin, llm,
// exec) live in src/plugins/agents and join an AgentRegistry by name; the
// task's context.agentSlug picks one.

#include "core/events/event.hpp"
#include "core/policy/policy.hpp"
#include "core/result.hpp"
#include "core/sandbox.hpp"
#include "core/task.hpp"
#include "core/workspace.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace infra::core::agent {

using nlohmann::json;

/// What an agent gets for one attempt.
struct RunContext {
    const AgentTask& task;
    const policy::Decision& decision;  ///< the decision made at claim time; its constraints bind the run
    int attempt = 1;
    std::int64_t lease_token = 0;  ///< the attempt's fencing token (0 outside the queue): an idempotency key
    std::chrono::steady_clock::time_point deadline;
    /// True when the agent must stop: the deadline passed, the worker is
    /// shutting down past its grace period, or the lease was lost.
    std::function<bool()> cancelled;
    events::EventSink& events;
    /// Where the task's files are; null when the run has none.
    const Workspace* workspace = nullptr;
    /// Where commands run; null when none is available.
    const sandbox::Sandbox* sandbox = nullptr;
    /// The PolicyDigest for the task (JSON), to put into a model's prompt; null if none.
    json policy_digest;
    /// Model agents: a file that every model exchange is appended to.
    std::string record;
    /// Model agents: a recording to play back instead of calling a model.
    std::string replay;
};

/// How an attempt ended.
struct Outcome {
    bool ok = false;
    std::string error;  ///< why it failed
    json result = json::object();
    /// False for failures no retry can fix (the task is dead at once).
    bool retryable = true;

    /// A failed attempt without a result.
    static Outcome failure(std::string why, bool retryable = false)
    {
        return {false, std::move(why), json::object(), retryable};
    }
};

/// Runs tasks of one kind.
class Agent {
public:
    virtual ~Agent() = default;
    /// The name tasks use in context.agentSlug.
    virtual std::string name() const = 0;
    /// Runs one attempt. Must return soon after ctx.cancelled() is true.
    virtual Outcome run(const RunContext& ctx) = 0;
};

/// Runs one attempt of agent in ctx's workspace. A ".git" the run made
/// there (at any depth, where none was before) is removed and recorded as
/// change.metadata-removed: no later commit or push in that directory may
/// obey a repository, configuration or remote the agent made.
Outcome run_contained(Agent& agent, const RunContext& ctx);

/// Agents by name.
class Registry {
public:
    void add(std::shared_ptr<Agent> agent);
    Agent* find(const std::string& name) const;
    std::vector<std::string> names() const;

private:
    std::map<std::string, std::shared_ptr<Agent>> m_agents;
};

}  // namespace infra::core::agent
