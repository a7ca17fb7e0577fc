// `infra-agent policy replay DIR`: what a proposed policy directory would
// change in the decisions recorded in the state db.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "core/policy/record.hpp"
#include "core/state.hpp"

namespace infra::cli {
namespace {

struct Options {
    std::string dir;
    bool no_bundle = false;
    bool all = false;
    bool detailed_exitcode = false;
    std::size_t limit = 0;
};

int run(const Options& opt, Context& ctx)
{
    // The proposal replaces the policy directories in use: bundle + DIR.
    auto dirs = ctx.policy_dirs({opt.dir}, opt.no_bundle);
    if (!dirs) return ctx.fail(dirs.error());
    auto engine = core::policy::Engine::load(*dirs, ctx.policy_cache_dir());
    if (!engine) return ctx.fail(engine.error());
    auto db = core::open_state(ctx.home());
    if (!db) return ctx.fail(db.error());
    auto report = core::policy::replay(**db, **engine, opt.limit);
    if (!report) return ctx.fail(report.error());
    bool json = ctx.json();
    for (const auto& e : report->entries) {
        if (e.changes.empty() && !opt.all) continue;
        if (json) {
            ctx.record("replay", {{"taskId", e.task_id},
                                  {"recordedAt", e.recorded_at},
                                  {"changed", !e.changes.empty()},
                                  {"changes", e.changes},
                                  {"before", e.before},
                                  {"after", e.after}});
        } else {
            ctx.print((e.changes.empty() ? "  " : "~ ") + e.task_id + "\n");
            for (const auto& c : e.changes) ctx.print("    " + c + "\n");
        }
    }
    nlohmann::json summary = {{"decisions", report->total},
                              {"changed", report->changed},
                              {"newlyDenied", report->newly_denied},
                              {"newlyAllowed", report->newly_allowed},
                              {"policyDigest", (*engine)->digest()}};
    if (json) ctx.record("summary", std::move(summary));
    else
        ctx.print(std::to_string(report->total) + " recorded decisions: " + std::to_string(report->changed) +
                  " would change (" + std::to_string(report->newly_denied) + " newly denied, " +
                  std::to_string(report->newly_allowed) + " newly allowed)\n");
    return opt.detailed_exitcode && report->changed ? exit_code::changes : exit_code::ok;
}

}  // namespace

void register_policy_replay(CLI::App& policy, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = policy.add_subcommand("replay", "Show what a proposed policy directory changes in recorded decisions");
    cmd->footer("Decisions are recorded by enqueue and by 'policy eval --record'. With --detailed-exitcode,\n"
                "exit 2 when a decision would change (terraform's convention).");
    cmd->add_option("dir", opt->dir, "the proposed policy directory")->required();
    cmd->add_flag("--no-bundle", opt->no_bundle, "leave out the installed policy bundle");
    cmd->add_flag("--all", opt->all, "list unchanged decisions too");
    cmd->add_flag("--detailed-exitcode", opt->detailed_exitcode, "exit 2 when something would change");
    cmd->add_option("--limit", opt->limit, "replay at most this many tasks (default all)");
    ctx.on_run(cmd, [opt, &ctx] { return run(*opt, ctx); });
}

}  // namespace infra::cli
