#include "core/worker_run.hpp"

#include "core/change/open_apply.hpp"
#include "core/creds/binding.hpp"
#include "core/events/event.hpp"
#include "core/json_access.hpp"
#include "core/process.hpp"
#include "core/queue/event_stream.hpp"
#include "core/recorder.hpp"
#include "core/sandbox_choice.hpp"
#include "core/state.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <optional>
#include <pthread.h>
#include <thread>

namespace infra::core {
namespace {

/// Applies the tasks that asked for it (payload.apply: true) and whose
/// plans have every approval; a failed apply is left for a person.
void apply_ready(const Site& site, const WorkerRun& run, queue::Queue& queue, change::ApplyStore& store,
                 events::EventSink& events, const std::string& by)
{
    auto ids = store.unapplied();
    if (!ids) {
        spdlog::warn("cannot list the plans waiting to be applied: {}", ids.error().message);
        return;
    }
    for (const auto& id : *ids) {
        auto e = queue.show(id);
        if (!e || !bool_member(member(e->task, "payload"), "apply")) continue;
        if (!change::check_gate(*e, store)) continue;  // not ready: apply TASK says why
        auto how =
            change::open_apply(site, *e, change::ApplyOverrides{run.sandbox, run.delivery.repo, run.delivery.keep});
        if (!how) {
            spdlog::warn("task {}: cannot apply: {}", id, how.error().message);
            continue;
        }
        change::attach_events(*(*how)->delivery, &events);
        auto out = change::apply_task(*e, by, store, events, (*how)->runner);
        if (!out) spdlog::warn("task {}: not applied: {}", id, out.error().message);
        else if ((*out)["outcome"] != "applied")
            spdlog::warn("task {}: apply failed: {}", id, string_member(*out, "error"));
        else spdlog::info("task {}: applied plan {}", id, string_member(*out, "planSha256").substr(0, 12));
    }
}

/// Where the worker's events go (run.events).
Result<std::unique_ptr<events::EventSink>> open_sink(const Site& site, WorkerRun& run)
{
    if (run.sink) return std::move(run.sink);
    if (run.events == "none") return std::unique_ptr<events::EventSink>(std::make_unique<events::NullSink>());
    if (run.events == "queue") {
        // Distributed: through the queue's output stream to the server that
        // owns the state store; this worker needs no state db of its own.
        auto stream = site.open_queue(run.queue, nullptr);
        if (!stream) return fail(stream.error());
        if (auto st = (*stream)->publish_events({}); !st) return fail(st.error());
        return std::unique_ptr<events::EventSink>(std::make_unique<queue::StreamSink>(std::move(*stream)));
    }
    // Local: the worker's process owns the state db and writes the events there.
    if (auto state = open_state(site.home); !state) return fail(state.error());
    auto s = events::StateSink::open(site.home.state_location());
    if (!s) return fail(s.error());
    return std::unique_ptr<events::EventSink>(std::move(*s));
}

/// A worker whose credentials come from serve's broker claims as the name
/// of its worker token (NAME/host:pid), or it would be minted nothing.
Status claim_as_broker_worker(const creds::Provider& provider, WorkerOptions& w)
{
    auto name = provider.worker_name();
    if (!name) return name.error();
    if (name->empty()) return {};
    if (w.id.empty()) w.id = *name + "/" + default_worker_id();
    else if (!creds::worker_of(*name, w.id))
        return fail(Errc::usage,
                    "worker id " + text::quote(w.id) + " is not one of worker token " + text::quote(*name) +
                        "'s: serve would mint nothing for its leases",
                    "use --id " + *name + " or --id " + *name + "/SOMETHING, or leave --id out");
    return {};
}

}  // namespace

Result<WorkerRunSummary> run_worker(const Site& site, WorkerRun run)
{
    // Signals go to one thread that asks the worker to stop; blocked before
    // anything opened below (the state sink's writer, the exporter) starts
    // a thread that would take a SIGTERM in its place.
    sigset_t set = process::start_daemon();
    WorkerOptions& w = run.worker;
    std::optional<Workspace> ws;
    if (!run.workspace.empty()) {
        auto opened = Workspace::open(run.workspace);
        if (!opened) return fail(opened.error());
        if (auto st = check_state_home_outside(*opened, site.home.dir); !st) return fail(st.error());
        ws = std::move(*opened);
        w.workspace = &*ws;
    }
    auto sandbox = sandbox::choose(site.config, run.sandbox, nullptr);
    if (!sandbox) return fail(sandbox.error());
    // With a repository, each task gets its own worktree and ends as a pull
    // request; without one, agents edit the workspace directory in place.
    auto delivery = change::open_delivery(site, run.delivery, &*sandbox);
    if (!delivery) return fail(delivery.error());
    if (*delivery && !run.workspace.empty())
        return fail(Errc::usage, "--workspace and --repo exclude each other",
                    "with a repository every task gets its own worktree");
    if (*delivery) {
        w.delivery = (*delivery)->delivery.get();
        if (auto st = claim_as_broker_worker(*(*delivery)->creds.provider, w); !st) return fail(st.error());
    }
    w.sandbox = &*sandbox;
    if (!run.record.empty()) {
        std::error_code ec;
        std::filesystem::create_directories(run.record, ec);
        if (ec) return fail(Errc::unavailable, "cannot create '" + run.record + "': " + ec.message());
        w.record_dir = run.record;
    }

    auto sink = open_sink(site, run);
    if (!sink) return fail(sink.error());
    // Declared after sink, so it is destroyed (and drained) first.
    auto opened = open_exporter(site, **sink);
    if (!opened) return fail(opened.error());
    auto exporter = std::move(*opened);
    events::EventSink& below = exporter ? static_cast<events::EventSink&>(*exporter) : **sink;
    auto notifier = open_notifier(site, below);
    events::EventSink& events = notifier ? *notifier : below;
    auto engine = site.load_engine(run.policies);
    if (!engine) return fail(engine.error());
    auto queue = site.open_queue(run.queue, &events);
    if (!queue) return fail(queue.error());
    // A queue in the state db commits the events with its own writes: an
    // ack returns with the task's events on disk. (The sink outlives it.)
    if (auto* carried = dynamic_cast<events::InTransactionSink*>(sink->get())) (*queue)->carry_events(*carried);

    if (*delivery) change::attach_events(**delivery, &events);
    // A local worker also applies tier-4 tasks that asked for it
    // (payload.apply: true) once every approval of their plan is recorded.
    std::unique_ptr<store::Db> apply_db;
    std::optional<change::ApplyStore> applies;
    std::chrono::steady_clock::time_point last_scan{};
    std::string id = w.id.empty() ? default_worker_id() : w.id;
    if (run.events == "state" && *delivery) {
        auto db = open_state(site.home);
        if (!db) return fail(db.error());
        apply_db = std::move(*db);
        applies.emplace(*apply_db);
        w.on_idle = [&, by = "worker " + id] {
            auto now = std::chrono::steady_clock::now();
            if (!w.drain && now - last_scan < std::chrono::seconds(5)) return;
            last_scan = now;
            apply_ready(site, run, **queue, *applies, events, by);
        };
    }
    Worker worker(**queue, site.agents, events, engine->get(), w);
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
    if (!summary) return fail(summary.error());
    return WorkerRunSummary{id, std::move(*summary)};
}

}  // namespace infra::core
