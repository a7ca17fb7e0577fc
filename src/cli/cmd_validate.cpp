// `infra-agent validate [DIR]`: the validation pipeline on a directory, as
// the worker runs it before proposing a change.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/sandbox_flag.hpp"
#include "cli/task_stream.hpp"
#include "core/change/open_delivery.hpp"
#include "core/git.hpp"
#include "core/report.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

namespace infra::cli {
namespace {

struct Options {
    std::string dir = ".";
    std::string task;
    std::string sandbox;
    bool detailed = false;
    std::string format;
    PolicyFlags policies;
};

/// The failures of a report as findings: files terraform fmt named, the
/// resources outside the plan's scope where their code declares them, else
/// the failed step itself.
std::vector<core::report::Finding> findings_of(const core::change::Report& report, const std::filesystem::path& root,
                                               const std::filesystem::path& base)
{
    std::vector<core::report::Finding> out;
    std::string prefix;
    if (auto rel = std::filesystem::relative(root, base); !rel.empty() && rel != ".")
        prefix = rel.generic_string() + "/";
    for (const auto& s : report.steps) {
        if (s.ok) continue;
        std::string rule = "infra-agent/validation/" + s.name;
        for (auto& ch : rule)
            if (ch == ' ') ch = '-';
        std::size_t before = out.size();
        for (const auto& line : core::text::split(s.output, '\n')) {
            std::string t(core::text::trim(line));
            if (t.rfind("scope: ", 0) == 0) {
                core::report::Finding f{rule, "The plan touches what the task may not", "error", t.substr(7), "", 0,
                                        ""};
                f.resource = t.substr(7, t.find(' ', 7) - 7);
                if (auto at = core::report::locate_resource(root, f.resource, base)) {
                    f.file = at->first;
                    f.line = at->second;
                }
                out.push_back(std::move(f));
            } else if (auto colon = t.find(".tf: "); colon != std::string::npos) {
                out.push_back(
                    {rule, "terraform fmt", "error", t.substr(colon + 5), prefix + t.substr(0, colon + 3), 0, ""});
            }
        }
        if (out.size() == before)
            out.push_back({rule, "Validation step " + s.name + " failed", "error",
                           report.failure.empty() ? s.name + " failed" : report.failure, prefix, 0, ""});
    }
    return out;
}

std::string markdown_of(const core::change::Report& report, const std::string& dir)
{
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : report.steps)
        rows.push_back({s.name, s.ok ? "passed" : "**failed**", std::to_string(static_cast<long>(s.ms)) + " ms"});
    std::string md =
        "### infra-agent validate `" + dir + "`\n\n" + core::report::markdown_table({"step", "result", "time"}, rows);
    if (!report.plan_summary.empty()) md += "\nPlan: " + report.plan_summary + "\n";
    for (const auto& s : report.skipped) md += "\nSkipped: " + s + "\n";
    if (!report.failure.empty()) md += "\n" + report.failure + "\n";
    return md;
}

int validate(const Options& opt, Context& ctx)
{
    // Without --task the task and decision are empty: the plan may change anything but delete.
    core::AgentTask task;
    core::policy::Decision decision;
    const core::policy::Decision* d_ptr = nullptr;
    if (!opt.task.empty()) {
        DecidedTask dt;
        if (int code = read_and_decide(ctx, opt.task, opt.policies, "--task", dt)) return code;
        task = std::move(dt.task);
        decision = std::move(dt.decision);
        d_ptr = &decision;
    }
    auto sandbox = open_sandbox(ctx, opt.sandbox, d_ptr);
    if (!sandbox) return ctx.fail(sandbox.error());
    auto vopt = ctx.open(core::change::validation_options, &*sandbox);
    if (!vopt) return ctx.fail(vopt.error());
    // In a git checkout, the change is what differs from HEAD, and
    // formatting that was already off before it is tolerated.
    std::optional<core::git::Checkout> co;
    if (auto opened = core::git::open(opt.dir)) {
        auto changed = core::git::changed_paths(*opened);
        if (changed) {
            co = *opened;
            vopt->changed = std::move(*changed);
            vopt->base_content = [&co](const std::string& path) -> std::optional<std::string> {
                auto c = core::git::file_at_base(*co, path);
                return c ? *c : std::nullopt;
            };
        }
    }
    if (!std::filesystem::is_directory(opt.dir))
        return ctx.fail(core::make_error(core::Errc::usage, "no directory " + core::text::quote(opt.dir)));
    // The directory's own providers, as terraform init would install them here.
    auto dir = std::filesystem::absolute(opt.dir).lexically_normal();
    vopt->base_tree = [dir]() -> core::Result<std::filesystem::path> { return dir; };
    auto report = core::change::validate(opt.dir, {"."}, task, decision, *vopt);
    if (!report) return ctx.fail(report.error());
    for (const auto& s : vopt->steps)
        if (s.pipeline)
            spdlog::warn("step {} is a remote pipeline ({}): it runs on the pushed branch of a task, not here", s.name,
                         s.pipeline->kind);
    std::string format = opt.format.empty() ? (ctx.json() ? "json" : "text") : opt.format;
    auto base = core::git::find_worktree(std::filesystem::absolute(opt.dir)).value_or(std::filesystem::current_path());
    auto findings = findings_of(*report, std::filesystem::absolute(opt.dir), base);
    if (core::report::in_github_actions()) {
        core::report::append_step_summary(markdown_of(*report, opt.dir));
        for (const auto& f : findings) std::fprintf(stderr, "%s\n", core::report::actions_annotation(f).c_str());
    }
    if (format == "sarif") {
        ctx.print(core::report::sarif(findings, INFRA_AGENT_VERSION).dump(2) + "\n");
    } else if (format == "markdown") {
        ctx.print(markdown_of(*report, opt.dir));
    } else if (format == "json") {
        ctx.emit(report->to_json());
    } else {
        for (const auto& s : report->steps) {
            ctx.print(std::string(s.ok ? "ok    " : "FAIL  ") + s.name + "  (" +
                      std::to_string(static_cast<long>(s.ms)) + " ms)\n");
            if (!s.ok) ctx.print(s.output);
        }
        for (const auto& s : report->skipped) ctx.print("skip  " + s + "\n");
        if (!report->ran) ctx.print("nothing to run: terraform is not on PATH and validation.steps is empty\n");
        if (!report->plan_summary.empty()) ctx.print("plan: " + report->plan_summary + "\n");
    }
    if (!report->ok) return ctx.fail(core::make_error(core::Errc::denied, "validation failed: " + report->failure));
    if (opt.detailed && report->changes) return exit_code::changes;
    return exit_code::ok;
}

}  // namespace

void register_validate(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("validate", "Run the validation pipeline on a Terraform directory");
    cmd->add_option("dir", opt->dir, "the Terraform root (default: the current directory)");
    cmd->add_option("--task", opt->task,
                    "the task the change is for (a file, or - for stdin): enables the plan-scope check");
    cmd->add_option("--sandbox", opt->sandbox, "bwrap (default) or none (development; policy must allow it)");
    cmd->add_flag("--detailed-exitcode", opt->detailed, "exit 2 when the plan has changes (terraform's convention)");
    cmd->add_option("--format", opt->format, "text, json (the report), sarif (failures as SARIF 2.1.0) or markdown")
        ->check(CLI::IsMember({"text", "json", "sarif", "markdown"}));
    opt->policies.add_to(cmd);
    cmd->footer("Steps: validation.steps from config.yaml, else terraform fmt -check, init -backend=false, validate,\n"
                "plan -detailed-exitcode and the plan-scope check of show -json, all in the sandbox (no network).\n"
                "Remote pipelines among the steps (pipeline: github-actions, github-checks, gitlab) run when a\n"
                "worker has pushed a task's branch, and are skipped here.\n"
                "Exit 0 when it passes, 3 when it fails, 2 with --detailed-exitcode when the plan has changes.");
    ctx.on_run(cmd, [opt, &ctx] { return validate(*opt, ctx); });
}

}  // namespace infra::cli
