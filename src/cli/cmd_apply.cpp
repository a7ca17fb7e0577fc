// `infra-agent apply TASK --as NAME`: the tier-4 gated apply. Runs
// `terraform apply` of exactly the saved plan that the task's validation
// made and its pull request shows, on the commit it was made from, in the
// sandbox, once every group the decision requires has approved that plan by
// its hash (`approve TASK --plan SHA256`). Exit 0 applied, 1 terraform
// failed, 3 refused (not tier 4, no plan, a changed plan, a moved branch,
// applied before), 4 an approval is missing. Each attempt is audited.
#include "cli/commands.hpp"
#include "cli/delivery_setup.hpp"
#include "cli/exit_codes.hpp"
#include "cli/sandbox_flag.hpp"
#include "core/change/apply.hpp"
#include "core/change/delivery.hpp"
#include "core/events/event.hpp"
#include "core/json_access.hpp"
#include "core/policy/policy.hpp"
#include "core/state.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <optional>

namespace infra::cli {
namespace {

struct Options {
    std::string id;
    std::string as;
    std::string repo;
    std::string sandbox;
    std::string queue;
    bool keep = false;
};

int apply(const Options& opt, Context& ctx)
{
    if (core::text::trim(opt.as).empty()) return ctx.fail(core::make_error(core::Errc::usage, "say who applies: --as NAME"));
    auto config = ctx.config();
    if (!config) return ctx.fail(config.error());
    auto db = core::open_state(ctx.home());
    if (!db) return ctx.fail(db.error());
    auto sink = core::events::SqliteSink::open(ctx.home().state_db().string());
    if (!sink) return ctx.fail(sink.error());
    auto q = ctx.open_queue(opt.queue, sink->get());
    if (!q) return ctx.fail(q.error());
    auto e = (*q)->show(opt.id);
    if (!e) return ctx.fail(e.error());
    core::change::ApplyStore store(**db);
    auto refuse = [&](const core::Error& err) {
        (*sink)->emit({"apply.refused", e->id, "", {{"by", opt.as}, {"reason", err.message}}});
        (*sink)->flush();
        return ctx.fail(err);
    };
    auto gate = core::change::check_gate(*e, store);
    if (!gate) return refuse(gate.error());

    // Through the organisation's CI when apply.pipeline names it, else in the sandbox the decision allows.
    std::optional<core::change::PipelineSpec> pipeline;
    if (auto j = (*config)->get_json("apply.pipeline"); !j.is_null()) {
        auto spec = core::change::pipeline_from(j, "apply");
        if (!spec) return ctx.fail(spec.error());
        pipeline = std::move(*spec);
    }
    auto decision = core::policy::decision_from_json(e->decision);
    if (!decision) return ctx.fail(decision.error());
    std::optional<core::sandbox::Sandbox> sandbox;
    std::unique_ptr<DeliverySetup> setup;
    core::change::ApplyOptions ao;
    std::string repo = core::string_member(core::member(e->task, "context"), "repositoryId");
    if (pipeline) {
        setup = std::make_unique<DeliverySetup>();
        auto creds = open_broker(ctx, "");
        if (!creds) return ctx.fail(creds.error());
        setup->creds = std::move(*creds);
        if (auto p = open_pipelines(ctx, *setup); !p) return ctx.fail(p.error());
        if (auto r = (*config)->get("git.repository")) repo = *r;
        if (repo.empty()) return ctx.fail(core::make_error(core::Errc::usage, "the task names no repository for the apply pipeline",
                                                           "set git.repository in config.yaml"));
    } else {
        auto box = open_sandbox(ctx, opt.sandbox, *decision);
        if (!box) return refuse(box.error());
        sandbox = std::move(*box);
        DeliveryFlags flags;
        flags.repo = opt.repo;
        auto opened = open_delivery(ctx, flags, &*sandbox);
        if (!opened) return ctx.fail(opened.error());
        if (!*opened) return ctx.fail(core::make_error(core::Errc::usage, "no repository to apply from", "pass --repo URL, or set git.repo in config.yaml"));
        setup = std::move(*opened);
        const auto& delivery = setup->delivery->options();
        ao.repo_url = delivery.repo_url;
        ao.work_root = ctx.home().dir / "worktrees";
        ao.sandbox = &*sandbox;
        ao.keep_worktree = opt.keep;
        ao.auth.ssh_key = delivery.ssh_key;
        ao.auth.ssh_known_hosts = delivery.ssh_known_hosts;
        repo = setup->delivery->repository_for(e->task);
        std::string task_id = e->id;
        ao.auth.token = [mint = delivery.mint, repo, task_id]() { return mint("git:fetch:repo=" + repo, task_id, ""); };
        for (const auto& d : (*config)->get_list("sandbox.state_dirs")) ao.state_dirs.push_back(d);
        if (auto t = (*config)->get("apply.step_timeout")) {
            auto d = core::timeutil::parse_duration(*t);
            if (!d) return ctx.fail(core::make_error(core::Errc::invalid_input, "apply.step_timeout: " + d.error().message));
            ao.step_timeout = *d;
        }
    }
    attach_events(*setup, sink->get());

    auto started = store.begin(e->id, gate->plans.digest, opt.as);
    if (!started) return refuse(started.error());
    nlohmann::json approvers = nlohmann::json::array();
    for (const auto& a : gate->approvals) approvers.push_back({{"group", a.group}, {"by", a.by}, {"atMs", a.at_ms}});
    (*sink)->emit({"apply.started", e->id, "", {{"apply", *started}, {"by", opt.as}, {"planSha256", gate->plans.digest},
                                                 {"approvers", approvers}, {"commit", gate->plans.commit}}});
    auto report = pipeline ? core::change::run_apply_pipeline(*gate, *setup->pipelines, *pipeline, repo,
                                                              core::change::trace_id_of(e->task))
                           : core::change::run_apply(*gate, ao);
    nlohmann::json out = {{"id", e->id}, {"apply", *started}, {"by", opt.as}, {"planSha256", gate->plans.digest},
                          {"approvers", approvers}, {"branch", gate->plans.branch}, {"commit", gate->plans.commit}};
    if (!report) {
        out["outcome"] = "refused";
        out["error"] = report.error().message;
    } else {
        out["outcome"] = report->ok ? "applied" : "failed";
        out["roots"] = report->roots;
        if (!report->ok) out["error"] = report->failure;
    }
    if (auto f = store.finish(*started, report && report->ok, out); !f) return ctx.fail(f.error());
    nlohmann::json attrs = {{"apply", *started}, {"by", opt.as}, {"planSha256", gate->plans.digest}, {"approvers", approvers},
                            {"outcome", out["outcome"]}};
    if (out.contains("error")) attrs["error"] = out["error"];
    (*sink)->emit({"apply.finished", e->id, "", attrs});
    (*sink)->flush();
    if (!report) return ctx.fail(report.error());
    if (ctx.json_output() || !ctx.stdout_is_tty()) ctx.emit(out);
    else {
        ctx.print(e->id + "  " + out["outcome"].get<std::string>() + "  plan " + gate->plans.digest.substr(0, 12) + "  approved by");
        for (const auto& a : gate->approvals) ctx.print(" " + a.by + " (" + a.group + ")");
        ctx.print("\n");
        if (!report->ok) ctx.print(report->failure + "\n");
    }
    if (!report->ok) return ctx.fail(core::make_error(core::Errc::unavailable, "apply failed: " + report->failure));
    return exit_code::ok;
}

}  // namespace

void register_apply(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("apply", "Apply a tier-4 task's approved saved plan, and nothing else");
    cmd->add_option("task", opt->id, "task id (a unique prefix is enough)")->required();
    cmd->add_option("--as", opt->as, "who applies (recorded with the approvers and the plan)")->required();
    cmd->add_option("--repo", opt->repo, "the repository the task's branch was pushed to (default: git.repo)");
    cmd->add_option("--sandbox", opt->sandbox, "bwrap (default); none only where the task's policy allows it");
    cmd->add_option("--queue", opt->queue, "queue URL (default: queue.url, else the state db)");
    cmd->add_flag("--keep-worktree", opt->keep, "keep the checkout the plan was applied in (for debugging)");
    cmd->footer("Only a tier-4 task whose run succeeded and kept a saved plan is applied, and only when every group\n"
                "in its decision's requiredApprovals has approved that plan by its SHA-256 (approve TASK --plan SHA256;\n"
                "the pull request shows it). The branch must still point at the commit the plan was made from; the plan\n"
                "files are hashed again before terraform init and terraform apply PLAN run in the sandbox. A plan is\n"
                "applied once. Local Terraform state directories named in sandbox.state_dirs are bound into the sandbox.\n"
                "With apply.pipeline (a pipeline step: {kind: github-actions, workflow: apply.yml}), a plan that a\n"
                "validation pipeline saved as an artifact is applied by that CI instead, which gets the inputs\n"
                "plan_sha256, plan_run and plan_artifact and must check the hash before it applies.\n"
                "Exit codes: 0 applied, 1 terraform failed, 3 refused, 4 an approval is missing.");
    ctx.on_run(cmd, [opt, &ctx] { return apply(*opt, ctx); });
}

}  // namespace infra::cli
