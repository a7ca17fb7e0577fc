#include "cli/delivery_setup.hpp"
#include "core/change/providers.hpp"

#include "core/creds/env.hpp"
#include "core/state.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"
#include "plugins/forges/forges.hpp"

namespace infra::cli {

void add_delivery_flags(CLI::App* cmd, DeliveryFlags& flags)
{
    cmd->add_option("--repo", flags.repo,
                    "repository to clone for each task and push bot branches to (URL or path; default: git.repo)");
    cmd->add_option("--forge", flags.forge,
                    "where pull requests go: local, github or gitlab (default: forge.kind, else local)");
    cmd->add_option("--base", flags.base,
                    "base branch of pull requests (default: git.base, else the remote's default branch)");
    cmd->add_flag("--keep-worktrees", flags.keep, "keep each task's worktree after it ran (for debugging)");
}

core::Status open_forge(Context& ctx, const std::string& name, DeliverySetup& setup)
{
    auto config = ctx.config();
    if (!config) return core::fail(config.error());
    const core::Config& c = **config;
    auto broker = [&](const std::string& forge, const std::string& default_env) -> core::creds::Broker* {
        // A GitHub App mints tokens for exactly the repository; else a personal
        // or CI token from the environment, recorded like any credential.
        if (forge == "github" && setup.creds.provider->name() == "github-app") return setup.creds.broker.get();
        setup.forge_provider = core::creds::env_provider(c.get_or("forge.token_env", default_env));
        setup.forge_broker = std::make_unique<core::creds::Broker>(*setup.creds.ledger, *setup.forge_provider);
        return setup.forge_broker.get();
    };
    auto forge = ctx.forges().open(name, {c, *setup.store, broker});
    if (!forge) return core::fail(forge.error());
    setup.forge = std::move(*forge);
    return {};
}

core::Status open_pipelines(Context& ctx, DeliverySetup& setup)
{
    auto config = ctx.config();
    if (!config) return core::fail(config.error());
    const core::Config& c = **config;
    std::string forge = c.get_or("forge.kind", "local");
    plugins::forges::PipelineSettings ps;
    // The forge's API is the CI's unless ci.* names another.
    if (forge == "github") ps.github_url = c.get_or("forge.base_url", ps.github_url);
    if (forge == "gitlab") ps.gitlab_url = c.get_or("forge.base_url", ps.gitlab_url);
    ps.github_url = c.get_or("ci.github.base_url", ps.github_url);
    ps.github_accept =
        c.get_or("ci.github.accept", forge == "github" ? c.get_or("forge.accept", ps.github_accept) : ps.github_accept);
    ps.gitlab_url = c.get_or("ci.gitlab.base_url", ps.gitlab_url);
    auto env_broker = [&](const std::string& variable) {
        setup.ci_providers.push_back(core::creds::env_provider(variable));
        setup.ci_brokers.push_back(
            std::make_unique<core::creds::Broker>(*setup.creds.ledger, *setup.ci_providers.back()));
        return setup.ci_brokers.back().get();
    };
    // A GitHub App mints tokens for exactly the workflow's repository; else a token from the environment.
    ps.github_token = core::change::scoped_tokens(*(
        setup.creds.provider->name() == "github-app"
            ? setup.creds.broker.get()
            : env_broker(c.get_or("ci.github.token_env",
                                  forge == "github" ? c.get_or("forge.token_env", "GITHUB_TOKEN") : "GITHUB_TOKEN"))));
    ps.gitlab_token = core::change::scoped_tokens(*env_broker(c.get_or(
        "ci.gitlab.token_env", forge == "gitlab" ? c.get_or("forge.token_env", "GITLAB_TOKEN") : "GITLAB_TOKEN")));
    setup.pipelines = plugins::forges::make_pipeline_runner(std::move(ps));
    return {};
}

void attach_events(DeliverySetup& setup, core::events::EventSink* sink)
{
    for (auto& b : setup.ci_brokers) b->set_events(sink);
    if (setup.delivery) setup.delivery->set_events(sink);
    if (setup.creds.broker) setup.creds.broker->set_events(sink);
    if (setup.forge_broker) setup.forge_broker->set_events(sink);
}

core::Result<core::change::ValidationOptions> validation_options(Context& ctx, const core::sandbox::Sandbox* sandbox)
{
    auto config = ctx.config();
    if (!config) return core::fail(config.error());
    core::change::ValidationOptions v;
    auto steps = core::change::steps_from((*config)->get_json("validation.steps"));
    if (!steps) return core::fail(steps.error());
    v.steps = std::move(*steps);
    v.sandbox = sandbox;
    v.terraform = core::change::terraform_on_path();
    for (const auto& d : (*config)->get_list("sandbox.state_dirs")) v.state_dirs.push_back(d);
    if (auto t = (*config)->get("validation.step_timeout")) {
        auto d = core::timeutil::parse_duration(*t);
        if (!d) return core::fail(core::Errc::invalid_input, "validation.step_timeout: " + d.error().message);
        v.step_timeout = *d;
    }
    auto plan = core::change::parse_plan_mode((*config)->get_or("validation.plan", "offline"));
    if (!plan) return core::fail(plan.error());
    v.plan = *plan;
    // Providers for the offline sandbox: the cache under the state home, or
    // the operator's own mirror.
    core::change::ProviderOptions po;
    po.dir = ctx.home().dir / "providers";
    if (auto m = (*config)->get("validation.provider_mirror"); m && !m->empty())
        po.operator_mirror = std::filesystem::absolute(*m).lexically_normal();
    v.providers = std::make_shared<core::change::ProviderCache>(std::move(po));
    return v;
}

core::Result<std::unique_ptr<DeliverySetup>> open_delivery(Context& ctx, const DeliveryFlags& flags,
                                                           const core::sandbox::Sandbox* sandbox)
{
    auto config = ctx.config();
    if (!config) return core::fail(config.error());
    const core::Config& c = **config;
    std::string repo = flags.repo.empty() ? c.get_or("git.repo", "") : flags.repo;
    if (repo.empty()) return std::unique_ptr<DeliverySetup>();
    // A plain path is a local repository; libgit2 wants it absolute.
    if (repo.find("://") == std::string::npos && repo.find('@') == std::string::npos) {
        std::error_code ec;
        auto abs = std::filesystem::absolute(repo, ec);
        if (!ec) repo = abs.lexically_normal().string();
    }

    auto setup = std::make_unique<DeliverySetup>();
    auto creds = ctx.open(core::creds::open_broker, "");
    if (!creds) return core::fail(creds.error());
    setup->creds = std::move(*creds);
    auto db = core::open_state(ctx.home());
    if (!db) return core::fail(db.error());
    setup->db = std::move(*db);
    setup->store = std::make_unique<core::change::PrStore>(*setup->db);
    if (auto f = open_forge(ctx, flags.forge.empty() ? c.get_or("forge.kind", "local") : flags.forge, *setup); !f)
        return core::fail(f.error());

    core::change::DeliveryOptions o;
    o.repo_url = repo;
    o.repository = c.get_or("git.repository", "");
    o.base = flags.base.empty() ? c.get_or("git.base", "") : flags.base;
    o.work_root = ctx.home().dir / "worktrees";
    o.identity.name = c.get_or("git.author_name", o.identity.name);
    o.identity.email = c.get_or("git.author_email", o.identity.email);
    if (auto p = c.get_list("git.protected_branches"); !p.empty()) o.protected_patterns = p;
    if (auto l = c.get_list("forge.labels"); !l.empty()) o.labels = l;
    o.ssh_key = c.get_or("git.ssh_key", "");
    o.ssh_known_hosts = c.get_or("git.ssh_known_hosts", "");
    o.keep_worktrees = flags.keep;
    for (auto [key, limit] : {std::pair{"pr.max_open", &o.max_open}, std::pair{"pr.max_per_hour", &o.max_per_hour}}) {
        std::string v = c.get_or(key, "");
        if (v.empty()) continue;
        char* end = nullptr;
        long n = std::strtol(v.c_str(), &end, 10);
        if (*end || n < 0 || n > 100000)
            return core::fail(core::Errc::usage, std::string(key) +
                                                     ": expected a whole number of pull requests (0: no limit), got " +
                                                     core::text::quote(v));
        *limit = static_cast<int>(n);
    }
    if (auto t = c.get("pr.limit_recheck")) {
        auto d = core::timeutil::parse_duration(*t);
        if (!d || d->count() < 1000)
            return core::fail(core::Errc::usage, "pr.limit_recheck " + core::text::quote(*t) +
                                                     ": expected a duration of 1s or more, e.g. 1m");
        o.limit_recheck = *d;
    }
    o.forge = setup->forge.get();
    o.store = setup->store.get();
    auto validation = validation_options(ctx, sandbox);
    if (!validation) return core::fail(validation.error());
    o.validation = std::move(*validation);
    if (core::change::has_pipelines(o.validation.steps)) {
        if (auto p = open_pipelines(ctx, *setup); !p) return core::fail(p.error());
        o.pipelines = setup->pipelines.get();
    }
    o.plans_root = ctx.home().dir / "plans";
    auto* broker = setup->creds.broker.get();
    o.mint = [broker](const std::string& scope, const std::string& task,
                      const std::string& trace) -> core::Result<std::string> {
        auto cred = broker->mint({scope, std::chrono::minutes(15), task, trace});
        if (!cred) return core::fail(cred.error());
        return cred->secret;
    };
    setup->delivery = std::make_unique<core::change::Delivery>(std::move(o));
    return setup;
}

}  // namespace infra::cli
