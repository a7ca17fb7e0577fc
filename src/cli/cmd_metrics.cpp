// `infra-agent metrics`: the Prometheus exposition of what the state store
// recorded (queue depth, task durations, policy decisions, tool and model
// calls, tokens, credential mints, errors), for a textfile collector or a
// one-off look; `serve` answers the same at /metrics with its own counters.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/serve/state_metrics.hpp"
#include "core/state.hpp"

namespace infra::cli {
namespace {

int metrics(const std::string& queue, Context& ctx)
{
    auto db = core::open_state(ctx.home());
    if (!db) return ctx.fail(db.error());
    core::serve::Metrics m;
    m.describe("infra_agent_queue_tasks", "gauge", "Tasks in the queue by state, read at scrape time.");
    auto q = ctx.open_queue(queue);
    if (!q) return ctx.fail(q.error());
    auto stats = (*q)->stats();
    if (!stats) return ctx.fail(stats.error());
    for (const auto& [state, n] : stats->by_state)
        m.set("infra_agent_queue_tasks", {{"state", state}}, static_cast<double>(n));
    core::serve::StateMetrics recorded;
    if (auto st = recorded.refresh(**db); !st) return ctx.fail(st.error());
    ctx.print(m.render() + recorded.render());
    return exit_code::ok;
}

}  // namespace

void register_metrics(CLI::App& app, Context& ctx)
{
    auto queue = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("metrics", "Print metrics in the Prometheus text format, from the state store");
    cmd->add_option("--queue", *queue, "queue URL (default: queue.url, else the state db)");
    cmd->footer("For node_exporter's textfile collector:\n"
                "  infra-agent metrics > /var/lib/node_exporter/infra-agent.prom.$$ &&\n"
                "    mv /var/lib/node_exporter/infra-agent.prom.$$ /var/lib/node_exporter/infra-agent.prom");
    ctx.on_run(cmd, [queue, &ctx] { return metrics(*queue, ctx); });
}

}  // namespace infra::cli
