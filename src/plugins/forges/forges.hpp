#pragma once
// Forges: where pull requests are opened.

#include "core/change/forge.hpp"

#include <functional>
#include <memory>
#include <string>

namespace infra::plugins::forges {

/// Pull requests recorded in the state db only.
std::unique_ptr<core::change::Forge> make_local(core::change::PrStore& store);

struct GitHubSettings {
    std::string base_url = "https://api.github.com";  ///< GitHub Enterprise: https://HOST/api/v3
    std::string accept = "application/vnd.github+json";
    /// A token for (repository, task): minted by the broker (github-app) or read from forge.token_env.
    std::function<core::Result<std::string>(const std::string&, const std::string&)> token;
};

/// Pull requests on GitHub through its REST API.
std::unique_ptr<core::change::Forge> make_github(GitHubSettings settings);

struct GitLabSettings {
    std::string base_url = "https://gitlab.com/api/v4";
    std::function<core::Result<std::string>(const std::string&, const std::string&)> token;
};

/// Merge requests on GitLab through its REST API (/api/v4).
std::unique_ptr<core::change::Forge> make_gitlab(GitLabSettings settings);

}  // namespace infra::plugins::forges
