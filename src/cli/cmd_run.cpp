// `infra-agent run [FILE]`: one task, now, without the queue (CI jobs).
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/task_stream.hpp"
#include "cli/sandbox_flag.hpp"
#include "core/events/event.hpp"
#include "core/json_access.hpp"
#include "core/policy/digest.hpp"

#include <chrono>

namespace infra::cli {
namespace {

struct Options {
    std::string input = "-";
    PolicyFlags policies;
    std::string workspace = ".";
    std::string sandbox;
    std::string record;
    std::string replay;
};

int run(const Options& opt, Context& ctx)
{
    DecidedTask dt;
    if (int code = read_and_decide(ctx, opt.input, opt.policies, "run", dt)) return code;
    auto& task = dt.task;
    auto& tj = dt.json;
    const auto& d = dt.decision;
    nlohmann::json dj = core::policy::to_json(d);
    if (!d.allowed)
        return ctx.fail(core::make_error(core::Errc::denied, "task " + task.id + " denied: " + d.reason));
    if (d.pending())
        return ctx.fail(core::make_error(core::Errc::pending, "task " + task.id + " " + d.reason,
                                         "enqueue it and approve it; run does not wait for approvals"));
    auto* agent = ctx.agents().find(task.context.agent_slug);
    if (!agent)
        return ctx.fail(core::make_error(core::Errc::unavailable, "no agent '" + task.context.agent_slug + "' in this infra-agent"));
    auto ws = core::Workspace::open(opt.workspace);
    if (!ws) return ctx.fail(ws.error());
    auto sandbox = open_sandbox(ctx, opt.sandbox, d);
    if (!sandbox) return ctx.fail(sandbox.error());
    // Events go to stderr: stdout carries the result only.
    std::unique_ptr<core::events::EventSink> events;
    if (ctx.globals().verbose > 0) events = std::make_unique<core::events::JsonLinesSink>(stderr);
    else events = std::make_unique<core::events::NullSink>();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(d.timeout_ms);
    core::agent::RunContext rc{tj,      dj, 1, 0, deadline, [&] { return std::chrono::steady_clock::now() > deadline; },
                               *events, &*ws, &*sandbox, core::policy::digest(*dt.engine, tj), opt.record, opt.replay};
    auto outcome = agent->run(rc);
    nlohmann::json out = {{"type", "result"}, {"taskId", task.id}, {"ok", outcome.ok}, {"result", outcome.result},
                          {"decision", dj}};
    if (!outcome.ok) out["error"] = outcome.error;
    if (ctx.json_output() || !ctx.stdout_is_tty()) {
        ctx.emit(out);
    } else {
        ctx.print(core::string_member(outcome.result, "summary", outcome.ok ? "done" : "") + "\n");
        ctx.print(core::string_member(outcome.result, "diff"));
        for (const auto& n : core::strings_member(outcome.result, "notes")) ctx.print("note: " + n + "\n");
    }
    if (!outcome.ok) return ctx.fail(core::make_error(core::Errc::unavailable, "task " + task.id + " failed: " + outcome.error));
    return exit_code::ok;
}

}  // namespace

void register_run(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("run", "Run one task now, without the queue (for CI jobs)");
    cmd->footer("Policy decides first: exit 3 when denied, 4 when it needs approval.");
    cmd->add_option("input", opt->input, "one task as JSON, or - for stdin (default)");
    cmd->add_option("--workspace", opt->workspace, "directory the agent works in (default: the current one)");
    cmd->add_option("--sandbox", opt->sandbox, "bwrap (default) or none (development; policy must allow it)");
    cmd->add_option("--record", opt->record, "append every model exchange to FILE (llm agent)");
    cmd->add_option("--replay", opt->replay, "play back a recording instead of calling the model (llm agent; offline)")
        ->check(CLI::ExistingFile);
    opt->policies.add_to(cmd);
    ctx.on_run(cmd, [opt, &ctx] { return run(*opt, ctx); });
}

}  // namespace infra::cli
