// `infra-agent worker`: claim, run, ack; until stopped, or --once / --drain.
// SIGTERM or SIGINT stops claiming and lets running tasks finish within the
// grace period; a second signal exits at once (leases then expire).
#include "cli/commands.hpp"
#include "cli/delivery_flags.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "core/events/event.hpp"
#include "core/timeutil.hpp"
#include "core/worker_run.hpp"

#include <spdlog/spdlog.h>

#include <tuple>

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
    core::WorkerRun run;
    core::WorkerOptions& w = run.worker;
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
    run.queue = opt.queue;
    run.policies = opt.policies;
    run.events = opt.events;
    if (opt.events == "stdout") run.sink = std::make_unique<core::events::JsonLinesSink>(stdout);
    run.workspace = opt.workspace;
    run.sandbox = opt.sandbox;
    run.record = opt.record;
    run.delivery = opt.delivery;
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());
    auto done = core::run_worker(*site, std::move(run));
    if (!done) return ctx.fail(done.error());
    show_summary(ctx, done->id, done->counts);
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
