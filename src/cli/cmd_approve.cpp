// `infra-agent approve TASK --as NAME` and `reject TASK --as NAME`: a human
// decision on a task that policy parked for approval, recorded with who and
// when. A task runs only when every required group has approved, only
// members of a group approve for it, and whoever asked for the task cannot
// approve it. On a tier-4 task whose run kept a
// saved plan, approve approves that plan by its hash, for `apply`.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/approve.hpp"
#include "core/text.hpp"

namespace infra::cli {
namespace {

/// A plan approved for a group: ready to apply, or waiting for other groups.
void show(const core::change::PlanVerdict& v, Context& ctx)
{
    nlohmann::json out = {{"id", v.task_id},
                          {"by", v.by},
                          {"group", v.group},
                          {"planSha256", v.digest},
                          {"state", v.waiting.empty() ? "approved" : "pending-approval"},
                          {"waiting", v.waiting}};
    if (ctx.json()) ctx.record("approval", std::move(out));
    else
        ctx.print(v.task_id + "  plan " + v.digest.substr(0, 12) + " approved for " + v.group +
                  (v.waiting.empty() ? "  (ready: infra-agent apply " + v.task_id + ")"
                                     : "  (other groups still have to approve)") +
                  "\n");
}

void show(const core::approval::Verdict& v, bool approve, Context& ctx)
{
    nlohmann::json out = {{"id", v.id}, {"by", v.by}, {"state", v.state}};
    if (approve) out["group"] = v.group;
    else out["reason"] = v.reason;
    if (ctx.json()) ctx.record(approve ? "approval" : "rejection", std::move(out));
    else
        ctx.print(v.id + "  " + v.state +
                  (v.state == "pending-approval" ? "  (other groups still have to approve)" : "") + "\n");
}

int decide(core::HumanDecision& d, bool approve, Context& ctx)
{
    if (core::text::trim(d.request.by).empty())
        return ctx.fail(core::make_error(core::Errc::usage, "say who decides: --as NAME"));
    d.request.approve = approve;
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());
    auto v = core::decide_by_hand(*site, d);
    if (!v) return ctx.fail(v.error());
    if (v->plan) show(*v->plan, ctx);
    else show(*v->task, approve, ctx);
    return exit_code::ok;
}

void add(CLI::App& app, Context& ctx, bool approve)
{
    auto opt = std::make_shared<core::HumanDecision>();
    auto* cmd = app.add_subcommand(approve ? "approve" : "reject",
                                   approve ? "Approve a task that waits for a human decision"
                                           : "Reject a task that waits for a human decision (it becomes denied)");
    cmd->add_option("task", opt->request.task, "task id (a unique prefix is enough)")->required();
    cmd->add_option("--as", opt->request.by, "who decides (recorded with the time)")->required();
    if (approve) {
        cmd->add_option("--group", opt->request.group,
                        "the approving group you act for (default: the one still waited for)");
        cmd->add_option("--plan", opt->plan,
                        "the SHA-256 of the saved plan you reviewed (refused when the task's plan is another)");
    } else cmd->add_option("--reason", opt->request.reason, "why, for the record");
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
