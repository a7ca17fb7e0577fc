#include "core/intake.hpp"
#include "core/text.hpp"

#include "core/environment.hpp"
#include "core/events/trace.hpp"
#include "core/json_access.hpp"
#include "core/policy/record.hpp"

namespace infra::core::intake {

Result<std::vector<Admitted>> admit(std::vector<AgentTask> tasks, const policy::Engine& engine, store::Db& state,
                                     queue::Queue& queue, events::EventSink& events, const Options& options)
{
    // Ids name directories (worktrees, saved plans): one grammar, checked
    // here too, for tasks that did not come through task_from_json.
    for (const auto& task : tasks)
        if (!valid_task_id(task.id))
            return fail(Errc::invalid_input, "task id " + text::quote(task.id.substr(0, 80)) + ": expected 1 to " +
                                                 std::to_string(k_max_task_id) + " ASCII letters, digits, '-' or '_'");
    // Tasks that were made in memory (a parser, drift, a schedule) have not
    // passed task_from_json: the same canonical environment before policy
    // sees them, and a batch with one that has none is refused whole.
    for (auto& task : tasks)
        if (auto st = normalize_environment(task); !st)
            return fail(st.error().code, "task " + task.id + ": " + st.error().message, st.error().hint);
    std::vector<Admitted> out;
    std::vector<queue::EnqueueItem> items;
    std::vector<std::size_t> item_of;  // items[i] is out[item_of[i]]
    std::vector<std::pair<json, json>> decisions;
    std::vector<events::SpanContext> traces;  // traces[i] is out[i]'s
    policy::Decision d;
    // A task without a trace joins the caller's (a webhook's ingest span),
    // else one opened here for this admission.
    events::NullSink none;  // a dry run records nothing
    events::EventSink& spans = options.dry_run ? static_cast<events::EventSink&>(none) : events;
    std::optional<events::ContextScope> from_environment;  // TRACEPARENT of a CI job
    std::optional<events::Span> intake;
    if (events::current_context().span_id.empty())
        for (const auto& task : tasks)
            if (!events::parse_traceparent(string_member(task.extra, "traceparent"))) {
                if (events::current_context().empty()) from_environment.emplace(events::process_root_context());
                intake.emplace(spans, "intake", "", json{{"stage", options.stage}, {"tasks", tasks.size()}});
                break;
            }
    for (auto& task : tasks) {
        task.extra.erase("decision");
        auto traced = events::parse_traceparent(string_member(task.extra, "traceparent"));
        if (!traced) {
            traced = events::current_context();
            task.extra["traceparent"] = events::to_traceparent(*traced);
        }
        traces.push_back(*traced);
        events::ContextScope in_trace(*traced);
        events::Span evaluate(spans, "policy.evaluate", task.id, {{"stage", options.stage}});
        json tj = to_json(task);
        engine.decide(tj, d);
        json dj = policy::to_json(d);
        events::describe_decision(evaluate, dj);
        Admitted a{task.id, task.id, "", false, "", dj, d.required_approvals};
        if (!d.allowed) {
            a.state = "denied";
            a.reason = d.reason;
        } else {
            a.state = d.pending() ? "pending-approval" : "queued";
            if (!options.dry_run) {
                item_of.push_back(out.size());
                items.push_back({std::move(task), dj, d.pending() ? queue::State::pending_approval : queue::State::queued,
                                 options.delay, options.max_attempts});
            }
        }
        decisions.emplace_back(std::move(tj), std::move(dj));
        out.push_back(std::move(a));
    }
    if (options.dry_run) return out;

    // The queue's commit is the durable point; the decisions (for policy
    // replay) are recorded after it, in one transaction of the state db.
    if (!items.empty()) {
        std::int64_t started = events::now_unix_ns();
        auto queued = queue.enqueue(std::move(items));
        if (!queued) return queued.error();
        std::int64_t ended = events::now_unix_ns();
        for (std::size_t i = 0; i < queued->size(); ++i)
            events::record_span(events, "queue.enqueue", out[item_of[i]].task_id, traces[item_of[i]], started, ended,
                                {{"batch", queued->size()}, {"duplicate", (*queued)[i].duplicate}});
        for (std::size_t i = 0; i < queued->size(); ++i) {
            const auto& o = (*queued)[i];
            Admitted& a = out[item_of[i]];
            a.id = o.id;
            a.duplicate = o.duplicate;
            a.state = std::string(queue::to_string(o.state));
        }
    }
    {
        auto tx = store::Transaction::begin(state);
        if (!tx) return tx.error();
        for (const auto& [tj, dj] : decisions)
            if (auto st = policy::record_decision(state, tj, dj, options.stage); !st) return st.error();
        if (options.record_with)
            if (auto st = options.record_with(state, out); !st) return st.error();
        if (auto st = tx->commit(); !st) return st.error();
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        const Admitted& a = out[i];
        events::ContextScope in_trace(traces[i]);
        if (a.state == "denied")
            events.emit({"task.escalated", a.task_id, "", {{"stage", options.stage}, {"reason", a.reason}, {"decision", a.decision}}});
        else
            events.emit({a.duplicate ? "task.deduplicated" : "task.enqueued", a.duplicate ? a.task_id : a.id, "",
                         {{"state", a.state}, {"queueId", a.id}, {"stage", options.stage}, {"requiredApprovals", a.approvals}}});
    }
    return out;
}

}  // namespace infra::core::intake
