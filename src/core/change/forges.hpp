#pragma once
// The forges that pull requests can go to (local, github, gitlab), by name,
// like the other registries: plugins add a factory, a command opens the one
// that forge.kind (or --forge) names.

#include "core/change/forge.hpp"
#include "core/config.hpp"
#include "core/creds/broker.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace infra::core::change {

/// A token for (repository, task), for a forge's API.
using ForgeToken = std::function<Result<std::string>(const std::string& repository, const std::string& task)>;

/// What a forge is opened with.
struct ForgeContext {
    const Config& config;
    PrStore& store;  ///< pull requests recorded in the state db
    /// The broker that mints a forge's API tokens (so that each is in the
    /// ledger): the credential provider's when it can mint for that forge (a
    /// GitHub App), else one that reads forge.token_env, else default_env.
    std::function<creds::Broker*(const std::string& forge, const std::string& default_env)> broker;
};

/// Tokens scoped to one repository's pull requests (forge:pr:repo=R),
/// minted through broker, each for 15 minutes.
ForgeToken pull_request_tokens(creds::Broker& broker);

using ForgeFactory = std::function<Result<std::unique_ptr<Forge>>(const ForgeContext&)>;

class ForgeRegistry {
public:
    void add(std::string name, ForgeFactory make) { m_factories[std::move(name)] = std::move(make); }
    /// Opens the forge called name; an unknown name lists the known ones.
    Result<std::unique_ptr<Forge>> open(const std::string& name, const ForgeContext& context) const;
    std::vector<std::string> names() const;

private:
    std::map<std::string, ForgeFactory> m_factories;
};

}  // namespace infra::core::change
