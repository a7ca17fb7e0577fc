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
#include "core/change/apply_by_hand.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"

namespace infra::cli {
namespace {

int apply(const core::change::ApplyRequest& r, Context& ctx)
{
    if (core::text::trim(r.by).empty())
        return ctx.fail(core::make_error(core::Errc::usage, "say who applies: --as NAME"));
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());
    auto done = core::change::apply_by_hand(*site, r);
    if (!done) return ctx.fail(done.error());
    const std::string& id = done->task_id;
    if (r.recover) {
        if (ctx.json()) ctx.record("recovery", {{"id", id}, {"by", r.by}, {"recovered", done->recovered}});
        else
            for (const auto& a : done->recovered) ctx.print(id + "  apply " + a + " recovered by " + r.by + "\n");
        return exit_code::ok;
    }
    const auto& out = done->applied;
    if (ctx.json()) ctx.record("apply", out);
    else {
        std::string line = id + "  " + core::string_member(out, "outcome") + "  plan " +
                           core::string_member(out, "planSha256").substr(0, 12) + "  approved by";
        for (const auto& a : core::array_member(out, "approvers"))
            line += " " + core::string_member(a, "by") + " (" + core::string_member(a, "group") + ")";
        ctx.print(line + "\n");
    }
    if (core::string_member(out, "outcome") != "applied")
        return ctx.fail(
            core::make_error(core::Errc::unavailable, "apply failed: " + core::string_member(out, "error")));
    return exit_code::ok;
}

}  // namespace

void register_apply(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<core::change::ApplyRequest>();
    auto* cmd = app.add_subcommand("apply", "Apply a tier-4 task's approved saved plan, and nothing else");
    cmd->add_option("task", opt->task, "task id (a unique prefix is enough)")->required();
    cmd->add_option("--as", opt->by, "who applies (recorded with the approvers and the plan)")->required();
    cmd->add_option("--repo", opt->how.repo, "the repository the task's branch was pushed to (default: git.repo)");
    cmd->add_option("--sandbox", opt->how.sandbox, "bwrap (default); none only where the task's policy allows it");
    cmd->add_option("--queue", opt->queue, "queue URL (default: queue.url, else the state db)");
    cmd->add_flag("--keep-worktree", opt->how.keep, "keep the checkout the plan was applied in (for debugging)");
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
