// `infra-agent serve`: webhooks, the REST API, the embedded scheduler,
// /metrics and health checks on one port; optionally in-process workers.
// SIGTERM or SIGINT stops accepting, answers what is in flight, lets the
// workers finish or release their tasks, and exits 0.
#include "cli/commands.hpp"
#include "cli/delivery_flags.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/sandbox_flag.hpp"
#include "core/change/delivery.hpp"
#include "core/change/open_apply.hpp"
#include "core/change/open_follow.hpp"
#include "core/change/open_reviewers.hpp"
#include "core/creds/open.hpp"
#include "core/input.hpp"
#include "core/log.hpp"
#include "core/open_intake.hpp"
#include "core/process.hpp"
#include "core/queue/event_stream.hpp"
#include "core/serve/config.hpp"
#include "core/serve/scheduler.hpp"
#include "core/serve/server.hpp"
#include "core/state.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"
#include "core/worker.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <pthread.h>
#include <thread>

namespace infra::cli {
namespace {

struct Options {
    std::string listen;
    int workers = 0;
    std::string max_body;
    std::string queue;
    std::string sandbox;
    std::string grace = "30s";
    DeliveryFlags delivery;
    PolicyFlags policies;
};

int serve(const Options& opt, Context& ctx)
{
    core::process::retain_heap();
    core::process::ignore_broken_pipes();
    // Signals go to one thread, which stops everything in order; every
    // thread started from here on inherits the blocked mask.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());
    const core::Config& cfg = site->config;
    auto options = core::serve::options_from(cfg, {opt.listen, opt.max_body});
    if (!options) return ctx.fail(options.error());
    core::serve::Options& so = *options;
    auto schedules = core::serve::load_schedules(so.schedules);
    if (!schedules) return ctx.fail(schedules.error());
    auto grace = core::timeutil::parse_duration(opt.grace);
    if (!grace) return ctx.fail(core::make_error(core::Errc::usage, "--grace: " + grace.error().message));

    auto admission = ctx.open(core::open_intake, opt.policies, opt.queue);
    if (!admission) return ctx.fail(admission.error());
    auto& a = **admission;
    // This connection records decisions and delivery ids, after the queue
    // has committed the tasks durably: it need not wait for the disk.
    if (auto st = a.state->relax_sync(); !st) return ctx.fail(st.error());
    core::events::EventSink* sink = a.events;

    core::serve::Deps deps{ctx.signals(), *a.engine, *a.state, ctx.home().state_location(), *a.queue, *sink, {},
                           nullptr,       {},        {}};
    // Approvals where reviewers are: reviews and commands on the forge's pull requests.
    auto reviewers = core::change::open_reviewers(*site, sink);
    if (!reviewers) return ctx.fail(reviewers.error());
    if (*reviewers) {
        deps.reviewers = (*reviewers)->reviewers.get();
        deps.apply = core::change::gated_apply(*site, sink);
    }
    // Distributed workers: the broker API mints for them with this server's
    // provider and keys (creds.provider), and their events come back through
    // the queue's output stream into this state store.
    std::optional<core::creds::BrokerHandle> broker;
    if (!so.worker_tokens.empty()) {
        auto b = ctx.open(core::creds::open_broker, "");
        if (!b) return ctx.fail(b.error());
        broker = std::move(*b);
        broker->broker->set_events(sink);
        core::creds::Broker* mint_with = broker->broker.get();
        deps.mint = [mint_with](const core::creds::MintRequest& request) -> core::Result<nlohmann::json> {
            auto c = mint_with->mint(request);
            if (!c) return core::fail(c.error());
            nlohmann::json j = c->to_json(true);
            j["expiresMs"] = c->expires_ms;
            return j;
        };
    }
    // Bot pull requests are followed from the forges' webhooks and by a
    // reconcile pass every pr.sync_interval.
    std::mutex follow_mutex;
    std::optional<core::change::FollowSetup> follow;
    auto sync_every = core::timeutil::parse_duration(cfg.get_or("pr.sync_interval", "10m"));
    if (!sync_every)
        return ctx.fail(core::make_error(core::Errc::usage, "pr.sync_interval: " + sync_every.error().message));
    if (auto f = ctx.open(core::change::open_follower, opt.delivery, sink, &a); f) follow = std::move(*f);
    else spdlog::warn("bot pull requests are not followed: {}", f.error().message);
    if (follow)
        deps.follow = [&](const std::string& forge, const std::string& repository, std::int64_t number,
                          const std::string& state, const std::string& by) -> core::Result<nlohmann::json> {
            std::lock_guard lock(follow_mutex);
            if (forge != follow->delivery->forge->name()) return nlohmann::json();
            auto t = follow->follower->closed(repository, number, state, by);
            if (!t) return core::fail(t.error());
            sink->flush();
            return *t ? (*t)->to_json() : nlohmann::json();
        };
    core::serve::Server server(so, std::move(deps));
    if (auto st = server.bind(); !st) return ctx.fail(st.error());
    for (const char* source : core::serve::k_webhook_sources)
        if (!so.secrets.count(source))
            spdlog::info("/hooks/{} is off: set webhooks.{}.secret_env to turn it on", source, source);
    if (so.tokens.empty()) spdlog::info("the REST API (/v1) refuses every request: no serve.api_tokens_file");

    // The scheduler: each tick is a schedule signal, admitted like a webhook.
    const core::signals::SignalParser* schedule_parser = ctx.signals().find("schedule");
    core::serve::Scheduler scheduler(
        std::move(*schedules), [&](const core::serve::Schedule& s, core::timeutil::TimePoint at) {
            nlohmann::json tick = {{"schedule", s.name}, {"firedAt", core::timeutil::format_rfc3339(at)}};
            core::signals::IngestOptions in;
            in.schedules = so.schedules;
            in.repository_id = so.repository_id;
            auto found = core::signals::parse_text(*schedule_parser, tick.dump(), "schedule " + s.name, in, sink);
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
        });

    // Optional in-process workers, on their own queue connection.
    std::unique_ptr<core::queue::Queue> worker_queue;
    std::optional<core::sandbox::Sandbox> sandbox;
    std::unique_ptr<core::change::DeliverySetup> delivery;
    std::unique_ptr<core::Worker> worker;
    if (opt.workers > 0) {
        auto wq = ctx.open_queue(opt.queue, sink);
        if (!wq) return ctx.fail(wq.error());
        worker_queue = std::move(*wq);
        auto sb = open_sandbox(ctx, opt.sandbox, nullptr);
        if (!sb) return ctx.fail(sb.error());
        sandbox = std::move(*sb);
        core::WorkerOptions w;
        w.concurrency = opt.workers;
        w.sandbox = &*sandbox;
        w.grace = *grace;
        if (!opt.delivery.repo.empty() || !cfg.get_or("git.repo", "").empty()) {
            auto d = ctx.open(core::change::open_delivery, opt.delivery, &*sandbox);
            if (!d) return ctx.fail(d.error());
            delivery = std::move(*d);
            core::change::attach_events(*delivery, sink);
            w.delivery = delivery->delivery.get();
        } else {
            spdlog::info("--workers without a repository (git.repo or --repo): tasks run without a checkout, and "
                         "fixes cannot become pull requests");
        }
        worker = std::make_unique<core::Worker>(*worker_queue, ctx.agents(), *sink, a.engine.get(), w);
    }

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
    if (ctx.json()) ctx.record("listening", {{"url", url}});
    else ctx.print("listening on " + url + "\n");
    std::fflush(stdout);
    spdlog::info("serving on {}", url);

    // Events of workers that do not own the state store, from the queue's
    // output stream into the audit log, on connections of their own.
    std::unique_ptr<core::queue::EventReconciler> reconciler;
    {
        auto stream = ctx.open_queue(opt.queue, nullptr);
        if (!stream) return ctx.fail(stream.error());
        if (core::queue::has_event_stream(**stream)) {
            auto state = core::open_state(ctx.home());
            if (!state) return ctx.fail(state.error());
            reconciler = std::make_unique<core::queue::EventReconciler>(std::move(*stream), std::move(*state));
        }
    }

    scheduler.start();
    std::mutex sync_stop_mutex;
    std::condition_variable sync_stop;
    bool stopping = false;
    std::thread syncer([&] {
        std::unique_lock stop_lock(sync_stop_mutex);
        while (follow && !sync_stop.wait_for(stop_lock, *sync_every, [&] { return stopping; })) {
            std::lock_guard lock(follow_mutex);
            auto done = follow->follower->reconcile("");
            if (!done) spdlog::warn("following pull requests: {}", done.error().message);
            sink->flush();
        }
    });
    std::thread work;
    core::Result<core::WorkerSummary> summary = core::WorkerSummary{};
    if (worker) work = std::thread([&] { summary = worker->run(); });
    server.run();  // returns after stop()
    scheduler.stop();
    {
        std::lock_guard lock(sync_stop_mutex);
        stopping = true;
    }
    sync_stop.notify_all();
    syncer.join();
    if (worker) {
        worker->stop();
        work.join();
    }
    pthread_kill(watcher.native_handle(), SIGUSR1);
    watcher.join();
    reconciler.reset();  // after the last worker event is in
    sink->flush();
    spdlog::info("stopped");
    if (!summary) return ctx.fail(summary.error());
    return exit_code::ok;
}

}  // namespace

void register_serve(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("serve", "Serve webhooks, the REST API, schedules, /metrics and health checks");
    cmd->add_option("--listen", opt->listen,
                    "HOST:PORT to listen on (default: serve.listen, else 127.0.0.1:8787; port 0 picks one)");
    cmd->add_option("--workers", opt->workers,
                    "run this many tasks at once in this process (default 0: run workers apart)")
        ->check(CLI::Range(0, 256));
    cmd->add_option("--max-body", opt->max_body,
                    "largest request body, e.g. 5MiB (default: serve.max_body, else 5MiB)");
    cmd->add_option("--queue", opt->queue, "queue URL (default: queue.url, else the state db)");
    cmd->add_option("--sandbox", opt->sandbox, "for --workers: bwrap (default) or none (development)");
    cmd->add_option("--grace", opt->grace,
                    "for --workers: time to finish running tasks after a stop signal (default 30s)");
    add_delivery_flags(cmd, opt->delivery);
    opt->policies.add_to(cmd);
    cmd->footer(
        "Endpoints:\n"
        "  POST /hooks/github        X-Hub-Signature-256 checked with webhooks.github.secret_env; replayed\n"
        "                            X-GitHub-Delivery ids answer 200 with the first delivery's tasks\n"
        "  POST /hooks/alertmanager  bearer token = webhooks.alertmanager.secret_env\n"
        "  POST /hooks/pagerduty     X-PagerDuty-Signature checked with webhooks.pagerduty.secret_env\n"
        "  POST /hooks/sns           basic-auth password or bearer token = webhooks.sns.secret_env\n"
        "  POST /hooks/gitlab        X-Gitlab-Token = webhooks.gitlab.secret_env (merge request reviews)\n"
        "  POST /v1/tasks, GET /v1/tasks/ID, GET /v1/tasks/ID/events, POST /v1/tasks/ID/approve|reject\n"
        "                            bearer tokens from serve.api_tokens_file (lines: NAME TOKEN, or\n"
        "                            NAME sha256:HEX); the token's name is who asks and who approves,\n"
        "                            for the groups approvals.groups.<group>.members lists it in\n"
        "  POST /v1/credentials     the broker of distributed workers: tokens from serve.worker_tokens_file;\n"
        "                            mints with creds.provider only a leased task's own scopes (fetch of its\n"
        "                            repository; from tier 2 push of its bot branch, its pull request, its CI),\n"
        "                            for the worker holding the lease (workerId, leaseToken), until the lease ends;\n"
        "                            a token NAME mints for worker ids NAME and NAME/... only\n"
        "  GET /v1/credentials/identity  the worker token's NAME (a broker-provider worker's id is NAME/host:pid)\n"
        "  GET /metrics (Prometheus), /healthz, /readyz\n"
        "A hook without a secret is off (403). Accepted deliveries answer 202 with the task ids.\n"
        "With forge.kind github or gitlab, reviewers approve infra-agent's pull requests where they are: an\n"
        "approving review (a merge request approval) or an `/infra-agent approve` comment counts for a group\n"
        "of the task when its author is a member (approvals.groups.<group>.members, or the forge team in\n"
        "github_team / gitlab_group, asked of the forge's API as the approval arrives); `/infra-agent apply`\n"
        "on a tier-4 pull request runs the gated apply under the same check. The requester never approves;\n"
        "a push to the branch after an approval dismisses it. Refusals are answered with a comment.\n"
        "schedules: in config fire on their cron expressions. Notifications go to the Slack-compatible\n"
        "incoming webhook in $INFRA_AGENT_SLACK_WEBHOOK_URL (or the variable notify.slack_webhook_url_env names).\n"
        "Events that workers send through the queue (worker --events queue) are moved into the state db.\n"
        "SIGTERM or SIGINT stops accepting and lets running tasks finish within --grace; exit 0.");
    ctx.on_run(cmd, [opt, &ctx] { return serve(*opt, ctx); });
}

}  // namespace infra::cli
