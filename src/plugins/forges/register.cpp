// The built-in forges, by the names forge.kind takes.
#include "plugins/forges/forges.hpp"

namespace infra::plugins::forges {

void register_forges(core::change::ForgeRegistry& forges)
{
    using core::change::ForgeContext;
    forges.add("local", [](const ForgeContext& c) -> core::Result<std::unique_ptr<core::change::Forge>> {
        return make_local(c.store);
    });
    forges.add("github", [](const ForgeContext& c) -> core::Result<std::unique_ptr<core::change::Forge>> {
        GitHubSettings gs;
        gs.base_url = c.config.get_or("forge.base_url", gs.base_url);
        gs.accept = c.config.get_or("forge.accept", gs.accept);
        gs.token = core::change::pull_request_tokens(*c.broker("github", "GITHUB_TOKEN"));
        return make_github(std::move(gs));
    });
    forges.add("gitlab", [](const ForgeContext& c) -> core::Result<std::unique_ptr<core::change::Forge>> {
        GitLabSettings gl;
        gl.base_url = c.config.get_or("forge.base_url", gl.base_url);
        gl.token = core::change::pull_request_tokens(*c.broker("gitlab", "GITLAB_TOKEN"));
        return make_gitlab(std::move(gl));
    });
}

}  // namespace infra::plugins::forges
