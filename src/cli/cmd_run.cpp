// `infra-agent run [FILE]`: one task, now, without the queue (CI jobs),
// recorded in the state home as a worker's run is.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "core/agent/report.hpp"
#include "core/run_now.hpp"

namespace infra::cli {
namespace {

struct Options {
    std::string input = "-";
    PolicyFlags policies;
    core::RunNow run;
};

int run(const Options& opt, Context& ctx)
{
    DecidedTask dt;
    if (int code = read_for_decision(ctx, opt.input, opt.policies, "run", dt)) return code;
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());
    std::string id = dt.task.id;
    auto ran = core::run_now(*site, std::move(dt.task), *dt.engine, opt.run);
    if (!ran) return ctx.fail(ran.error());
    const auto& outcome = ran->outcome;
    if (ctx.json()) {
        nlohmann::json out = {
            {"taskId", id}, {"ok", outcome.ok}, {"result", outcome.result}, {"decision", ran->decision}};
        if (!outcome.ok) out["error"] = outcome.error;
        ctx.record("result", std::move(out));
    } else {
        auto said = core::agent::read_report(outcome.result);
        ctx.print((said.summary.empty() && outcome.ok ? "done" : said.summary) + "\n");
        ctx.print(said.diff);
        for (const auto& n : said.notes) ctx.print("note: " + n + "\n");
    }
    if (!outcome.ok)
        return ctx.fail(core::make_error(core::Errc::unavailable, "task " + id + " failed: " + outcome.error));
    return exit_code::ok;
}

}  // namespace

void register_run(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("run", "Run one task now, without the queue (for CI jobs)");
    cmd->footer("Policy decides first: exit 3 when denied, 4 when it needs approval. The decision, the agent's\n"
                "events and spans go to the state home's audit log, as a worker's do (infra-agent events, trace).");
    cmd->add_option("input", opt->input, "one task as JSON, or - for stdin (default)");
    cmd->add_option("--workspace", opt->run.workspace, "directory the agent works in (default: the current one)");
    cmd->add_option("--sandbox", opt->run.sandbox, "bwrap (default) or none (development; policy must allow it)");
    cmd->add_option("--record", opt->run.record, "append every model exchange to FILE (llm agent)");
    cmd->add_option("--replay", opt->run.replay,
                    "play back a recording instead of calling the model (llm agent; offline)")
        ->check(CLI::ExistingFile);
    opt->policies.add_to(cmd);
    ctx.on_run(cmd, [opt, &ctx] { return run(*opt, ctx); });
}

}  // namespace infra::cli
