#include "core/intake.hpp"
#include "core/text.hpp"

#include "core/environment.hpp"
#include "core/events/trace.hpp"
#include "core/policy/record.hpp"

#include <iterator>
#include <optional>

namespace infra::core::intake {

Result<Decided> decide(std::vector<AgentTask> tasks, const policy::Engine& engine, events::EventSink& events,
                       const Options& options)
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
    Decided out;
    policy::Decision d;
    events::NullSink none;  // a dry run records nothing
    events::EventSink& spans = options.dry_run ? static_cast<events::EventSink&>(none) : events;
    for (auto& task : tasks) {
        task.extra.erase("decision");
        auto traced = events::parse_traceparent(task.traceparent.value_or(""));
        if (!traced) {
            traced = events::current_context();
            task.traceparent = events::to_traceparent(*traced);
        }
        out.traces.push_back(*traced);
        events::ContextScope in_trace(*traced);
        events::Span evaluate(spans, "policy.evaluate", task.id, {{"stage", options.stage}});
        json tj = to_json(task);
        engine.decide(tj, d);
        json dj = policy::to_json(d);
        events::describe_decision(evaluate, dj);
        out.decisions.push_back(policy::decision_row(tj, dj));
        Admitted a{task.id, task.id, "", false, "", std::move(dj), d.required_approvals};
        if (!d.allowed) {
            a.state = "denied";
            a.reason = d.reason;
        } else {
            a.state = d.pending() ? "pending-approval" : "queued";
            if (!options.dry_run) {
                out.item_of.push_back(out.admissions.size());
                out.items.push_back({std::move(task), a.decision,
                                     d.pending() ? queue::State::pending_approval : queue::State::queued, options.delay,
                                     options.max_attempts});
            }
        }
        out.admissions.push_back(std::move(a));
    }
    return out;
}

Result<std::vector<Admitted>> commit(std::vector<Decided> batches, store::Db& state, queue::Queue& queue,
                                     events::EventSink& events, const Options& options)
{
    Decided all = batches.empty() ? Decided{} : std::move(batches.front());
    for (std::size_t b = 1; b < batches.size(); ++b) {
        Decided& d = batches[b];
        for (std::size_t i : d.item_of) all.item_of.push_back(all.admissions.size() + i);
        std::move(d.items.begin(), d.items.end(), std::back_inserter(all.items));
        std::move(d.admissions.begin(), d.admissions.end(), std::back_inserter(all.admissions));
        std::move(d.decisions.begin(), d.decisions.end(), std::back_inserter(all.decisions));
        std::move(d.traces.begin(), d.traces.end(), std::back_inserter(all.traces));
    }
    std::vector<Admitted>& out = all.admissions;
    if (options.dry_run) return out;

    // The queue's commit is the durable point; the decisions (for policy
    // replay) are recorded after it, in one transaction of the state db.
    if (!all.items.empty()) {
        std::int64_t started = events::now_unix_ns();
        auto queued = queue.enqueue(std::move(all.items));
        if (!queued) return queued.error();
        std::int64_t ended = events::now_unix_ns();
        for (std::size_t i = 0; i < queued->size(); ++i)
            events::record_span(events, "queue.enqueue", out[all.item_of[i]].task_id, all.traces[all.item_of[i]],
                                started, ended, {{"batch", queued->size()}, {"duplicate", (*queued)[i].duplicate}});
        for (std::size_t i = 0; i < queued->size(); ++i) {
            const auto& o = (*queued)[i];
            Admitted& a = out[all.item_of[i]];
            a.id = o.id;
            a.duplicate = o.duplicate;
            a.state = std::string(queue::to_string(o.state));
        }
    }
    {
        auto tx = store::Transaction::begin(state);
        if (!tx) return tx.error();
        if (auto st = policy::record_decisions(state, all.decisions, options.stage); !st) return st.error();
        if (options.record_with)
            if (auto st = options.record_with(state, out); !st) return st.error();
        if (auto st = tx->commit(); !st) return st.error();
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
        const Admitted& a = out[i];
        events::ContextScope in_trace(all.traces[i]);
        if (a.state == "denied")
            events.emit({"task.escalated",
                         a.task_id,
                         "",
                         {{"stage", options.stage}, {"reason", a.reason}, {"decision", a.decision}}});
        else
            events.emit({a.duplicate ? "task.deduplicated" : "task.enqueued",
                         a.duplicate ? a.task_id : a.id,
                         "",
                         {{"state", a.state},
                          {"queueId", a.id},
                          {"stage", options.stage},
                          {"requiredApprovals", a.approvals}}});
    }
    return out;
}

Result<std::vector<Admitted>> admit(std::vector<AgentTask> tasks, const policy::Engine& engine, store::Db& state,
                                    queue::Queue& queue, events::EventSink& events, const Options& options)
{
    // A task without a trace joins the caller's (a webhook's ingest span),
    // else one opened here for this admission.
    events::NullSink none;  // a dry run records nothing
    events::EventSink& spans = options.dry_run ? static_cast<events::EventSink&>(none) : events;
    std::optional<events::ContextScope> from_environment;  // TRACEPARENT of a CI job
    std::optional<events::Span> intake;
    if (events::current_context().span_id.empty())
        for (const auto& task : tasks)
            if (!events::parse_traceparent(task.traceparent.value_or(""))) {
                if (events::current_context().empty()) from_environment.emplace(events::process_root_context());
                intake.emplace(spans, "intake", "", json{{"stage", options.stage}, {"tasks", tasks.size()}});
                break;
            }
    auto decided = decide(std::move(tasks), engine, events, options);
    if (!decided) return decided.error();
    std::vector<Decided> batches;
    batches.push_back(std::move(*decided));
    return commit(std::move(batches), state, queue, events, options);
}

}  // namespace infra::core::intake
