#include "cli/reviewers_setup.hpp"

#include "cli/apply_setup.hpp"
#include "core/creds/env.hpp"
#include "core/state.hpp"
#include "plugins/forges/reviewers.hpp"

#include <mutex>

namespace infra::cli {

core::Result<std::unique_ptr<ReviewersSetup>> open_reviewers(Context& ctx, core::events::EventSink* sink)
{
    auto config = ctx.config();
    if (!config) return core::fail(config.error());
    const core::Config& c = **config;
    std::string kind = c.get_or("forge.kind", "local");
    if (kind != "github" && kind != "gitlab") return std::unique_ptr<ReviewersSetup>();
    auto out = std::make_unique<ReviewersSetup>();
    auto creds = ctx.open(core::creds::open_broker, "");
    if (!creds) return core::fail(creds.error());
    out->creds = std::move(*creds);
    core::creds::Broker* broker = out->creds.broker.get();
    if (kind == "gitlab" || out->creds.provider->name() != "github-app") {
        // A personal or CI token from the environment, recorded like any credential.
        out->env_provider =
            core::creds::env_provider(c.get_or("forge.token_env", kind == "github" ? "GITHUB_TOKEN" : "GITLAB_TOKEN"));
        out->env_broker = std::make_unique<core::creds::Broker>(*out->creds.ledger, *out->env_provider);
        broker = out->env_broker.get();
    }
    broker->set_events(sink);
    auto mint = core::change::scoped_tokens(*broker);
    plugins::forges::ReviewerSettings rs;
    rs.comment_token = [mint](const std::string& repo, const std::string& task) {
        return mint("forge:pr:repo=" + repo, task);
    };
    rs.member_token = [mint](const std::string& repo, const std::string& task) {
        return mint("forge:members:repo=" + repo, task);
    };
    if (kind == "github") {
        rs.base_url = c.get_or("forge.base_url", "https://api.github.com");
        rs.accept = c.get_or("forge.accept", rs.accept);
        out->reviewers = plugins::forges::make_github_reviewers(std::move(rs));
    } else {
        rs.base_url = c.get_or("forge.base_url", "https://gitlab.com/api/v4");
        out->reviewers = plugins::forges::make_gitlab_reviewers(std::move(rs));
    }
    return out;
}

core::serve::ApplyFn gated_apply(Context& ctx, core::events::EventSink* sink)
{
    // One apply at a time: each sets up its own sandbox and clone from ctx.
    auto one_at_a_time = std::make_shared<std::mutex>();
    return [&ctx, sink, one_at_a_time](const core::queue::Entry& e,
                                       const std::string& by) -> core::Result<nlohmann::json> {
        std::lock_guard lock(*one_at_a_time);
        auto db = core::open_state(ctx.home());
        if (!db) return core::fail(db.error());
        core::change::ApplyStore store(**db);
        auto how = open_apply(ctx, e, "", "", false);
        if (!how) {
            sink->emit({"apply.refused", e.id, "", {{"by", by}, {"reason", how.error().message}}});
            return core::fail(how.error());
        }
        attach_events(*(*how)->delivery, sink);
        return core::change::apply_task(e, by, store, *sink, (*how)->runner);
    };
}

}  // namespace infra::cli
