#include "core/run_now.hpp"

#include "core/events/trace.hpp"
#include "core/policy/digest.hpp"
#include "core/policy/record.hpp"
#include "core/recorder.hpp"
#include "core/sandbox_choice.hpp"
#include "core/worker.hpp"
#include "core/workspace.hpp"

#include <chrono>

namespace infra::core {
namespace {

/// The task's own trace (a finding's ingest), else the CI job's TRACEPARENT, else a new one.
events::SpanContext trace_of(const AgentTask& task)
{
    auto traced = events::parse_traceparent(task.traceparent.value_or(""));
    return traced ? *traced : events::process_root_context();
}

/// Decides the task, records the decision, and refuses what may not run now.
Result<policy::Decision> decide(const AgentTask& task, const json& tj, const policy::Engine& engine, Recorder& rec,
                                json& dj)
{
    policy::Decision d;
    {
        events::Span evaluate(*rec.events, "policy.evaluate", task.id, {{"stage", "run"}});
        d = engine.decide(tj);
        dj = policy::to_json(d);
        events::describe_decision(evaluate, dj);
    }
    if (auto st = policy::record_decision(*rec.state, tj, dj, "run"); !st) return fail(st.error());
    if (d.allowed && !d.pending()) return d;
    rec.events->emit({d.allowed ? "task.pending-approval" : "task.escalated",
                      task.id,
                      "",
                      {{"stage", "run"}, {"reason", d.reason}, {"decision", dj}}});
    rec.events->flush();
    if (!d.allowed) return fail(Errc::denied, "task " + task.id + " denied: " + d.reason);
    return fail(Errc::pending, "task " + task.id + " " + d.reason,
                "enqueue it and approve it; run does not wait for approvals");
}

}  // namespace

Result<RunNowResult> run_now(const Site& site, AgentTask task, const policy::Engine& engine, const RunNow& o)
{
    task.extra.erase("decision");  // a decision on the input is a record, never a permission
    json tj = to_json(task);
    Recorder rec;
    if (auto st = open_recorder(site, rec); !st) return fail(st.error());
    events::EventSink& events = *rec.events;
    events::ContextScope in_trace(trace_of(task));
    RunNowResult out;
    auto d = decide(task, tj, engine, rec, out.decision);
    if (!d) return fail(d.error());
    auto* agent = site.agents.find(task.context.agent_slug);
    if (!agent) return fail(Errc::unavailable, "no agent '" + task.context.agent_slug + "' in this infra-agent");
    auto ws = Workspace::open(o.workspace);
    if (!ws) return fail(ws.error());
    if (auto st = check_state_home_outside(*ws, site.home.dir); !st) return fail(st.error());
    auto sandbox = sandbox::choose(site.config, o.sandbox, &*d);
    if (!sandbox) return fail(sandbox.error());

    std::string runner = default_worker_id();
    std::string type(to_string(task.type));
    auto started = std::chrono::steady_clock::now();
    {
        events::Span span(
            events, "task.run", task.id,
            {{"task.type", type}, {"attempt", 1}, {"worker", runner}, {"agent", task.context.agent_slug}});
        auto deadline = started + std::chrono::milliseconds(d->timeout_ms);
        agent::RunContext rc{task,      *d,
                             1,         0,
                             deadline,  [&] { return std::chrono::steady_clock::now() > deadline; },
                             events,    &*ws,
                             &*sandbox, policy::digest(engine, tj),
                             o.record,  o.replay};
        out.outcome = agent::run_contained(*agent, rc);
        span.set("outcome", out.outcome.ok ? "succeeded" : "failed");
        if (!out.outcome.ok) span.fail(out.outcome.error);
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    json data = {
        {"worker", runner}, {"attempt", 1}, {"durationMs", ms}, {"agent", task.context.agent_slug}, {"taskType", type}};
    if (!out.outcome.ok) data["error"] = out.outcome.error;
    events.emit({out.outcome.ok ? "task.succeeded" : "task.failed", task.id, "", std::move(data)});
    events.flush();
    return out;
}

}  // namespace infra::core
