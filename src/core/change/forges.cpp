#include "core/change/forges.hpp"

#include "core/text.hpp"

#include <chrono>

namespace infra::core::change {

ForgeToken pull_request_tokens(creds::Broker& broker)
{
    return [&broker](const std::string& repository, const std::string& task) -> Result<std::string> {
        auto cred = broker.mint({"forge:pr:repo=" + repository, std::chrono::minutes(15), task, ""});
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

std::vector<std::string> ForgeRegistry::names() const
{
    std::vector<std::string> out;
    for (const auto& [n, f] : m_factories) out.push_back(n);
    return out;
}

}  // namespace infra::core::change
