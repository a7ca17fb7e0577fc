#include "cli/apply_setup.hpp"

#include "cli/sandbox_flag.hpp"
#include "core/json_access.hpp"
#include "core/policy/policy.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"
#include "core/worker.hpp"

namespace infra::cli {

core::Result<std::unique_ptr<ApplySetup>> open_apply(Context& ctx, const core::queue::Entry& e,
                                                     const std::string& sandbox_flag, const std::string& repo_flag,
                                                     bool keep_worktree)
{
    auto config = ctx.config();
    if (!config) return core::fail(config.error());
    const core::Config& c = **config;
    auto out = std::make_unique<ApplySetup>();
    core::change::ApplyRunner& how = out->runner;
    how.repository = core::string_member(core::member(e.task, "context"), "repositoryId");
    how.holder = core::default_worker_id();
    if (auto l = c.get("apply.lease")) {
        auto dur = core::timeutil::parse_duration(*l);
        if (!dur || dur->count() < 1000)
            return core::fail(core::Errc::invalid_input,
                              "apply.lease: expected a duration of at least 1s, such as 2m, got " +
                                  core::text::quote(*l));
        how.lease = *dur;
    }
    if (auto j = c.get_json("apply.pipeline"); !j.is_null()) {
        // Through the organisation's CI, with tokens minted by the broker.
        auto spec = core::change::pipeline_from(j, "apply");
        if (!spec) return core::fail(spec.error());
        how.pipeline = std::move(*spec);
        out->delivery = std::make_unique<DeliverySetup>();
        auto creds = ctx.open(core::creds::open_broker, "");
        if (!creds) return core::fail(creds.error());
        out->delivery->creds = std::move(*creds);
        if (auto p = open_pipelines(ctx, *out->delivery); !p) return core::fail(p.error());
        how.pipelines = out->delivery->pipelines.get();
        if (auto r = c.get("git.repository")) how.repository = *r;
        if (how.repository.empty())
            return core::fail(core::Errc::usage, "the task names no repository for the apply pipeline",
                              "set git.repository in config.yaml");
        return out;
    }
    // In the sandbox the task's decision allows, on a clone of its branch.
    auto decision = core::policy::decision_from_json(e.decision);
    if (!decision) return core::fail(decision.error());
    auto box = open_sandbox(ctx, sandbox_flag, *decision);
    if (!box) return core::fail(box.error());
    out->sandbox = std::move(*box);
    DeliveryFlags flags;
    flags.repo = repo_flag;
    auto opened = open_delivery(ctx, flags, &*out->sandbox);
    if (!opened) return core::fail(opened.error());
    if (!*opened)
        return core::fail(core::Errc::usage, "no repository to apply from",
                          "pass --repo URL, or set git.repo in config.yaml");
    out->delivery = std::move(*opened);
    const auto& d = out->delivery->delivery->options();
    core::change::ApplyOptions& ao = how.sandbox;
    ao.repo_url = d.repo_url;
    ao.work_root = ctx.home().dir / "worktrees";
    ao.sandbox = &*out->sandbox;
    ao.keep_worktree = keep_worktree;
    ao.auth.ssh_key = d.ssh_key;
    ao.auth.ssh_known_hosts = d.ssh_known_hosts;
    how.repository =
        out->delivery->delivery->repository_for(core::string_member(core::member(e.task, "context"), "repositoryId"));
    ao.auth.token = [mint = d.mint, repo = how.repository, task = e.id]() {
        return mint("git:fetch:repo=" + repo, task, "");
    };
    for (const auto& dir : c.get_list("sandbox.state_dirs")) ao.state_dirs.push_back(dir);
    if (auto t = c.get("apply.step_timeout")) {
        auto dur = core::timeutil::parse_duration(*t);
        if (!dur) return core::fail(core::Errc::invalid_input, "apply.step_timeout: " + dur.error().message);
        ao.step_timeout = *dur;
    }
    return out;
}

}  // namespace infra::cli
