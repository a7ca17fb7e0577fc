// `infra-agent approve TASK --as NAME` and `reject TASK --as NAME`: a human
// decision on a task that policy parked for approval, recorded with who and
// when. A task runs only when every required group has approved, only
// members of a group approve for it, and whoever asked for the task cannot
// approve it. On a tier-4 task whose run kept a
// saved plan, approve approves that plan by its hash, for `apply`.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/approval.hpp"
#include "core/change/apply.hpp"
#include "core/events/event.hpp"
#include "core/json_access.hpp"
#include "core/state.hpp"
#include "core/text.hpp"

namespace infra::cli {
namespace {

struct Options {
    std::string id;
    std::string as;
    std::string group;
    std::string reason;
    std::string queue;
    std::string plan;
};

int approve_plan(const Options& opt, const core::queue::Entry& e, core::events::EventSink& sink,
                 const core::approval::Groups& groups, Context& ctx)
{
    auto db = core::open_state(ctx.home());
    if (!db) return ctx.fail(db.error());
    core::change::ApplyStore store(**db);
    auto v = core::change::approve_plan(e, store, sink, opt.as, opt.group, opt.plan, groups);
    sink.flush();
    if (!v) {
        core::Error err = v.error();
        if (err.code == core::Errc::usage && err.hint.empty()) err.hint = "name the one you approve for with --group";
        return ctx.fail(err);
    }
    nlohmann::json out = {{"id", v->task_id},
                          {"by", v->by},
                          {"group", v->group},
                          {"planSha256", v->digest},
                          {"state", v->waiting.empty() ? "approved" : "pending-approval"},
                          {"waiting", v->waiting}};
    if (ctx.json()) ctx.emit(out);
    else
        ctx.print(v->task_id + "  plan " + v->digest.substr(0, 12) + " approved for " + v->group +
                  (v->waiting.empty() ? "  (ready: infra-agent apply " + v->task_id + ")"
                                      : "  (other groups still have to approve)") +
                  "\n");
    return exit_code::ok;
}

int decide(const Options& opt, bool approve, Context& ctx)
{
    if (core::text::trim(opt.as).empty())
        return ctx.fail(core::make_error(core::Errc::usage, "say who decides: --as NAME"));
    auto config = ctx.config();
    if (!config) return ctx.fail(config.error());
    auto groups = core::approval::Groups::from_config(**config);
    if (!groups) return ctx.fail(groups.error());
    if (auto st = core::open_state(ctx.home()); !st) return ctx.fail(st.error());
    auto sink = core::events::StateSink::open(ctx.home().state_location());
    if (!sink) return ctx.fail(sink.error());
    auto q = ctx.open_queue(opt.queue, sink->get());
    if (!q) return ctx.fail(q.error());
    if (approve) {
        // A tier-4 task that ran and kept its plan waits for approval of that plan.
        auto e = (*q)->show(opt.id);
        if (!e) return ctx.fail(e.error());
        if (e->state == core::queue::State::succeeded && core::int_member(e->decision, "tier") == 4)
            return approve_plan(opt, *e, **sink, *groups, ctx);
        if (!opt.plan.empty())
            return ctx.fail(core::make_error(core::Errc::conflict,
                                             "task " + e->id + " is " + std::string(core::queue::to_string(e->state)) +
                                                 ": --plan approves the saved plan of a tier-4 task that ran"));
    }
    auto v = core::approval::decide(**q, **sink, {opt.id, opt.as, approve, opt.group, opt.reason}, *groups);
    (*sink)->flush();
    if (!v) {
        core::Error e = v.error();
        if (e.code == core::Errc::usage) e.hint = "name the one you approve for with --group";
        return ctx.fail(e);
    }
    nlohmann::json out = {{"id", v->id}, {"by", v->by}, {"state", v->state}};
    if (approve) out["group"] = v->group;
    else out["reason"] = v->reason;
    if (ctx.json()) ctx.emit(out);
    else
        ctx.print(v->id + "  " + v->state +
                  (v->state == "pending-approval" ? "  (other groups still have to approve)" : "") + "\n");
    return exit_code::ok;
}

void add(CLI::App& app, Context& ctx, bool approve)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(approve ? "approve" : "reject",
                                   approve ? "Approve a task that waits for a human decision"
                                           : "Reject a task that waits for a human decision (it becomes denied)");
    cmd->add_option("task", opt->id, "task id (a unique prefix is enough)")->required();
    cmd->add_option("--as", opt->as, "who decides (recorded with the time)")->required();
    if (approve) {
        cmd->add_option("--group", opt->group, "the approving group you act for (default: the one still waited for)");
        cmd->add_option("--plan", opt->plan,
                        "the SHA-256 of the saved plan you reviewed (refused when the task's plan is another)");
    } else cmd->add_option("--reason", opt->reason, "why, for the record");
    cmd->add_option("--queue", opt->queue, "queue URL (default: queue.url, else the state db)");
    if (approve)
        cmd->footer(
            "The task runs once every group in its decision's requiredApprovals has approved. Only a member\n"
            "of a group approves for it: config.yaml lists them as approvals.groups.<group>.members, and a\n"
            "group that is not listed cannot be approved by anyone. A group mapped to a forge team (github_team:\n"
            "ORG/TEAM or gitlab_group: PATH) is approved by the team's members on the task's pull request, through\n"
            "serve (an approving review, or an /infra-agent approve comment). One person approves one group of a task\n"
            "at most, and whoever asked for the task (payload.requestedBy, serve's API token, or the webhook's\n"
            "sender) cannot approve it. Names are compared without case and surrounding spaces.\n"
            "A tier-4 task that has run and kept a saved plan is approved again, for its plan: each group approves\n"
            "the plan by its SHA-256 (shown in the pull request; --plan makes sure it is the one reviewed), and\n"
            "`infra-agent apply TASK` applies it once every group has.");
    ctx.on_run(cmd, [opt, approve, &ctx] { return decide(*opt, approve, ctx); });
}

}  // namespace

void register_approve(CLI::App& app, Context& ctx)
{
    add(app, ctx, true);
    add(app, ctx, false);
}

}  // namespace infra::cli
