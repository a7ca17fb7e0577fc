// `infra-agent drift [DIRS]`: plan every Terraform root under DIRS and emit
// one drift-detection task per drifted root (JSON Lines, for `enqueue`), or
// admit them at once with --enqueue. --detailed-exitcode exits 2 on drift,
// as terraform does.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/task_stream.hpp"
#include "core/change/delivery.hpp"
#include "core/change/forge.hpp"
#include "core/change/open_follow.hpp"
#include "core/drift.hpp"
#include "core/events/event.hpp"
#include "core/git.hpp"
#include "core/intake.hpp"
#include "core/json_access.hpp"
#include "core/open_intake.hpp"
#include "core/report.hpp"
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
    std::string format;
    PolicyFlags policies;
};

/// The drift of one root as findings: each resource changed outside
/// Terraform (else each planned change), where its code declares it.
void add_findings(const core::drift::Report& r, const std::string& name, const fs::path& base,
                  std::vector<core::report::Finding>& out)
{
    const auto& list = r.drift.empty() ? r.changes : r.drift;
    for (const auto& c : list) {
        core::report::Finding f;
        f.rule = "infra-agent/drift";
        f.rule_title = "Infrastructure differs from its Terraform code";
        f.resource = core::string_member(c, "address");
        std::string action = core::string_member(c, "action");
        f.message = f.resource +
                    (r.drift.empty() ? " would be " + action + "d by terraform apply"
                                     : " changed outside Terraform (" + action + ")") +
                    " in " + name;
        if (auto at = core::report::locate_resource(r.root, f.resource, base)) {
            f.file = at->first;
            f.line = at->second;
        } else {
            f.file = name == "." ? "" : name;
        }
        out.push_back(std::move(f));
    }
}

/// The open pull requests of drifted roots that no longer drift: each is
/// closed on its forge with a comment that says why (pr.obsolete), and
/// recorded (drift.resolved).
int close_resolved(const std::vector<std::string>& roots, const std::string& repo, bool print, Context& ctx)
{
    if (roots.empty()) return exit_code::ok;
    auto db = core::open_state(ctx.home());
    if (!db) return ctx.fail(db.error());
    core::change::PrStore store(**db);
    auto open = store.list("open", repo, 1000);
    if (!open) return ctx.fail(open.error());
    std::unique_ptr<core::events::StateSink> sink;
    std::optional<core::change::FollowSetup> follow;
    for (const auto& name : roots) {
        std::string key = core::drift::dedupe_key(repo, name);
        for (const auto& pr : *open) {
            if (pr.dedupe_key != key) continue;
            if (!sink) {
                auto s = core::events::StateSink::open(ctx.home().state_location());
                if (!s) return ctx.fail(s.error());
                sink = std::move(*s);
                auto f = ctx.open(core::change::open_follower, core::change::DeliveryOverrides{}, sink.get(), nullptr);
                if (!f) return ctx.fail(f.error());
                follow = std::move(*f);
            }
            auto closed = follow->follower->obsolete(
                pr, "closed: " + name + " no longer drifts from its code (a drift scan found no difference)");
            if (!closed) return ctx.fail(closed.error());
            sink->emit({"drift.resolved",
                        pr.task_id,
                        "",
                        {{"root", name},
                         {"dedupeKey", key},
                         {"pullRequest", {{"id", pr.id}, {"number", pr.number}, {"url", pr.url}}}}});
            if (print)
                ctx.print(name + ": drift gone; pull request #" + std::to_string(pr.number) + " (" + pr.url +
                          ") closed\n");
        }
    }
    if (sink) sink->flush();
    return exit_code::ok;
}

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
    auto top = core::git::find_worktree(fs::current_path());
    std::string repo = core::change::repository_id(**config, opt.repository, top ? top->string() : "");

    auto roots = core::drift::find_roots(dirs);
    if (roots.empty()) {
        ctx.note("no Terraform roots under " + opt.dirs.front() + (opt.dirs.size() > 1 ? " ..." : ""));
        return exit_code::ok;
    }
    core::drift::Options o;
    o.refresh_only = opt.refresh_only;
    std::string format = opt.format.empty() ? (ctx.json() ? "json" : "text") : opt.format;
    bool json = format != "text";  // nothing but the chosen document on stdout
    bool actions = core::report::in_github_actions();
    std::vector<core::report::Finding> findings;
    std::vector<std::vector<std::string>> table;
    auto cwd = fs::current_path();
    std::vector<core::AgentTask> tasks;
    std::vector<std::string> clean;
    int worst = exit_code::ok;
    for (const auto& root : roots) {
        std::string name = fs::relative(root, top ? *top : cwd).lexically_normal().string();
        if (name.empty()) name = ".";
        auto r = core::drift::plan(root, o);
        if (!r) return ctx.fail(r.error());
        if (!r->error.empty()) {
            spdlog::error("{}: {}", name, r->error);
            worst = worse(worst, exit_code::failure);
            findings.push_back({"infra-agent/drift/plan-failed", "terraform plan failed", "error",
                                name + ": " + r->error, name == "." ? "" : name, 0, ""});
            table.push_back({name, "plan failed", "", "", ""});
            continue;
        }
        if (!r->drifted) {
            if (!json) ctx.print(name + ": no drift\n");
            table.push_back({name, "no drift", "0", "0", "0"});
            clean.push_back(name);
            continue;
        }
        add_findings(*r, name, top ? *top : cwd, findings);
        table.push_back({name, "drift", std::to_string(r->add), std::to_string(r->change), std::to_string(r->remove)});
        if (!json)
            ctx.print(name + ": drift (" + std::to_string(r->add) + " to add, " + std::to_string(r->change) +
                      " to change, " + std::to_string(r->remove) + " to destroy)\n");
        tasks.push_back(core::drift::task_for(*r, name, repo, opt.refresh_only));
    }
    bool drifted = !tasks.empty();

    std::string markdown = "### infra-agent drift\n\n" +
                           core::report::markdown_table({"root", "status", "add", "change", "destroy"}, table);
    if (!findings.empty()) {
        markdown += "\n";
        for (const auto& f : findings)
            markdown += "- " + f.message +
                        (f.file.empty() ? "" : " (`" + f.file + (f.line ? ":" + std::to_string(f.line) : "") + "`)") +
                        "\n";
    }
    if (actions) {
        // Inside GitHub Actions: the job summary and one annotation per finding
        // (on stderr, which the runner reads too, so stdout stays data).
        core::report::append_step_summary(markdown);
        for (const auto& f : findings) std::fprintf(stderr, "%s\n", core::report::actions_annotation(f).c_str());
    }
    if (format == "sarif") ctx.print(core::report::sarif(findings, INFRA_AGENT_VERSION).dump(2) + "\n");
    else if (format == "markdown") ctx.print(markdown);

    if (opt.enqueue)
        if (int rc = close_resolved(clean, repo, format == "text", ctx); rc != exit_code::ok) return rc;
    if (!opt.enqueue) {
        if (format == "json")
            for (const auto& t : tasks) ctx.emit(core::to_json(t));
    } else if (!tasks.empty()) {
        auto admission = ctx.open(core::open_intake, opt.policies, opt.queue);
        if (!admission) return ctx.fail(admission.error());
        core::intake::Options io;
        io.stage = "drift";
        auto admitted = (*admission)->admit(std::move(tasks), io);
        if (!admitted) return ctx.fail(admitted.error());
        for (const auto& a : *admitted) {
            if (a.state == "denied") worst = worse(worst, exit_code::denied);
            if (format == "json")
                ctx.record("enqueue",
                           {{"id", a.id}, {"state", a.state}, {"duplicate", a.duplicate}, {"reason", a.reason}});
            else if (format != "text")
                spdlog::info("{}: {}{}", a.id, a.state, a.reason.empty() ? "" : " (" + a.reason + ")");
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
    auto* cmd =
        app.add_subcommand("drift", "Plan every Terraform root and emit a drift task for each one that drifted");
    cmd->add_option("dirs", opt->dirs, "directories to search for Terraform roots (default: .)");
    cmd->add_flag("--refresh-only", opt->refresh_only, "plan -refresh-only: changes made outside Terraform only");
    cmd->add_flag("--detailed-exitcode", opt->detailed_exitcode,
                  "exit 2 when any root drifted (terraform's convention)");
    cmd->add_flag("--enqueue", opt->enqueue, "decide and queue the tasks now instead of printing them");
    cmd->add_option("--repo-id", opt->repository,
                    "repository id for the tasks (default: repository.id, else the checkout's remote)");
    cmd->add_option("--queue", opt->queue, "with --enqueue: queue URL (default: queue.url, else the state db)");
    cmd->add_option("--format", opt->format,
                    "text, json (the drift tasks, JSON Lines), sarif (SARIF 2.1.0) or markdown")
        ->check(CLI::IsMember({"text", "json", "sarif", "markdown"}));
    opt->policies.add_to(cmd);
    cmd->footer("A root is a directory with .tf files that no other directory uses as a local module. Each is\n"
                "initialized when it has no .terraform/ yet and planned with the environment's credentials.\n"
                "A root has at most one open drift task: a later scan finds the open one (dedupe key), and\n"
                "a later task of the root updates its pull request. Each task lists the drifted attributes\n"
                "(sensitive values left out); policy's drift.mode says whether the builtin agent codifies\n"
                "them (the default), reverts them through a tier-4 saved plan, or only reports them.\n"
                "With --enqueue, a root that no longer drifts while its pull request is open has that pull\n"
                "request closed, with a comment that says why (events pr.obsolete and drift.resolved).\n"
                "Exit 0, or 2 with --detailed-exitcode when something drifted, 1 when a plan failed.");
    ctx.on_run(cmd, [opt, &ctx] { return drift(*opt, ctx); });
}

}  // namespace infra::cli
