// `infra-agent worker`: claim, run, ack; until stopped, or --once / --drain.
// SIGTERM or SIGINT stops claiming and lets running tasks finish within the
// grace period; a second signal exits at once (leases then expire).
#include "cli/apply_setup.hpp"
#include "cli/commands.hpp"
#include "cli/delivery_setup.hpp"
#include "cli/exit_codes.hpp"
#include "cli/intake.hpp"
#include "cli/policy_common.hpp"
#include "cli/sandbox_flag.hpp"
#include "core/creds/binding.hpp"
#include "core/events/event.hpp"
#include "core/json_access.hpp"
#include "core/process.hpp"
#include "core/queue/event_stream.hpp"
#include "core/state.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"
#include "core/worker.hpp"
#include "plugins/credentials/providers.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <pthread.h>
#include <thread>

namespace infra::cli {
namespace {

struct Options {
    std::string queue;
    PolicyFlags policies;
    bool once = false;
    bool drain = false;
    int concurrency = 1;
    std::size_t batch = 1;
    std::string lease = "30s";
    std::string grace = "30s";
    std::string poll = "500ms";
    std::string events = "state";
    std::string id;
    std::string workspace;
    std::string sandbox;
    std::string record;
    DeliveryFlags delivery;
};

core::Result<core::queue::Millis> duration(const std::string& flag, const std::string& v)
{
    auto d = core::timeutil::parse_duration(v);
    if (!d) return core::fail(core::Errc::usage, flag + ": " + d.error().message, d.error().hint);
    return *d;
}

/// Applies the tasks that asked for it (payload.apply: true) and whose
/// plans have every approval; a failed apply is left for a person.
void apply_ready(Context& ctx, core::queue::Queue& queue, core::change::ApplyStore& store,
                 core::events::EventSink& events, const std::string& by, const Options& opt)
{
    auto ids = store.unapplied();
    if (!ids) {
        spdlog::warn("cannot list the plans waiting to be applied: {}", ids.error().message);
        return;
    }
    for (const auto& id : *ids) {
        auto e = queue.show(id);
        if (!e || !core::bool_member(core::member(e->task, "payload"), "apply")) continue;
        if (!core::change::check_gate(*e, store)) continue;  // not ready: apply TASK says why
        auto how = open_apply(ctx, *e, opt.sandbox, opt.delivery.repo, opt.delivery.keep);
        if (!how) {
            spdlog::warn("task {}: cannot apply: {}", id, how.error().message);
            continue;
        }
        attach_events(*(*how)->delivery, &events);
        auto out = core::change::apply_task(*e, by, store, events, (*how)->runner);
        if (!out) spdlog::warn("task {}: not applied: {}", id, out.error().message);
        else if ((*out)["outcome"] != "applied")
            spdlog::warn("task {}: apply failed: {}", id, core::string_member(*out, "error"));
        else spdlog::info("task {}: applied plan {}", id, core::string_member(*out, "planSha256").substr(0, 12));
    }
}

/// Where the worker's events go (--events): the state db of the home
/// (local mode), the queue's output stream (distributed), stdout, or nowhere.
core::Result<std::unique_ptr<core::events::EventSink>> open_sink(Context& ctx, const Options& opt)
{
    if (opt.events == "stdout")
        return std::unique_ptr<core::events::EventSink>(std::make_unique<core::events::JsonLinesSink>(stdout));
    if (opt.events == "none")
        return std::unique_ptr<core::events::EventSink>(std::make_unique<core::events::NullSink>());
    if (opt.events == "queue") {
        // Distributed: through the queue's output stream to the server that
        // owns the state store; this worker needs no state db of its own.
        auto stream = ctx.open_queue(opt.queue, nullptr);
        if (!stream) return core::fail(stream.error());
        if (auto st = (*stream)->publish_events({}); !st) return core::fail(st.error());
        return std::unique_ptr<core::events::EventSink>(std::make_unique<core::queue::StreamSink>(std::move(*stream)));
    }
    // Local: the worker's process owns the state db and writes the events there.
    if (auto state = core::open_state(ctx.home()); !state) return core::fail(state.error());
    auto s = core::events::StateSink::open(ctx.home().state_location());
    if (!s) return core::fail(s.error());
    return std::unique_ptr<core::events::EventSink>(std::move(*s));
}

/// The worker's counts: a summary record in JSON, else a line on stderr.
void show_summary(Context& ctx, const std::string& worker, const core::WorkerSummary& s)
{
    if (!ctx.json(Output::value)) {
        spdlog::info("worker done: {} claimed, {} succeeded, {} failed ({} dead), {} released, {} denied", s.claimed,
                     s.succeeded, s.failed, s.dead, s.released, s.denied);
        return;
    }
    ctx.record("summary", {{"worker", worker},
                           {"claimed", s.claimed},
                           {"succeeded", s.succeeded},
                           {"failed", s.failed},
                           {"dead", s.dead},
                           {"released", s.released},
                           {"waiting", s.waiting},
                           {"denied", s.denied},
                           {"lost", s.lost}});
}

int run(const Options& opt, Context& ctx)
{
    core::process::retain_heap();
    core::process::ignore_broken_pipes();
    const core::Workspace* w_workspace = nullptr;
    core::WorkerOptions w;
    w.id = opt.id;
    w.concurrency = opt.concurrency;
    w.batch = opt.batch;
    w.once = opt.once;
    w.drain = opt.drain;
    for (auto [flag, value, out] :
         {std::tuple{"--lease", &opt.lease, &w.lease}, std::tuple{"--grace", &opt.grace, &w.grace},
          std::tuple{"--poll", &opt.poll, &w.poll}}) {
        auto d = duration(flag, *value);
        if (!d) return ctx.fail(d.error());
        *out = *d;
    }
    std::optional<core::Workspace> ws;
    if (!opt.workspace.empty()) {
        auto w = core::Workspace::open(opt.workspace);
        if (!w) return ctx.fail(w.error());
        ws = std::move(*w);
        w_workspace = &*ws;
    }
    auto sandbox = open_sandbox(ctx, opt.sandbox, nullptr);
    if (!sandbox) return ctx.fail(sandbox.error());
    // With a repository, each task gets its own worktree and ends as a pull
    // request; without one, agents edit the --workspace directory in place.
    auto delivery = open_delivery(ctx, opt.delivery, &*sandbox);
    if (!delivery) return ctx.fail(delivery.error());
    if (*delivery && !opt.workspace.empty())
        return ctx.fail(core::make_error(core::Errc::usage, "--workspace and --repo exclude each other",
                                         "with a repository every task gets its own worktree"));
    if (*delivery) w.delivery = (*delivery)->delivery.get();
    if (*delivery && (*delivery)->creds.provider->name() == "broker") {
        // serve mints only for leases its worker token's name owns: claim as NAME/host:pid.
        auto config = ctx.config();
        if (!config) return ctx.fail(config.error());
        auto name = plugins::credentials::broker_worker_name(**config);
        if (!name) return ctx.fail(name.error());
        if (w.id.empty()) w.id = *name + "/" + core::default_worker_id();
        else if (!core::creds::worker_of(*name, w.id))
            return ctx.fail(
                core::make_error(core::Errc::usage,
                                 "worker id " + core::text::quote(w.id) + " is not one of worker token " +
                                     core::text::quote(*name) + "'s: serve would mint nothing for its leases",
                                 "use --id " + *name + " or --id " + *name + "/SOMETHING, or leave --id out"));
    }
    w.workspace = w_workspace;
    w.sandbox = &*sandbox;
    if (!opt.record.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(opt.record, ec);
        if (ec)
            return ctx.fail(
                core::make_error(core::Errc::unavailable, "cannot create '" + opt.record + "': " + ec.message()));
        w.record_dir = opt.record;
    }

    auto sink = open_sink(ctx, opt);
    if (!sink) return ctx.fail(sink.error());
    // Declared after sink, so it is destroyed (and drained) first.
    auto opened = open_exporter(ctx, **sink);
    if (!opened) return ctx.fail(opened.error());
    auto exporter = std::move(*opened);
    core::events::EventSink& below = exporter ? static_cast<core::events::EventSink&>(*exporter) : **sink;
    auto notifier = open_notifier(ctx, below);
    core::events::EventSink& events = notifier ? *notifier : below;
    auto engine = load_engine(ctx, opt.policies);
    if (!engine) return ctx.fail(engine.error());
    auto queue = ctx.open_queue(opt.queue, &events);
    if (!queue) return ctx.fail(queue.error());
    // A queue in the state db commits the events with its own writes: an
    // ack returns with the task's events on disk. (The sink outlives it.)
    if (auto* carried = dynamic_cast<core::events::InTransactionSink*>(sink->get())) (*queue)->carry_events(*carried);

    // Signals go to one thread that asks the worker to stop.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);  // sent by this thread when the worker ends on its own
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    if (*delivery) attach_events(**delivery, &events);
    // A local worker also applies tier-4 tasks that asked for it
    // (payload.apply: true) once every approval of their plan is recorded.
    std::unique_ptr<core::store::Db> apply_db;
    std::optional<core::change::ApplyStore> applies;
    std::chrono::steady_clock::time_point last_scan{};
    if (opt.events == "state" && *delivery) {
        auto db = core::open_state(ctx.home());
        if (!db) return ctx.fail(db.error());
        apply_db = std::move(*db);
        applies.emplace(*apply_db);
        std::string by = "worker " + (w.id.empty() ? core::default_worker_id() : w.id);
        w.on_idle = [&, by] {
            auto now = std::chrono::steady_clock::now();
            if (!opt.drain && now - last_scan < std::chrono::seconds(5)) return;
            last_scan = now;
            apply_ready(ctx, **queue, *applies, events, by, opt);
        };
    }
    core::Worker worker(**queue, ctx.agents(), events, engine->get(), w);
    std::thread watcher([&] {
        int sig = 0;
        if (sigwait(&set, &sig) != 0 || sig == 0) return;
        if (sig == SIGUSR1) return;  // the worker finished on its own
        spdlog::info("stopping: finishing running tasks (signal again to exit now)");
        worker.stop();
        if (sigwait(&set, &sig) == 0 && sig != SIGUSR1) std::_Exit(128 + sig);
    });
    auto summary = worker.run();
    pthread_kill(watcher.native_handle(), SIGUSR1);
    watcher.join();
    events.flush();
    if (!summary) return ctx.fail(summary.error());
    show_summary(ctx, w.id.empty() ? core::default_worker_id() : w.id, *summary);
    return exit_code::ok;
}

}  // namespace

void register_worker(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("worker", "Claim tasks from the queue and run them through their agents");
    cmd->footer("Policy is checked again at claim. SIGTERM or SIGINT stops claiming and lets running tasks\n"
                "finish within --grace, then releases their leases; a task whose worker died goes to\n"
                "another worker when its lease runs out.");
    cmd->add_option("--queue", opt->queue, "queue URL (default: queue.url, else the state db)");
    opt->policies.add_to(cmd);
    cmd->add_flag("--once", opt->once, "run one task, then exit");
    cmd->add_flag("--drain", opt->drain, "exit when nothing is ready to claim");
    cmd->add_option("--concurrency", opt->concurrency, "tasks run at the same time (default 1)")
        ->check(CLI::Range(1, 256));
    cmd->add_option("--batch", opt->batch, "tasks claimed at once (default 1)")->check(CLI::Range(1, 1000));
    cmd->add_option("--lease", opt->lease, "visibility timeout; heartbeats renew it (default 30s)");
    cmd->add_option("--grace", opt->grace, "time to finish running tasks after a stop signal (default 30s)");
    cmd->add_option("--poll", opt->poll, "wait between empty claims (default 500ms)");
    cmd->add_option("--events", opt->events,
                    "where events go: state (the state db), queue (the queue's output stream, for serve to record), "
                    "stdout, none")
        ->check(CLI::IsMember({"state", "queue", "stdout", "none"}));
    cmd->add_option("--record", opt->record, "append model exchanges to DIR/<task>-<attempt>.jsonl (llm agent)");
    cmd->add_option(
        "--id", opt->id,
        "worker id in leases (default host:pid; NAME/host:pid on the broker provider, NAME being the worker token's)");
    cmd->add_option("--workspace", opt->workspace, "directory agents edit in place (instead of --repo)");
    add_delivery_flags(cmd, opt->delivery);
    cmd->add_option("--sandbox", opt->sandbox, "bwrap (default) or none (development; policy must allow it per task)");
    ctx.on_run(cmd, [opt, &ctx] { return run(*opt, ctx); });
}

}  // namespace infra::cli
