// The built-in forges, by the names forge.kind takes, with their reviewers
// and the runner of remote pipelines (ci.github.*, ci.gitlab.*).
#include "plugins/forges/forges.hpp"
#include "plugins/forges/reviewers.hpp"

namespace infra::plugins::forges {
namespace {

using core::change::ApiContext;
using core::change::ForgeContext;

/// The variable of a forge's API token: forge.token_env, else fallback.
std::string token_env(const core::Config& config, const std::string& fallback)
{
    return config.get_or("forge.token_env", fallback);
}

core::Result<std::unique_ptr<core::change::PipelineRunner>> open_pipelines(const ApiContext& c)
{
    const core::Config& config = c.config;
    std::string forge = config.get_or("forge.kind", "local");
    PipelineSettings ps;
    // The forge's API is the CI's unless ci.* names another.
    if (forge == "github") ps.github_url = config.get_or("forge.base_url", ps.github_url);
    if (forge == "gitlab") ps.gitlab_url = config.get_or("forge.base_url", ps.gitlab_url);
    ps.github_url = config.get_or("ci.github.base_url", ps.github_url);
    ps.github_accept = config.get_or(
        "ci.github.accept", forge == "github" ? config.get_or("forge.accept", ps.github_accept) : ps.github_accept);
    ps.gitlab_url = config.get_or("ci.gitlab.base_url", ps.gitlab_url);
    std::string github_env = forge == "github" ? token_env(config, "GITHUB_TOKEN") : "GITHUB_TOKEN";
    std::string gitlab_env = forge == "gitlab" ? token_env(config, "GITLAB_TOKEN") : "GITLAB_TOKEN";
    ps.github_token =
        core::change::scoped_tokens(*c.broker("github", config.get_or("ci.github.token_env", github_env)));
    ps.gitlab_token =
        core::change::scoped_tokens(*c.broker("gitlab", config.get_or("ci.gitlab.token_env", gitlab_env)));
    return make_pipeline_runner(std::move(ps));
}

/// Comment and membership tokens of a forge's reviewers, from its broker.
ReviewerSettings reviewer_settings(const ApiContext& c, const std::string& forge, const std::string& default_env)
{
    ReviewerSettings rs;
    auto tokens = core::change::scoped_tokens(*c.broker(forge, token_env(c.config, default_env)));
    rs.comment_token = [tokens](const std::string& repo, const std::string& task) {
        return tokens("forge:pr:repo=" + repo, task);
    };
    rs.member_token = [tokens](const std::string& repo, const std::string& task) {
        return tokens("forge:members:repo=" + repo, task);
    };
    return rs;
}

}  // namespace

void register_forges(core::change::ForgeRegistry& forges)
{
    forges.add("local", [](const ForgeContext& c) -> core::Result<std::unique_ptr<core::change::Forge>> {
        return make_local(c.store);
    });
    forges.add("github", [](const ForgeContext& c) -> core::Result<std::unique_ptr<core::change::Forge>> {
        GitHubSettings gs;
        gs.base_url = c.config.get_or("forge.base_url", gs.base_url);
        gs.accept = c.config.get_or("forge.accept", gs.accept);
        gs.token = core::change::pull_request_tokens(*c.broker("github", token_env(c.config, "GITHUB_TOKEN")));
        return make_github(std::move(gs));
    });
    forges.add("gitlab", [](const ForgeContext& c) -> core::Result<std::unique_ptr<core::change::Forge>> {
        GitLabSettings gl;
        gl.base_url = c.config.get_or("forge.base_url", gl.base_url);
        gl.token = core::change::pull_request_tokens(*c.broker("gitlab", token_env(c.config, "GITLAB_TOKEN")));
        return make_gitlab(std::move(gl));
    });
    forges.add_reviewers("github", [](const ApiContext& c) -> core::Result<std::unique_ptr<core::change::Reviewers>> {
        auto rs = reviewer_settings(c, "github", "GITHUB_TOKEN");
        rs.base_url = c.config.get_or("forge.base_url", "https://api.github.com");
        rs.accept = c.config.get_or("forge.accept", rs.accept);
        return make_github_reviewers(std::move(rs));
    });
    forges.add_reviewers("gitlab", [](const ApiContext& c) -> core::Result<std::unique_ptr<core::change::Reviewers>> {
        auto rs = reviewer_settings(c, "gitlab", "GITLAB_TOKEN");
        rs.base_url = c.config.get_or("forge.base_url", "https://gitlab.com/api/v4");
        return make_gitlab_reviewers(std::move(rs));
    });
    forges.set_pipelines(open_pipelines);
}

}  // namespace infra::plugins::forges
