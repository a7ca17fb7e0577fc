// `infra-agent run [FILE]`: one task, now, without the queue (CI jobs).
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/task_stream.hpp"
#include "core/events/event.hpp"

#include <chrono>

namespace infra::cli {
namespace {

struct Options {
    std::string input = "-";
    PolicyFlags policies;
};

int run(const Options& opt, Context& ctx)
{
    std::vector<core::AgentTask> tasks;
    int read = for_each_task(ctx, opt.input, false, [&](core::AgentTask&& t) { tasks.push_back(std::move(t)); });
    if (read != exit_code::ok) return read;
    if (tasks.size() != 1)
        return ctx.fail(core::make_error(core::Errc::usage, "run takes exactly one task, got " + std::to_string(tasks.size()),
                                         "use enqueue and worker for several"));
    auto engine = load_engine(ctx, opt.policies);
    if (!engine) return ctx.fail(engine.error());
    auto& task = tasks.front();
    task.extra.erase("decision");
    nlohmann::json tj = core::to_json(task);
    auto d = (*engine)->decide(tj);
    nlohmann::json dj = core::policy::to_json(d);
    if (!d.allowed)
        return ctx.fail(core::make_error(core::Errc::denied, "task " + task.id + " denied: " + d.reason));
    if (d.pending())
        return ctx.fail(core::make_error(core::Errc::pending, "task " + task.id + " " + d.reason,
                                         "enqueue it and approve it; run does not wait for approvals"));
    auto* agent = ctx.agents().find(task.context.agent_slug);
    if (!agent)
        return ctx.fail(core::make_error(core::Errc::unavailable, "no agent '" + task.context.agent_slug + "' in this infra-agent"));
    core::events::JsonLinesSink events(stderr);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(d.timeout_ms);
    core::agent::RunContext rc{tj, dj, 1, 0, deadline, [&] { return std::chrono::steady_clock::now() > deadline; }, events};
    auto outcome = agent->run(rc);
    ctx.emit({{"type", "result"}, {"taskId", task.id}, {"ok", outcome.ok}, {"error", outcome.error},
              {"result", outcome.result}, {"decision", dj}});
    return outcome.ok ? exit_code::ok : exit_code::failure;
}

}  // namespace

void register_run(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("run", "Run one task now, without the queue (for CI jobs)");
    cmd->footer("Policy decides first: exit 3 when denied, 4 when it needs approval.");
    cmd->add_option("input", opt->input, "one task as JSON, or - for stdin (default)");
    opt->policies.add_to(cmd);
    ctx.on_run(cmd, [opt, &ctx] { return run(*opt, ctx); });
}

}  // namespace infra::cli
