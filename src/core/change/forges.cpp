#include "core/change/forges.hpp"

#include "core/text.hpp"

#include <chrono>

namespace infra::core::change {

ForgeToken pull_request_tokens(creds::Broker& broker)
{
    return [tokens = scoped_tokens(broker)](const std::string& repository, const std::string& task) {
        return tokens("forge:pr:repo=" + repository, task);
    };
}

ScopedToken scoped_tokens(creds::Broker& broker)
{
    return [&broker](const std::string& scope, const std::string& task) -> Result<std::string> {
        auto cred = broker.mint({scope, std::chrono::minutes(15), task, ""});
        if (!cred) return fail(cred.error());
        return cred->secret;
    };
}

Result<std::unique_ptr<Forge>> ForgeRegistry::open(const std::string& name, const ForgeContext& context) const
{
    auto it = m_factories.find(name);
    if (it == m_factories.end()) {
        std::string known;
        for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
        return fail(Errc::invalid_input, "unknown forge " + text::quote(name), "forges: " + known);
    }
    return it->second(context);
}

Result<std::unique_ptr<Reviewers>> ForgeRegistry::open_reviewers(const std::string& name,
                                                                 const ApiContext& context) const
{
    auto it = m_reviewers.find(name);
    if (it == m_reviewers.end()) return std::unique_ptr<Reviewers>();
    return it->second(context);
}

Result<std::unique_ptr<PipelineRunner>> ForgeRegistry::open_pipelines(const ApiContext& context) const
{
    if (!m_pipelines)
        return fail(Errc::unavailable, "no plugin runs remote pipelines",
                    "remove the pipeline steps from validation.steps, or use a build with the forge plugins");
    return m_pipelines(context);
}

std::vector<std::string> ForgeRegistry::names() const
{
    std::vector<std::string> out;
    for (const auto& [n, f] : m_factories) out.push_back(n);
    return out;
}

}  // namespace infra::core::change
