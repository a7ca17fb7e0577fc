// `infra-agent enqueue [FILE]`: decide with policy again, then queue the
// allowed tasks (or park them for approval) in one atomic batch.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/task_stream.hpp"
#include "core/events/event.hpp"
#include "core/policy/record.hpp"
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
    auto engine = load_engine(ctx, opt.policies);
    if (!engine) return ctx.fail(engine.error());
    auto state = core::open_state(ctx.home());
    if (!state) return ctx.fail(state.error());
    auto sink = core::events::SqliteSink::open(ctx.home().state_db().string());
    if (!sink) return ctx.fail(sink.error());
    auto queue = ctx.open_queue(opt.queue, sink->get());
    if (!queue) return ctx.fail(queue.error());

    // A decision on stdin is a record, never a permission: decide again.
    std::vector<core::queue::EnqueueItem> items;
    std::vector<nlohmann::json> denied;
    std::vector<std::pair<nlohmann::json, nlohmann::json>> decisions;
    int worst = exit_code::ok;
    core::policy::Decision d;
    int read = for_each_task(ctx, opt.input, opt.keep_going, [&](core::AgentTask&& task) {
        task.extra.erase("decision");
        nlohmann::json tj = core::to_json(task);
        (*engine)->decide(tj, d);
        nlohmann::json dj = core::policy::to_json(d);
        decisions.emplace_back(tj, dj);
        if (!d.allowed) {
            (*sink)->emit({"task.escalated", task.id, "", {{"stage", "enqueue"}, {"reason", d.reason}, {"decision", dj}}});
            denied.push_back({{"type", "enqueue"}, {"id", task.id}, {"state", "denied"}, {"reason", d.reason}});
            worst = worse(worst, exit_code::denied);
            return;
        }
        auto initial = d.pending() ? core::queue::State::pending_approval : core::queue::State::queued;
        items.push_back({std::move(task), std::move(dj), initial, delay, opt.max_attempts});
    });
    if (read != exit_code::ok && !opt.keep_going) return read;  // nothing queued from a bad input

    // Decisions are recorded (for policy replay) in one transaction, which
    // ends before the queue's own batch begins.
    {
        auto tx = core::store::Transaction::begin(**state);
        if (!tx) return ctx.fail(tx.error());
        for (const auto& [tj, dj] : decisions)
            if (auto st = core::policy::record_decision(**state, tj, dj, "enqueue"); !st) return ctx.fail(st.error());
        if (auto st = tx->commit(); !st) return ctx.fail(st.error());
    }

    std::vector<std::string> ids;
    for (const auto& i : items) ids.push_back(i.task.id);
    auto out = (*queue)->enqueue(std::move(items));
    if (!out) return ctx.fail(out.error());
    bool json = ctx.json_output() || !ctx.stdout_is_tty();
    for (std::size_t i = 0; i < out->size(); ++i) {
        const auto& o = (*out)[i];
        nlohmann::json line = {{"type", "enqueue"}, {"id", o.id}, {"state", core::queue::to_string(o.state)},
                               {"duplicate", o.duplicate}};
        if (o.duplicate) line["taskId"] = ids[i];
        (*sink)->emit({o.duplicate ? "task.deduplicated" : "task.enqueued", o.duplicate ? ids[i] : o.id, "",
                       {{"state", core::queue::to_string(o.state)}, {"queueId", o.id}}});
        if (o.state == core::queue::State::pending_approval) worst = worse(worst, exit_code::pending);
        if (json) ctx.emit(line);
        else
            ctx.print(o.id + "  " + std::string(core::queue::to_string(o.state)) +
                      (o.duplicate ? "  (already queued; " + ids[i] + " not added)" : "") + "\n");
    }
    for (const auto& d2 : denied) {
        if (json) ctx.emit(d2);
        else ctx.print(d2["id"].get<std::string>() + "  denied  " + d2["reason"].get<std::string>() + "\n");
    }
    (*sink)->flush();
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
