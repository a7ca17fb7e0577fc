#pragma once
// The forges that pull requests can go to (local, github, gitlab), by name,
// like the other registries: plugins add a factory, a command opens the one
// that forge.kind (or --forge) names. Beside each forge, the reviewers of
// its pull requests (for serve) and one runner of remote CI pipelines.

#include "core/change/forge.hpp"
#include "core/change/pipeline.hpp"
#include "core/change/reviewers.hpp"
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

/// A token for (scope, task), for a forge's or a CI's API.
using ScopedToken = std::function<Result<std::string>(const std::string& scope, const std::string& task)>;

/// The broker that mints the tokens of api (github, gitlab), so that each is
/// in the ledger: the credential provider's when it can mint for that API (a
/// GitHub App), else one over the token in the environment variable named.
using TokenBroker = std::function<creds::Broker*(const std::string& api, const std::string& variable)>;

/// What a forge is opened with.
struct ForgeContext {
    const Config& config;
    PrStore& store;  ///< pull requests recorded in the state db
    TokenBroker broker;
};

/// What a forge's reviewers and the CI pipelines are opened with.
struct ApiContext {
    const Config& config;
    TokenBroker broker;
};

/// Tokens scoped to one repository's pull requests (forge:pr:repo=R),
/// minted through broker, each for 15 minutes.
ForgeToken pull_request_tokens(creds::Broker& broker);

/// Tokens for any scope, minted through broker, each for 15 minutes.
ScopedToken scoped_tokens(creds::Broker& broker);

using ForgeFactory = std::function<Result<std::unique_ptr<Forge>>(const ForgeContext&)>;
using ReviewersFactory = std::function<Result<std::unique_ptr<Reviewers>>(const ApiContext&)>;
using PipelinesFactory = std::function<Result<std::unique_ptr<PipelineRunner>>(const ApiContext&)>;

class ForgeRegistry {
public:
    void add(std::string name, ForgeFactory make) { m_factories[std::move(name)] = std::move(make); }
    /// Adds the reviewers of the forge called name.
    void add_reviewers(std::string name, ReviewersFactory make) { m_reviewers[std::move(name)] = std::move(make); }
    /// Sets the runner of remote pipelines (GitHub Actions, GitLab CI).
    void set_pipelines(PipelinesFactory make) { m_pipelines = std::move(make); }

    /// Opens the forge called name; an unknown name lists the known ones.
    Result<std::unique_ptr<Forge>> open(const std::string& name, const ForgeContext& context) const;
    /// Opens the reviewers of the forge called name; null for a forge
    /// without (local, whose approvals are `approve` and the REST API).
    Result<std::unique_ptr<Reviewers>> open_reviewers(const std::string& name, const ApiContext& context) const;
    bool has_reviewers(const std::string& name) const { return m_reviewers.count(name) > 0; }
    /// Opens the runner of remote pipelines.
    Result<std::unique_ptr<PipelineRunner>> open_pipelines(const ApiContext& context) const;
    std::vector<std::string> names() const;

private:
    std::map<std::string, ForgeFactory> m_factories;
    std::map<std::string, ReviewersFactory> m_reviewers;
    PipelinesFactory m_pipelines;
};

}  // namespace infra::core::change
