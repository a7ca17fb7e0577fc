#include "core/agent/agent.hpp"

namespace infra::core::agent {

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
