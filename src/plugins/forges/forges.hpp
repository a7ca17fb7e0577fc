#pragma once
// Forges: where pull requests are opened.

#include "core/change/forge.hpp"
#include "core/change/forges.hpp"
#include "core/change/pipeline.hpp"

#include <functional>
#include <memory>
#include <string>

namespace infra::plugins::forges {

using core::change::PrRequest;
using core::change::PullRequest;

/// Adds local, github and gitlab to forges.
void register_forges(core::change::ForgeRegistry& forges);

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

struct PipelineSettings {
    std::string github_url = "https://api.github.com";
    std::string github_accept = "application/vnd.github+json";
    std::string gitlab_url = "https://gitlab.com/api/v4";
    /// Tokens for (scope, task), minted through the broker so that each is
    /// in the ledger: ci:dispatch:repo=R,workflow=W and ci:read:repo=R on
    /// GitHub, ci:pipeline:project=P on GitLab.
    std::function<core::Result<std::string>(const std::string&, const std::string&)> github_token, gitlab_token;
};

/// Remote pipelines on GitHub Actions and GitLab CI.
std::unique_ptr<core::change::PipelineRunner> make_pipeline_runner(PipelineSettings settings);

}  // namespace infra::plugins::forges
