// `infra-agent policy eval [FILE]`: attach a decision to every task; exit 0
// when all are allowed, 3 when one is denied, 4 when one waits for approval.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/task_stream.hpp"
#include "core/policy/record.hpp"
#include "core/state.hpp"

namespace infra::cli {
namespace {

struct Options {
    std::string input = "-";
    PolicyFlags policies;
    bool explain = false;
    bool keep_going = false;
    bool record = false;
};

std::string human(const core::AgentTask& t, const core::policy::Decision& d, bool explain)
{
    std::string verdict = !d.allowed ? "denied " : d.pending() ? "pending" : "allowed";
    std::string line = t.id + "  " + std::string(core::to_string(t.type)) + "  " + verdict + "  " + d.reason + "\n";
    if (explain)
        for (const auto& [field, rules] : d.explanation) {
            line += "    " + field + ":";
            for (const auto& r : rules) line += " " + r;
            line += "\n";
        }
    return line;
}

int run(const Options& opt, Context& ctx)
{
    auto engine = load_engine(ctx, opt.policies);
    if (!engine) return ctx.fail(engine.error());
    std::unique_ptr<core::store::Db> db;
    if (opt.record) {
        auto opened = core::open_state(ctx.home());
        if (!opened) return ctx.fail(opened.error());
        db = std::move(*opened);
    }
    bool json = ctx.json();
    int worst = exit_code::ok;
    core::policy::Decision d;
    int code = for_each_task(ctx, opt.input, opt.keep_going, [&](core::AgentTask&& task) {
        task.extra.erase("decision");  // a decision on stdin is a record, never a permission
        nlohmann::json tj = core::to_json(task);
        (*engine)->decide(tj, d, opt.explain);
        nlohmann::json dj = core::policy::to_json(d, opt.explain);
        if (db) {
            if (auto st = core::policy::record_decision(*db, tj, dj, "policy eval"); !st)
                worst = worse(worst, ctx.fail(st.error()));
        }
        if (json) {
            tj["decision"] = std::move(dj);
            ctx.emit(tj);
        } else {
            ctx.print(human(task, d, opt.explain));
        }
        worst = worse(worst, !d.allowed ? exit_code::denied : d.pending() ? exit_code::pending : exit_code::ok);
    });
    // The process ends next: taking apart thousands of compiled rules would
    // only add to a cold start (the kernel frees the memory at once).
    (void)engine->release();
    return worse(code, worst);
}

}  // namespace

void register_policy_eval(CLI::App& policy, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = policy.add_subcommand("eval", "Decide what an agent may do for each task");
    cmd->footer("Reads AgentTasks (JSON Lines, a document or a list) and writes each with its 'decision'.\n"
                "Exit 0: all allowed; 3: one or more denied; 4: one or more wait for approval.");
    cmd->add_option("input", opt->input, "tasks as JSON Lines, or - for stdin (default)");
    opt->policies.add_to(cmd);
    cmd->add_flag("--explain", opt->explain, "say which rules set each field of the decision");
    cmd->add_flag("--keep-going", opt->keep_going, "decide for the rest of the stream after a bad record");
    cmd->add_flag("--record", opt->record, "record the decisions in the state db (for policy replay)");
    ctx.on_run(cmd, [opt, &ctx] { return run(*opt, ctx); });
}

}  // namespace infra::cli
