// `infra-agent drift [DIRS]`: plan every Terraform root under DIRS and emit
// one drift-detection task per drifted root (JSON Lines, for `enqueue`), or
// admit them at once with --enqueue. --detailed-exitcode exits 2 on drift,
// as terraform does.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/task_stream.hpp"
#include "core/drift_scan.hpp"
#include "core/report.hpp"

#include <spdlog/spdlog.h>

namespace infra::cli {
namespace {

struct Options {
    std::vector<std::string> dirs;
    bool detailed_exitcode = false;
    std::string format;
    core::drift::ScanOptions scan;
    PolicyFlags policies;
};

/// The scan as a markdown table and a list of its findings (for
/// --format markdown and GitHub Actions' job summary).
std::string markdown(const core::drift::Scan& scan)
{
    using Status = core::drift::Root::Status;
    std::vector<std::vector<std::string>> table;
    for (const auto& r : scan.roots) {
        if (r.status == Status::failed) table.push_back({r.name, "plan failed", "", "", ""});
        else
            table.push_back({r.name, r.status == Status::drifted ? "drift" : "no drift", std::to_string(r.add),
                             std::to_string(r.change), std::to_string(r.remove)});
    }
    std::string md = "### infra-agent drift\n\n" +
                     core::report::markdown_table({"root", "status", "add", "change", "destroy"}, table);
    if (!scan.findings.empty()) {
        md += "\n";
        for (const auto& f : scan.findings)
            md += "- " + f.message +
                  (f.file.empty() ? "" : " (`" + f.file + (f.line ? ":" + std::to_string(f.line) : "") + "`)") + "\n";
    }
    return md;
}

/// What was queued, and what was closed, in the chosen format.
int show_queued(const core::drift::Scan& scan, const std::string& format, Context& ctx)
{
    int worst = exit_code::ok;
    if (format == "text")
        for (const auto& c : scan.closed)
            ctx.print(c.root + ": drift gone; pull request #" + std::to_string(c.pull_request.number) + " (" +
                      c.pull_request.url + ") closed\n");
    for (const auto& a : scan.admitted) {
        if (a.state == "denied") worst = worse(worst, exit_code::denied);
        if (format == "json")
            ctx.record("enqueue", {{"id", a.id}, {"state", a.state}, {"duplicate", a.duplicate}, {"reason", a.reason}});
        else if (format != "text")
            spdlog::info("{}: {}{}", a.id, a.state, a.reason.empty() ? "" : " (" + a.reason + ")");
        else
            ctx.print("  " + a.id + "  " + a.state + (a.duplicate ? "  (this root's task is still open)" : "") +
                      (a.reason.empty() ? "" : "  " + a.reason) + "\n");
    }
    return worst;
}

int drift(Options& opt, Context& ctx)
{
    if (opt.dirs.empty()) opt.dirs.push_back(".");
    for (const auto& d : opt.dirs) opt.scan.dirs.push_back(d);
    opt.scan.directory = std::filesystem::current_path();
    opt.scan.policies = opt.policies;
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());
    std::string format = opt.format.empty() ? (ctx.json() ? "json" : "text") : opt.format;
    // Each root is told of as its plan ends: in text on stdout; in the other
    // formats, which put nothing but their document there, only a failure (on stderr).
    auto planned = [&](const core::drift::Root& r) {
        using Status = core::drift::Root::Status;
        if (r.status == Status::failed) spdlog::error("{}: {}", r.name, r.error);
        else if (format != "text") return;
        else if (r.status == Status::clean) ctx.print(r.name + ": no drift\n");
        else
            ctx.print(r.name + ": drift (" + std::to_string(r.add) + " to add, " + std::to_string(r.change) +
                      " to change, " + std::to_string(r.remove) + " to destroy)\n");
    };
    auto scan = core::drift::scan(*site, opt.scan, planned);
    if (!scan) return ctx.fail(scan.error());
    if (scan->roots.empty()) {
        ctx.note("no Terraform roots under " + opt.dirs.front() + (opt.dirs.size() > 1 ? " ..." : ""));
        return exit_code::ok;
    }
    int worst = exit_code::ok;
    bool drifted = false;
    for (const auto& r : scan->roots) {
        if (r.status == core::drift::Root::Status::failed) worst = exit_code::failure;
        drifted = drifted || r.status == core::drift::Root::Status::drifted;
    }
    if (core::report::in_github_actions()) {
        // Inside GitHub Actions: the job summary and one annotation per finding
        // (on stderr, which the runner reads too, so stdout stays data).
        core::report::append_step_summary(markdown(*scan));
        for (const auto& f : scan->findings) std::fprintf(stderr, "%s\n", core::report::actions_annotation(f).c_str());
    }
    if (format == "sarif") ctx.print(core::report::sarif(scan->findings, INFRA_AGENT_VERSION).dump(2) + "\n");
    else if (format == "markdown") ctx.print(markdown(*scan));
    else if (format == "json")
        for (const auto& t : scan->tasks) ctx.emit(core::to_json(t));
    worst = worse(worst, show_queued(*scan, format, ctx));
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
    cmd->add_flag("--refresh-only", opt->scan.refresh_only, "plan -refresh-only: changes made outside Terraform only");
    cmd->add_flag("--detailed-exitcode", opt->detailed_exitcode,
                  "exit 2 when any root drifted (terraform's convention)");
    cmd->add_flag("--enqueue", opt->scan.enqueue, "decide and queue the tasks now instead of printing them");
    cmd->add_option("--repo-id", opt->scan.repository,
                    "repository id for the tasks (default: repository.id, else the checkout's remote)");
    cmd->add_option("--queue", opt->scan.queue, "with --enqueue: queue URL (default: queue.url, else the state db)");
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
