// `infra-agent approve TASK --as NAME` and `reject TASK --as NAME`: a human
// decision on a task that policy parked for approval, recorded with who and
// when. A task runs only when every required group has approved, and whoever
// asked for the task cannot approve it.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
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
};

/// Who asked for a task: payload.requestedBy (API, chat), else the webhook's sender.
std::string requester(const nlohmann::json& task)
{
    const auto& payload = core::member(task, "payload");
    for (const char* k : {"requestedBy", "sender", "user"})
        if (auto v = core::string_member(payload, k); !v.empty()) return v;
    return {};
}

int decide(const Options& opt, bool approve, Context& ctx)
{
    if (core::text::trim(opt.as).empty())
        return ctx.fail(core::make_error(core::Errc::usage, "say who decides: --as NAME"));
    if (auto st = core::open_state(ctx.home()); !st) return ctx.fail(st.error());
    auto sink = core::events::SqliteSink::open(ctx.home().state_db().string());
    if (!sink) return ctx.fail(sink.error());
    auto q = ctx.open_queue(opt.queue, sink->get());
    if (!q) return ctx.fail(q.error());
    auto e = (*q)->show(opt.id);
    if (!e) return ctx.fail(e.error());
    if (e->state != core::queue::State::pending_approval)
        return ctx.fail(core::make_error(core::Errc::conflict, "task " + e->id + " is " + std::string(core::queue::to_string(e->state)) +
                                                                   ", not waiting for approval"));
    std::string asked_by = requester(e->task);
    if (approve && !asked_by.empty() && asked_by == opt.as)
        return ctx.fail(core::make_error(core::Errc::denied, opt.as + " asked for task " + e->id + " and cannot approve it",
                                         "another member of the approving group must"));
    nlohmann::json out = {{"id", e->id}, {"by", opt.as}};
    if (!approve) {
        std::string reason = opt.reason.empty() ? "rejected by " + opt.as : opt.reason;
        if (auto st = (*q)->reject(e->id, opt.as, reason); !st) return ctx.fail(st.error());
        (*sink)->emit({"task.rejected", e->id, "", {{"by", opt.as}, {"reason", reason}}});
        out["state"] = "denied";
        out["reason"] = reason;
    } else {
        std::vector<std::string> waiting;
        for (const auto& g : e->required_approvals) {
            bool done = false;
            for (const auto& a : e->approvals) done = done || core::string_member(a, "group") == g;
            if (!done) waiting.push_back(g);
        }
        std::string group = opt.group;
        if (group.empty()) {
            if (waiting.size() != 1) {
                std::string list;
                for (const auto& g : waiting) list += (list.empty() ? "" : ", ") + g;
                return ctx.fail(core::make_error(core::Errc::usage, "task " + e->id + " waits for several groups: " + list,
                                                 "name the one you approve for with --group"));
            }
            group = waiting.front();
        }
        auto st = (*q)->approve(e->id, group, opt.as);
        if (!st) return ctx.fail(st.error());
        (*sink)->emit({"task.approved", e->id, "", {{"by", opt.as}, {"group", group}}});
        out["group"] = group;
        out["state"] = core::queue::to_string(*st);
    }
    (*sink)->flush();
    if (ctx.json_output() || !ctx.stdout_is_tty()) ctx.emit(out);
    else
        ctx.print(e->id + "  " + out["state"].get<std::string>() +
                  (out["state"] == "pending-approval" ? "  (other groups still have to approve)" : "") + "\n");
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
    if (approve) cmd->add_option("--group", opt->group, "the approving group you act for (default: the one still waited for)");
    else cmd->add_option("--reason", opt->reason, "why, for the record");
    cmd->add_option("--queue", opt->queue, "queue URL (default: queue.url, else the state db)");
    if (approve)
        cmd->footer("The task runs once every group in its decision's requiredApprovals has approved. Whoever asked\n"
                    "for the task (payload.requestedBy, or the webhook's sender) cannot approve it.");
    ctx.on_run(cmd, [opt, approve, &ctx] { return decide(*opt, approve, ctx); });
}

}  // namespace

void register_approve(CLI::App& app, Context& ctx)
{
    add(app, ctx, true);
    add(app, ctx, false);
}

}  // namespace infra::cli
