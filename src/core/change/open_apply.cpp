#include "core/change/open_apply.hpp"

#include "core/json_access.hpp"
#include "core/policy/policy.hpp"
#include "core/sandbox_choice.hpp"
#include "core/state.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"
#include "core/worker.hpp"

#include <mutex>

namespace infra::core::change {
namespace {

/// Through the organisation's CI (apply.pipeline), with tokens minted by the broker.
Status open_apply_pipeline(const Site& site, const nlohmann::json& spec_json, ApplySetup& out)
{
    ApplyRunner& how = out.runner;
    auto spec = pipeline_from(spec_json, "apply");
    if (!spec) return fail(spec.error());
    how.pipeline = std::move(*spec);
    out.delivery = std::make_unique<DeliverySetup>();
    auto creds = creds::open_broker(site, "");
    if (!creds) return fail(creds.error());
    out.delivery->creds = std::move(*creds);
    auto pipelines = open_pipelines(site, out.delivery->creds);
    if (!pipelines) return fail(pipelines.error());
    out.delivery->pipelines = std::move(*pipelines);
    how.pipelines = out.delivery->pipelines.get();
    if (auto r = site.config.get("git.repository")) how.repository = *r;
    if (how.repository.empty())
        return fail(Errc::usage, "the task names no repository for the apply pipeline",
                    "set git.repository in config.yaml");
    return {};
}

/// In the sandbox the task's decision allows, on a clone of its branch.
Status open_apply_sandbox(const Site& site, const queue::Entry& e, const ApplyOverrides& overrides, ApplySetup& out)
{
    const Config& c = site.config;
    ApplyRunner& how = out.runner;
    auto decision = policy::decision_from_json(e.decision);
    if (!decision) return fail(decision.error());
    auto box = sandbox::choose(c, overrides.sandbox, &*decision);
    if (!box) return fail(box.error());
    out.sandbox = std::move(*box);
    DeliveryOverrides delivery;
    delivery.repo = overrides.repo;
    auto opened = open_delivery(site, delivery, &*out.sandbox);
    if (!opened) return fail(opened.error());
    if (!*opened)
        return fail(Errc::usage, "no repository to apply from", "pass --repo URL, or set git.repo in config.yaml");
    out.delivery = std::move(*opened);
    const auto& d = out.delivery->delivery->options();
    ApplyOptions& ao = how.sandbox;
    ao.repo_url = d.repo_url;
    ao.work_root = site.home.dir / "worktrees";
    ao.sandbox = &*out.sandbox;
    ao.keep_worktree = overrides.keep;
    ao.auth.ssh_key = d.ssh_key;
    ao.auth.ssh_known_hosts = d.ssh_known_hosts;
    how.repository = out.delivery->delivery->repository_for(string_member(member(e.task, "context"), "repositoryId"));
    ao.auth.token = [mint = d.mint, repo = how.repository, task = e.id]() {
        return mint("git:fetch:repo=" + repo, task, "");
    };
    for (const auto& dir : c.get_list("sandbox.state_dirs")) ao.state_dirs.push_back(dir);
    if (auto t = c.get("apply.step_timeout")) {
        auto dur = timeutil::parse_duration(*t);
        if (!dur) return fail(Errc::invalid_input, "apply.step_timeout: " + dur.error().message);
        ao.step_timeout = *dur;
    }
    return {};
}

}  // namespace

Result<std::unique_ptr<ApplySetup>> open_apply(const Site& site, const queue::Entry& e, const ApplyOverrides& overrides)
{
    const Config& c = site.config;
    auto out = std::make_unique<ApplySetup>();
    ApplyRunner& how = out->runner;
    how.repository = string_member(member(e.task, "context"), "repositoryId");
    how.holder = default_worker_id();
    if (auto l = c.get("apply.lease")) {
        auto dur = timeutil::parse_duration(*l);
        if (!dur || dur->count() < 1000)
            return fail(Errc::invalid_input,
                        "apply.lease: expected a duration of at least 1s, such as 2m, got " + text::quote(*l));
        how.lease = *dur;
    }
    auto pipeline = c.get_json("apply.pipeline");
    auto st =
        pipeline.is_null() ? open_apply_sandbox(site, e, overrides, *out) : open_apply_pipeline(site, pipeline, *out);
    if (!st) return fail(st.error());
    return out;
}

serve::ApplyFn gated_apply(const Site& site, events::EventSink* sink)
{
    // One apply at a time: each sets up its own sandbox and clone.
    auto one_at_a_time = std::make_shared<std::mutex>();
    return [site, sink, one_at_a_time](const queue::Entry& e, const std::string& by) -> Result<nlohmann::json> {
        std::lock_guard lock(*one_at_a_time);
        auto db = open_state(site.home);
        if (!db) return fail(db.error());
        ApplyStore store(**db);
        auto how = open_apply(site, e, {});
        if (!how) {
            sink->emit({"apply.refused", e.id, "", {{"by", by}, {"reason", how.error().message}}});
            return fail(how.error());
        }
        attach_events(*(*how)->delivery, sink);
        return apply_task(e, by, store, *sink, (*how)->runner);
    };
}

}  // namespace infra::core::change
