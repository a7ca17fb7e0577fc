// `infra-agent apply TASK --as NAME`: the tier-4 gated apply. Runs
// `terraform apply` of exactly the saved plan that the task's validation
// made and its pull request shows, on the commit it was made from, in the
// sandbox (or through apply.pipeline), once every group the decision
// requires has approved that plan by its hash (`approve TASK --plan
// SHA256`). Exit 0 applied, 1 the apply failed, 3 refused (not tier 4, no
// plan, a changed plan, a moved branch, applied before), 4 an approval is
// missing. Each attempt is audited.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/change/open_apply.hpp"
#include "core/events/event.hpp"
#include "core/json_access.hpp"
#include "core/state.hpp"
#include "core/text.hpp"

namespace infra::cli {
namespace {

struct Options {
    std::string id;
    std::string as;
    std::string repo;
    std::string sandbox;
    std::string queue;
    bool keep = false;
    bool recover = false;
};

/// `apply TASK --recover`: the operator checked terraform's state and lock
/// after an apply died; its plan may be applied again (terraform refuses a
/// plan the state moved past) or the task run again for a new one.
int recover(const core::queue::Entry& e, const Options& opt, core::change::ApplyStore& store,
            core::events::EventSink& events, Context& ctx)
{
    if (auto st = core::change::interrupt_ended(e.id, store, events); !st) return ctx.fail(st.error());
    auto recovered = store.recover(e.id, opt.as);
    if (!recovered) {
        events.emit(
            {"apply.refused", e.id, "", {{"by", opt.as}, {"reason", recovered.error().message}, {"recover", true}}});
        events.flush();
        return ctx.fail(recovered.error());
    }
    events.emit({"apply.recovered", e.id, "", {{"by", opt.as}, {"applies", *recovered}}});
    events.flush();
    nlohmann::json out = {{"id", e.id}, {"by", opt.as}, {"recovered", *recovered}};
    if (ctx.json()) ctx.emit(out);
    else
        for (const auto& id : *recovered) ctx.print(e.id + "  apply " + id + " recovered by " + opt.as + "\n");
    return exit_code::ok;
}

int apply(const Options& opt, Context& ctx)
{
    if (core::text::trim(opt.as).empty())
        return ctx.fail(core::make_error(core::Errc::usage, "say who applies: --as NAME"));
    auto db = core::open_state(ctx.home());
    if (!db) return ctx.fail(db.error());
    auto sink = core::events::StateSink::open(ctx.home().state_location());
    if (!sink) return ctx.fail(sink.error());
    auto q = ctx.open_queue(opt.queue, sink->get());
    if (!q) return ctx.fail(q.error());
    auto e = (*q)->show(opt.id);
    if (!e) return ctx.fail(e.error());
    core::change::ApplyStore store(**db);
    if (opt.recover) return recover(*e, opt, store, **sink, ctx);
    auto refuse = [&](const core::Error& err) {
        (*sink)->emit({"apply.refused", e->id, "", {{"by", opt.as}, {"reason", err.message}}});
        (*sink)->flush();
        return ctx.fail(err);
    };
    // A closed gate is refused before anything is set up.
    if (auto gate = core::change::check_gate(*e, store); !gate) return refuse(gate.error());
    auto how = ctx.open(core::change::open_apply, *e, core::change::ApplyOverrides{opt.sandbox, opt.repo, opt.keep});
    if (!how) return how.error().code == core::Errc::denied ? refuse(how.error()) : ctx.fail(how.error());
    core::change::attach_events(*(*how)->delivery, sink->get());
    auto out = core::change::apply_task(*e, opt.as, store, **sink, (*how)->runner);
    (*sink)->flush();
    if (!out) return ctx.fail(out.error());
    if (ctx.json()) ctx.emit(*out);
    else {
        std::string line = e->id + "  " + core::string_member(*out, "outcome") + "  plan " +
                           core::string_member(*out, "planSha256").substr(0, 12) + "  approved by";
        for (const auto& a : (*out)["approvers"])
            line += " " + core::string_member(a, "by") + " (" + core::string_member(a, "group") + ")";
        ctx.print(line + "\n");
    }
    if ((*out)["outcome"] != "applied")
        return ctx.fail(
            core::make_error(core::Errc::unavailable, "apply failed: " + core::string_member(*out, "error")));
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
    cmd->add_flag(
        "--recover", opt->recover,
        "after an apply died and you checked terraform's state and lock: let its plan be applied again (audited)");
    cmd->footer(
        "Only a tier-4 task whose run succeeded and kept a saved plan is applied, and only when every group\n"
        "in its decision's requiredApprovals has approved that plan by its SHA-256 (approve TASK --plan SHA256;\n"
        "the pull request shows it). The branch must still point at the commit the plan was made from; the plan\n"
        "files are hashed again before terraform init and terraform apply PLAN run in the sandbox. A plan is\n"
        "applied once. Local Terraform state directories named in sandbox.state_dirs are bound into the sandbox.\n"
        "With apply.pipeline (a pipeline step: {kind: github-actions, workflow: apply.yml}), a plan that a\n"
        "validation pipeline saved as an artifact is applied by that CI instead, which gets the inputs\n"
        "plan_sha256, plan_run and plan_artifact and must check the hash before it applies.\n"
        "A task with payload.apply: true is applied by a worker once every approval of its plan is recorded.\n"
        "An apply holds a lease (apply.lease, default 2m) that its process renews; when the process dies, the\n"
        "apply counts as interrupted once the lease ends and blocks its plan until someone who has checked\n"
        "terraform's state and lock runs apply TASK --as NAME --recover.\n"
        "Exit codes: 0 applied, 1 the apply failed, 3 refused, 4 an approval is missing.");
    ctx.on_run(cmd, [opt, &ctx] { return apply(*opt, ctx); });
}

}  // namespace infra::cli
