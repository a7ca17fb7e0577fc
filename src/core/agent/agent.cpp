#include "core/agent/agent.hpp"

#include <algorithm>
#include <filesystem>

namespace infra::core::agent {

Outcome run_contained(Agent& agent, const RunContext& ctx)
{
    if (!ctx.workspace) return agent.run(ctx);
    auto before = ctx.workspace->git_metadata();
    Outcome outcome = agent.run(ctx);
    std::vector<std::string> removed;
    for (const auto& path : ctx.workspace->git_metadata()) {
        if (std::binary_search(before.begin(), before.end(), path)) continue;
        std::error_code ec;
        std::filesystem::remove_all(ctx.workspace->root() / path, ec);  // a link goes itself
        if (ec)
            outcome =
                Outcome::failure("cannot remove the git metadata the agent made at " + path + ": " + ec.message());
        removed.push_back(path);
    }
    if (!removed.empty()) ctx.events.emit({"change.metadata-removed", ctx.task.id, "", {{"paths", removed}}});
    return outcome;
}

void Registry::add(std::shared_ptr<Agent> agent)
{
    auto name = agent->name();
    m_agents[name] = std::move(agent);
}

Agent* Registry::find(const std::string& name) const
{
    auto it = m_agents.find(name);
    return it == m_agents.end() ? nullptr : it->second.get();
}

std::vector<std::string> Registry::names() const
{
    std::vector<std::string> out;
    for (const auto& [k, v] : m_agents) out.push_back(k);
    return out;
}

}  // namespace infra::core::agent
