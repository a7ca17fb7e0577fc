// `infra-agent enqueue [FILE]`: decide with policy again, then queue the
// allowed tasks (or park them for approval) in one atomic batch.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/task_stream.hpp"
#include "core/events/event.hpp"
#include "core/intake.hpp"
#include "core/open_intake.hpp"
#include "core/state.hpp"
#include "core/timeutil.hpp"

#include <spdlog/spdlog.h>

namespace infra::cli {
namespace {

struct Options {
    std::string input = "-";
    std::string queue;
    PolicyFlags policies;
    bool keep_going = false;
    int max_attempts = 5;
    std::string delay;
};

int run(const Options& opt, Context& ctx)
{
    core::queue::Millis delay{0};
    if (!opt.delay.empty()) {
        auto d = core::timeutil::parse_duration(opt.delay);
        if (!d) return ctx.fail(core::make_error(core::Errc::usage, "--delay: " + d.error().message, d.error().hint));
        delay = *d;
    }
    auto admission = ctx.open(core::open_intake, opt.policies, opt.queue);
    if (!admission) return ctx.fail(admission.error());

    // A decision on stdin is a record, never a permission: admit() decides again.
    std::vector<core::AgentTask> tasks;
    int read = for_each_task(ctx, opt.input, opt.keep_going,
                             [&](core::AgentTask&& task) { tasks.push_back(std::move(task)); });
    if (read != exit_code::ok && !opt.keep_going) return read;  // nothing queued from a bad input

    core::intake::Options io;
    io.delay = delay;
    io.max_attempts = opt.max_attempts;
    auto admitted = (*admission)->admit(std::move(tasks), io);
    if (!admitted) return ctx.fail(admitted.error());
    bool json = ctx.json();
    int worst = exit_code::ok;
    for (const auto& a : *admitted) {
        if (a.state == "denied") {
            worst = worse(worst, exit_code::denied);
            if (json) ctx.record("enqueue", {{"id", a.task_id}, {"state", "denied"}, {"reason", a.reason}});
            else ctx.print(a.task_id + "  denied  " + a.reason + "\n");
            continue;
        }
        if (a.state == "pending-approval") worst = worse(worst, exit_code::pending);
        nlohmann::json line = {{"id", a.id}, {"state", a.state}, {"duplicate", a.duplicate}};
        if (a.duplicate) line["taskId"] = a.task_id;
        if (json) ctx.record("enqueue", std::move(line));
        else
            ctx.print(a.id + "  " + a.state + (a.duplicate ? "  (already queued; " + a.task_id + " not added)" : "") +
                      "\n");
    }
    return worse(read, worst);
}

}  // namespace

void register_enqueue(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("enqueue", "Decide with policy, then queue tasks (or park them for approval)");
    cmd->footer("The whole input is one batch: it is queued completely or not at all. A task whose dedupe\n"
                "key matches an unfinished task is not added again. Exit 3 when a task is denied (it is\n"
                "not queued and an escalation is recorded), 4 when one waits for approval.");
    cmd->add_option("input", opt->input, "tasks as JSON Lines, or - for stdin (default)");
    cmd->add_option("--queue", opt->queue, "queue URL (default: queue.url, else the state db)");
    opt->policies.add_to(cmd);
    cmd->add_flag("--keep-going", opt->keep_going, "queue the valid tasks of an input with bad records");
    cmd->add_option("--max-attempts", opt->max_attempts, "attempts before a task is dead (default 5)")
        ->check(CLI::Range(1, 100));
    cmd->add_option("--delay", opt->delay, "make the tasks claimable only after this long (30s, 15m)");
    ctx.on_run(cmd, [opt, &ctx] { return run(*opt, ctx); });
}

}  // namespace infra::cli
