// `infra-agent drift [DIRS]`: plan every Terraform root under DIRS and emit
// one drift-detection task per drifted root (JSON Lines, for `enqueue`), or
// admit them at once with --enqueue. --detailed-exitcode exits 2 on drift,
// as terraform does.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/admission.hpp"
#include "cli/policy_common.hpp"
#include "cli/task_stream.hpp"
#include "core/change/delivery.hpp"
#include "core/drift.hpp"
#include "core/git.hpp"
#include "core/intake.hpp"
#include "core/state.hpp"

#include <spdlog/spdlog.h>

namespace infra::cli {
namespace {

namespace fs = std::filesystem;

struct Options {
    std::vector<std::string> dirs;
    bool refresh_only = false;
    bool detailed_exitcode = false;
    bool enqueue = false;
    std::string repository;
    std::string queue;
    PolicyFlags policies;
};

int drift(Options& opt, Context& ctx)
{
    if (opt.dirs.empty()) opt.dirs.push_back(".");
    std::vector<fs::path> dirs;
    for (const auto& d : opt.dirs) {
        std::error_code ec;
        if (!fs::is_directory(d, ec))
            return ctx.fail(core::make_error(core::Errc::usage, "'" + d + "' is not a directory"));
        dirs.push_back(d);
    }
    auto config = ctx.config();
    if (!config) return ctx.fail(config.error());
    std::string repo = opt.repository;
    if (repo.empty()) repo = (*config)->get_or("repository.id", (*config)->get_or("git.repository", ""));
    auto top = core::git::find_worktree(fs::current_path());
    if (repo.empty() && top) repo = core::change::repository_name(top->string());

    auto roots = core::drift::find_roots(dirs);
    if (roots.empty()) {
        ctx.note("no Terraform roots under " + opt.dirs.front() + (opt.dirs.size() > 1 ? " ..." : ""));
        return exit_code::ok;
    }
    core::drift::Options o;
    o.refresh_only = opt.refresh_only;
    bool json = ctx.json_output() || !ctx.stdout_is_tty();
    auto cwd = fs::current_path();
    std::vector<core::AgentTask> tasks;
    int worst = exit_code::ok;
    for (const auto& root : roots) {
        std::string name = fs::relative(root, top ? *top : cwd).lexically_normal().string();
        if (name.empty()) name = ".";
        auto r = core::drift::plan(root, o);
        if (!r) return ctx.fail(r.error());
        if (!r->error.empty()) {
            spdlog::error("{}: {}", name, r->error);
            worst = worse(worst, exit_code::failure);
            continue;
        }
        if (!r->drifted) {
            if (!json) ctx.print(name + ": no drift\n");
            continue;
        }
        if (!json)
            ctx.print(name + ": drift (" + std::to_string(r->add) + " to add, " + std::to_string(r->change) + " to change, " +
                      std::to_string(r->remove) + " to destroy)\n");
        tasks.push_back(core::drift::task_for(*r, name, repo, opt.refresh_only));
    }
    bool drifted = !tasks.empty();

    if (!opt.enqueue) {
        if (json)
            for (const auto& t : tasks) ctx.emit(core::to_json(t));
    } else if (!tasks.empty()) {
        auto admission = open_admission(ctx, opt.policies, opt.queue);
        if (!admission) return ctx.fail(admission.error());
        core::intake::Options io;
        io.stage = "drift";
        auto admitted = (*admission)->admit(std::move(tasks), io);
        if (!admitted) return ctx.fail(admitted.error());
        for (const auto& a : *admitted) {
            if (a.state == "denied") worst = worse(worst, exit_code::denied);
            if (json)
                ctx.emit({{"type", "enqueue"}, {"id", a.id}, {"state", a.state}, {"duplicate", a.duplicate}, {"reason", a.reason}});
            else
                ctx.print("  " + a.id + "  " + a.state + (a.duplicate ? "  (this root's task is still open)" : "") +
                          (a.reason.empty() ? "" : "  " + a.reason) + "\n");
        }
    }
    if (worst != exit_code::ok) return worst;
    return drifted && opt.detailed_exitcode ? exit_code::changes : exit_code::ok;
}

}  // namespace

void register_drift(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("drift", "Plan every Terraform root and emit a drift task for each one that drifted");
    cmd->add_option("dirs", opt->dirs, "directories to search for Terraform roots (default: .)");
    cmd->add_flag("--refresh-only", opt->refresh_only, "plan -refresh-only: changes made outside Terraform only");
    cmd->add_flag("--detailed-exitcode", opt->detailed_exitcode, "exit 2 when any root drifted (terraform's convention)");
    cmd->add_flag("--enqueue", opt->enqueue, "decide and queue the tasks now instead of printing them");
    cmd->add_option("--repo-id", opt->repository, "repository id for the tasks (default: repository.id, else the checkout's remote)");
    cmd->add_option("--queue", opt->queue, "with --enqueue: queue URL (default: queue.url, else the state db)");
    opt->policies.add_to(cmd);
    cmd->footer("A root is a directory with .tf files that no other directory uses as a local module. Each is\n"
                "initialized when it has no .terraform/ yet and planned with the environment's credentials.\n"
                "A root has at most one open drift task: a later scan finds the open one (dedupe key).\n"
                "Exit 0, or 2 with --detailed-exitcode when something drifted, 1 when a plan failed.");
    ctx.on_run(cmd, [opt, &ctx] { return drift(*opt, ctx); });
}

}  // namespace infra::cli
