#include "core/change/open_delivery.hpp"

#include "core/change/providers.hpp"
#include "core/state.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <cstdlib>

namespace infra::core::change {
namespace {

/// The forge --forge names, else forge.kind, else local.
std::string forge_kind(const Site& site, const DeliveryOverrides& overrides)
{
    return overrides.forge.empty() ? site.config.get_or("forge.kind", "local") : overrides.forge;
}

/// Opens the state db, the pull-request store and the forge into setup, whose broker is open.
Status open_store_and_forge(const Site& site, const std::string& kind, DeliverySetup& setup)
{
    auto db = open_state(site.home);
    if (!db) return fail(db.error());
    setup.db = std::move(*db);
    setup.store = std::make_unique<PrStore>(*setup.db);
    auto& creds = setup.creds;
    auto broker = [&creds](const std::string& api, const std::string& variable) {
        return creds.broker_for(api, variable);
    };
    auto forge = site.forges.open(kind, {site.config, *setup.store, broker});
    if (!forge) return fail(forge.error());
    setup.forge = std::move(*forge);
    return {};
}

/// git.repo, or the override; a plain path made absolute (libgit2 wants it so).
std::string repository_url(const Site& site, const DeliveryOverrides& overrides)
{
    std::string repo = overrides.repo.empty() ? site.config.get_or("git.repo", "") : overrides.repo;
    if (!repo.empty() && repo.find("://") == std::string::npos && repo.find('@') == std::string::npos) {
        std::error_code ec;
        auto abs = std::filesystem::absolute(repo, ec);
        if (!ec) repo = abs.lexically_normal().string();
    }
    return repo;
}

}  // namespace

Status read_pr_limits(const Config& config, DeliveryOptions& options)
{
    for (auto [key, limit] :
         {std::pair{"pr.max_open", &options.max_open}, std::pair{"pr.max_per_hour", &options.max_per_hour}}) {
        std::string v = config.get_or(key, "");
        if (v.empty()) continue;
        char* end = nullptr;
        long n = std::strtol(v.c_str(), &end, 10);
        if (*end || n < 0 || n > 100000)
            return fail(Errc::usage, std::string(key) +
                                         ": expected a whole number of pull requests (0: no limit), got " +
                                         text::quote(v));
        *limit = static_cast<int>(n);
    }
    if (auto t = config.get("pr.limit_recheck")) {
        auto d = timeutil::parse_duration(*t);
        if (!d || d->count() < 1000)
            return fail(Errc::usage,
                        "pr.limit_recheck " + text::quote(*t) + ": expected a duration of 1s or more, e.g. 1m");
        options.limit_recheck = *d;
    }
    return {};
}

Result<std::unique_ptr<DeliverySetup>> open_forge(const Site& site, const DeliveryOverrides& overrides)
{
    auto setup = std::make_unique<DeliverySetup>();
    std::string kind = forge_kind(site, overrides);
    // The local forge mints nothing: its pull requests are rows in the state db.
    auto creds = kind == "local" ? creds::open_ledger(site.home) : creds::open_broker(site, "");
    if (!creds) return fail(creds.error());
    setup->creds = std::move(*creds);
    if (auto f = open_store_and_forge(site, kind, *setup); !f) return fail(f.error());
    return setup;
}

Result<std::unique_ptr<PipelineRunner>> open_pipelines(const Site& site, creds::BrokerHandle& creds)
{
    auto broker = [&creds](const std::string& api, const std::string& variable) {
        return creds.broker_for(api, variable);
    };
    return site.forges.open_pipelines({site.config, broker});
}

void attach_events(DeliverySetup& setup, events::EventSink* sink)
{
    if (setup.delivery) setup.delivery->set_events(sink);
    setup.creds.set_events(sink);
}

Result<ValidationOptions> validation_options(const Site& site, const sandbox::Sandbox* sandbox)
{
    const Config& c = site.config;
    ValidationOptions v;
    auto steps = steps_from(c.get_json("validation.steps"));
    if (!steps) return fail(steps.error());
    v.steps = std::move(*steps);
    v.sandbox = sandbox;
    v.terraform = terraform_on_path();
    for (const auto& d : c.get_list("sandbox.state_dirs")) v.state_dirs.push_back(d);
    if (auto t = c.get("validation.step_timeout")) {
        auto d = timeutil::parse_duration(*t);
        if (!d) return fail(Errc::invalid_input, "validation.step_timeout: " + d.error().message);
        v.step_timeout = *d;
    }
    auto plan = parse_plan_mode(c.get_or("validation.plan", "offline"));
    if (!plan) return fail(plan.error());
    v.plan = *plan;
    // Providers for the offline sandbox: the cache under the state home, or
    // the operator's own mirror.
    ProviderOptions po;
    po.dir = site.home.dir / "providers";
    if (auto m = c.get("validation.provider_mirror"); m && !m->empty())
        po.operator_mirror = std::filesystem::absolute(*m).lexically_normal();
    v.providers = std::make_shared<ProviderCache>(std::move(po));
    return v;
}

Result<std::unique_ptr<DeliverySetup>> open_delivery(const Site& site, const DeliveryOverrides& overrides,
                                                     const sandbox::Sandbox* sandbox)
{
    const Config& c = site.config;
    std::string repo = repository_url(site, overrides);
    if (repo.empty()) return std::unique_ptr<DeliverySetup>();

    auto setup = std::make_unique<DeliverySetup>();
    auto creds = creds::open_broker(site, "");
    if (!creds) return fail(creds.error());
    setup->creds = std::move(*creds);
    if (auto f = open_store_and_forge(site, forge_kind(site, overrides), *setup); !f) return fail(f.error());

    DeliveryOptions o;
    o.repo_url = repo;
    o.repository = c.get_or("git.repository", "");
    o.base = overrides.base.empty() ? c.get_or("git.base", "") : overrides.base;
    o.work_root = site.home.dir / "worktrees";
    o.identity.name = c.get_or("git.author_name", o.identity.name);
    o.identity.email = c.get_or("git.author_email", o.identity.email);
    if (auto p = c.get_list("git.protected_branches"); !p.empty()) o.protected_patterns = p;
    if (auto l = c.get_list("forge.labels"); !l.empty()) o.labels = l;
    o.ssh_key = c.get_or("git.ssh_key", "");
    o.ssh_known_hosts = c.get_or("git.ssh_known_hosts", "");
    o.keep_worktrees = overrides.keep;
    if (auto l = read_pr_limits(c, o); !l) return fail(l.error());
    o.forge = setup->forge.get();
    o.store = setup->store.get();
    auto validation = validation_options(site, sandbox);
    if (!validation) return fail(validation.error());
    o.validation = std::move(*validation);
    if (has_pipelines(o.validation.steps)) {
        auto pipelines = open_pipelines(site, setup->creds);
        if (!pipelines) return fail(pipelines.error());
        setup->pipelines = std::move(*pipelines);
        o.pipelines = setup->pipelines.get();
    }
    o.plans_root = site.home.dir / "plans";
    auto* broker = setup->creds.broker.get();
    o.mint = [broker](const std::string& scope, const std::string& task,
                      const std::string& trace) -> Result<std::string> {
        auto cred = broker->mint({scope, std::chrono::minutes(15), task, trace});
        if (!cred) return fail(cred.error());
        return cred->secret;
    };
    setup->delivery = std::make_unique<Delivery>(std::move(o));
    return setup;
}

}  // namespace infra::core::change
