#include "core/serve/service.hpp"

#include "core/change/delivery.hpp"
#include "core/change/open_apply.hpp"
#include "core/change/open_follow.hpp"
#include "core/change/open_reviewers.hpp"
#include "core/creds/open.hpp"
#include "core/open_intake.hpp"
#include "core/process.hpp"
#include "core/queue/event_stream.hpp"
#include "core/sandbox_choice.hpp"
#include "core/serve/scheduler.hpp"
#include "core/serve/server.hpp"
#include "core/serve/tick.hpp"
#include "core/signals/ingest.hpp"
#include "core/state.hpp"
#include "core/timeutil.hpp"
#include "core/worker.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <thread>

namespace infra::core::serve {

namespace {

/// The broker API's mint: a credential for a distributed worker's lease,
/// with this server's provider and keys.
std::function<Result<nlohmann::json>(const creds::MintRequest&)> mint_with(creds::Broker& broker)
{
    return [&broker](const creds::MintRequest& request) -> Result<nlohmann::json> {
        auto c = broker.mint(request);
        if (!c) return fail(c.error());
        nlohmann::json j = c->to_json(true);
        j["expiresMs"] = c->expires_ms;
        return j;
    };
}

/// What the server calls besides admission: reviewers and gated applies on
/// the forge (approvals where reviewers are: reviews and commands on the
/// pull requests), and the broker API's mint for distributed workers (with
/// this server's provider and keys, creds.provider; their events come back
/// through the queue's output stream into this state store).
struct Helpers {
    std::unique_ptr<change::ReviewersSetup> reviewers;
    std::optional<creds::BrokerHandle> broker;
};

Status open_helpers(const Site& site, const Options& so, events::EventSink* sink, Deps& deps, Helpers& out)
{
    auto reviewers = change::open_reviewers(site, sink);
    if (!reviewers) return fail(reviewers.error());
    out.reviewers = std::move(*reviewers);
    if (out.reviewers) {
        deps.reviewers = out.reviewers->reviewers.get();
        deps.apply = change::gated_apply(site, sink);
    }
    if (!so.worker_tokens.empty()) {
        auto b = creds::open_broker(site, "");
        if (!b) return fail(b.error());
        out.broker = std::move(*b);
        out.broker->broker->set_events(sink);
        deps.mint = mint_with(*out.broker->broker);
    }
    return {};
}

/// In-process workers (--workers), on a queue connection of their own.
struct Workers {
    std::unique_ptr<queue::Queue> queue;
    std::optional<sandbox::Sandbox> sandbox;
    std::unique_ptr<change::DeliverySetup> delivery;
    std::unique_ptr<Worker> worker;
};

Status open_workers(const Site& site, const ServiceOptions& opt, events::EventSink* sink, const policy::Engine* engine,
                    Workers& out)
{
    auto wq = site.open_queue(opt.queue, sink);
    if (!wq) return fail(wq.error());
    out.queue = std::move(*wq);
    auto sb = sandbox::choose(site.config, opt.sandbox, nullptr);
    if (!sb) return fail(sb.error());
    out.sandbox = std::move(*sb);
    WorkerOptions w;
    w.concurrency = opt.workers;
    w.sandbox = &*out.sandbox;
    w.grace = opt.grace;
    if (!opt.delivery.repo.empty() || !site.config.get_or("git.repo", "").empty()) {
        auto d = change::open_delivery(site, opt.delivery, &*out.sandbox);
        if (!d) return fail(d.error());
        out.delivery = std::move(*d);
        change::attach_events(*out.delivery, sink);
        w.delivery = out.delivery->delivery.get();
    } else {
        spdlog::info("--workers without a repository (git.repo or --repo): tasks run without a checkout, and "
                     "fixes cannot become pull requests");
    }
    out.worker = std::make_unique<Worker>(*out.queue, site.agents, *sink, engine, w);
    return {};
}

/// Admits a schedule's tick as a schedule signal, as a webhook's delivery is.
void admit_tick(const signals::Registry& signals, const Options& so, Server& server, events::EventSink& sink,
                const Schedule& s, timeutil::TimePoint at)
{
    auto found = tick_tasks(signals, so.schedules, so.repository_id, s.name, at, &sink);
    std::string outcome = "admitted";
    if (!found) {
        outcome = "invalid";
        spdlog::error("schedule {}: {}", s.name, found.error().message);
    } else if (auto ids = server.submit("schedule", std::move(found->tasks)); !ids) {
        outcome = "failed";
        spdlog::error("schedule {}: {}", s.name, ids.error().message);
    } else {
        spdlog::info("schedule {} fired: {}", s.name, ids->empty() ? "no task" : ids->front());
    }
    server.metrics().add("infra_agent_schedule_fires_total", {{"schedule", s.name}, {"outcome", outcome}});
}

/// Events of workers that do not own the state store, moved from the
/// queue's output stream into the audit log on connections of their own;
/// null when the queue has no such stream.
Result<std::unique_ptr<queue::EventReconciler>> open_reconciler(const Site& site, const std::string& queue_flag)
{
    auto stream = site.open_queue(queue_flag, nullptr);
    if (!stream) return fail(stream.error());
    if (!queue::has_event_stream(**stream)) return std::unique_ptr<queue::EventReconciler>();
    auto state = open_state(site.home);
    if (!state) return fail(state.error());
    return std::make_unique<queue::EventReconciler>(std::move(*stream), std::move(*state));
}

/// Bot pull requests followed from the forges' webhooks (Deps::follow) and
/// by a reconcile pass every pr.sync_interval on a thread of its own. When
/// no follower can be opened, nothing is followed and serve goes on.
class Following {
public:
    static Result<std::unique_ptr<Following>> open(const Site& site, const ServiceOptions& opt, events::EventSink* sink,
                                                   Intake& intake)
    {
        auto every = timeutil::parse_duration(site.config.get_or("pr.sync_interval", "10m"));
        if (!every) return fail(Errc::usage, "pr.sync_interval: " + every.error().message);
        auto out = std::unique_ptr<Following>(new Following(*every, *sink));
        if (auto f = change::open_follower(site, opt.delivery, sink, &intake); f) out->m_follow = std::move(*f);
        else spdlog::warn("bot pull requests are not followed: {}", f.error().message);
        return out;
    }

    ~Following() { stop(); }

    /// What Deps::follow does here; empty when nothing is followed.
    decltype(Deps::follow) hook()
    {
        if (!m_follow) return {};
        return [this](const std::string& forge, const std::string& repository, std::int64_t number,
                      const std::string& state, const std::string& by) -> Result<nlohmann::json> {
            std::lock_guard lock(m_mutex);
            if (forge != m_follow->delivery->forge->name()) return nlohmann::json();
            auto t = m_follow->follower->closed(repository, number, state, by);
            if (!t) return fail(t.error());
            m_sink.flush();
            return *t ? (*t)->to_json() : nlohmann::json();
        };
    }

    void start()
    {
        if (m_follow) m_thread = std::thread([this] { loop(); });
    }

    void stop()
    {
        {
            std::lock_guard lock(m_stop_mutex);
            m_stopping = true;
        }
        m_stop.notify_all();
        if (m_thread.joinable()) m_thread.join();
    }

private:
    Following(std::chrono::milliseconds every, events::EventSink& sink) : m_every(every), m_sink(sink) {}

    void loop()
    {
        std::unique_lock stop_lock(m_stop_mutex);
        while (!m_stop.wait_for(stop_lock, m_every, [&] { return m_stopping; })) {
            std::lock_guard lock(m_mutex);
            auto done = m_follow->follower->reconcile("");
            if (!done) spdlog::warn("following pull requests: {}", done.error().message);
            m_sink.flush();
        }
    }

    std::chrono::milliseconds m_every;
    events::EventSink& m_sink;
    std::optional<change::FollowSetup> m_follow;
    std::mutex m_mutex;  ///< one follower call at a time: a webhook's, or the pass
    std::mutex m_stop_mutex;
    std::condition_variable m_stop;
    bool m_stopping = false;
    std::thread m_thread;
};

}  // namespace

Status run(const Site& site, const ServiceOptions& opt)
{
    // Signals go to one thread, which stops everything in order.
    sigset_t set = process::start_daemon();
    const Config& cfg = site.config;
    auto options = options_from(cfg, opt.flags);
    if (!options) return fail(options.error());
    Options& so = *options;
    auto schedules = load_schedules(so.schedules);
    if (!schedules) return fail(schedules.error());

    auto admission = open_intake(site, opt.policies, opt.queue);
    if (!admission) return fail(admission.error());
    auto& a = **admission;
    // This connection records decisions and delivery ids, after the queue
    // has committed the tasks durably: it need not wait for the disk.
    if (auto st = a.state->relax_sync(); !st) return st;
    events::EventSink* sink = a.events;

    Deps deps{site.signals, *a.engine, *a.state, site.home.state_location(), *a.queue, *sink, {}, nullptr, {}, {}};
    Helpers helpers;  // outlives the server, which calls them
    if (auto st = open_helpers(site, so, sink, deps, helpers); !st) return st;
    auto following = Following::open(site, opt, sink, a);
    if (!following) return fail(following.error());
    deps.follow = (*following)->hook();
    Server server(so, std::move(deps));
    if (auto st = server.bind(); !st) return st;
    for (const char* source : k_webhook_sources)
        if (!so.secrets.count(source))
            spdlog::info("/hooks/{} is off: set webhooks.{}.secret_env to turn it on", source, source);
    if (so.tokens.empty()) spdlog::info("the REST API (/v1) refuses every request: no serve.api_tokens_file");

    // The scheduler: each tick is a schedule signal, admitted like a webhook.
    Scheduler scheduler(std::move(*schedules), [&](const Schedule& s, timeutil::TimePoint at) {
        admit_tick(site.signals, so, server, *sink, s, at);
    });

    Workers workers;
    if (opt.workers > 0)
        if (auto st = open_workers(site, opt, sink, a.engine.get(), workers); !st) return st;
    Worker* worker = workers.worker.get();

    std::thread watcher([&] {
        int sig = 0;
        if (sigwait(&set, &sig) != 0 || sig == SIGUSR1) return;
        spdlog::info("stopping: no new requests; finishing what is in flight (signal again to exit now)");
        server.stop();
        scheduler.stop();
        if (worker) worker->stop();
        if (sigwait(&set, &sig) == 0 && sig != SIGUSR1) std::_Exit(128 + sig);
    });

    std::string url = "http://" + (so.host.find(':') != std::string::npos ? "[" + so.host + "]" : so.host) + ":" +
                      std::to_string(server.port());
    if (opt.listening) opt.listening(url);
    spdlog::info("serving on {}", url);

    auto reconciler = open_reconciler(site, opt.queue);
    if (!reconciler) return fail(reconciler.error());

    scheduler.start();
    (*following)->start();
    std::thread work;
    Result<WorkerSummary> summary = WorkerSummary{};
    if (worker) work = std::thread([&] { summary = worker->run(); });
    server.run();  // returns after stop()
    scheduler.stop();
    (*following)->stop();
    if (worker) {
        worker->stop();
        work.join();
    }
    pthread_kill(watcher.native_handle(), SIGUSR1);
    watcher.join();
    reconciler->reset();  // after the last worker event is in
    sink->flush();
    spdlog::info("stopped");
    if (!summary) return fail(summary.error());
    return {};
}

}  // namespace infra::core::serve
