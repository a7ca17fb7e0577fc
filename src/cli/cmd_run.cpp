// `infra-agent run [FILE]`: one task, now, without the queue (CI jobs),
// recorded in the state home as a worker's run is.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/sandbox_flag.hpp"
#include "cli/task_stream.hpp"
#include "core/agent/report.hpp"
#include "core/events/trace.hpp"
#include "core/policy/digest.hpp"
#include "core/policy/record.hpp"
#include "core/recorder.hpp"
#include "core/worker.hpp"

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

/// The task's own trace (a finding's ingest), else the CI job's TRACEPARENT, else a new one.
core::events::SpanContext trace_of(const core::AgentTask& task)
{
    auto traced = core::events::parse_traceparent(task.traceparent.value_or(""));
    return traced ? *traced : core::events::process_root_context();
}

int run(const Options& opt, Context& ctx)
{
    DecidedTask dt;
    if (int code = read_for_decision(ctx, opt.input, opt.policies, "run", dt)) return code;
    auto& task = dt.task;
    auto& tj = dt.json;
    // Recorded as a worker's run is: events, spans and the audit chain in the
    // state store, exported and notified when configured.
    core::Recorder rec;
    if (auto st = ctx.open(core::open_recorder, rec); !st) return ctx.fail(st.error());
    core::events::EventSink& events = *rec.events;
    core::events::ContextScope in_trace(trace_of(task));
    nlohmann::json dj;
    {
        core::events::Span evaluate(events, "policy.evaluate", task.id, {{"stage", "run"}});
        dt.decision = dt.engine->decide(tj);
        dj = core::policy::to_json(dt.decision);
        core::events::describe_decision(evaluate, dj);
    }
    const auto& d = dt.decision;
    if (auto st = core::policy::record_decision(*rec.state, tj, dj, "run"); !st) return ctx.fail(st.error());
    if (!d.allowed || d.pending()) {
        events.emit({d.allowed ? "task.pending-approval" : "task.escalated",
                     task.id,
                     "",
                     {{"stage", "run"}, {"reason", d.reason}, {"decision", dj}}});
        events.flush();
        if (!d.allowed)
            return ctx.fail(core::make_error(core::Errc::denied, "task " + task.id + " denied: " + d.reason));
        return ctx.fail(core::make_error(core::Errc::pending, "task " + task.id + " " + d.reason,
                                         "enqueue it and approve it; run does not wait for approvals"));
    }
    auto* agent = ctx.agents().find(task.context.agent_slug);
    if (!agent)
        return ctx.fail(core::make_error(core::Errc::unavailable,
                                         "no agent '" + task.context.agent_slug + "' in this infra-agent"));
    auto ws = core::Workspace::open(opt.workspace);
    if (!ws) return ctx.fail(ws.error());
    auto sandbox = open_sandbox(ctx, opt.sandbox, d);
    if (!sandbox) return ctx.fail(sandbox.error());
    std::string runner = core::default_worker_id();
    std::string type(core::to_string(task.type));
    auto started = std::chrono::steady_clock::now();
    core::agent::Outcome outcome;
    {
        core::events::Span span(
            events, "task.run", task.id,
            {{"task.type", type}, {"attempt", 1}, {"worker", runner}, {"agent", task.context.agent_slug}});
        auto deadline = started + std::chrono::milliseconds(d.timeout_ms);
        core::agent::RunContext rc{task,       d,
                                   1,          0,
                                   deadline,   [&] { return std::chrono::steady_clock::now() > deadline; },
                                   events,     &*ws,
                                   &*sandbox,  core::policy::digest(*dt.engine, tj),
                                   opt.record, opt.replay};
        outcome = agent->run(rc);
        span.set("outcome", outcome.ok ? "succeeded" : "failed");
        if (!outcome.ok) span.fail(outcome.error);
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    nlohmann::json data = {
        {"worker", runner}, {"attempt", 1}, {"durationMs", ms}, {"agent", task.context.agent_slug}, {"taskType", type}};
    if (!outcome.ok) data["error"] = outcome.error;
    events.emit({outcome.ok ? "task.succeeded" : "task.failed", task.id, "", std::move(data)});
    events.flush();
    nlohmann::json out = {{"taskId", task.id}, {"ok", outcome.ok}, {"result", outcome.result}, {"decision", dj}};
    if (!outcome.ok) out["error"] = outcome.error;
    if (ctx.json()) {
        ctx.record("result", std::move(out));
    } else {
        auto said = core::agent::read_report(outcome.result);
        ctx.print((said.summary.empty() && outcome.ok ? "done" : said.summary) + "\n");
        ctx.print(said.diff);
        for (const auto& n : said.notes) ctx.print("note: " + n + "\n");
    }
    if (!outcome.ok)
        return ctx.fail(core::make_error(core::Errc::unavailable, "task " + task.id + " failed: " + outcome.error));
    return exit_code::ok;
}

}  // namespace

void register_run(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("run", "Run one task now, without the queue (for CI jobs)");
    cmd->footer("Policy decides first: exit 3 when denied, 4 when it needs approval. The decision, the agent's\n"
                "events and spans go to the state home's audit log, as a worker's do (infra-agent events, trace).");
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
