// `infra-agent validate [DIR]`: the validation pipeline on a directory, as
// the worker runs it before proposing a change.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "core/change/validate_directory.hpp"
#include "core/report.hpp"

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
    if (!report.hint.empty()) md += "\n" + report.hint + "\n";
    return md;
}

int validate(const Options& opt, Context& ctx)
{
    // Without --task the task and decision are empty: the plan may change anything but delete.
    DecidedTask dt;
    if (!opt.task.empty())
        if (int code = read_and_decide(ctx, opt.task, opt.policies, "--task", dt)) return code;
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());
    auto v = core::change::validate_directory(*site, opt.dir, dt.task, opt.task.empty() ? nullptr : &dt.decision,
                                              opt.sandbox);
    if (!v) return ctx.fail(v.error());
    const auto& report = v->report;
    for (const auto& s : v->remote)
        spdlog::warn("step {} is a remote pipeline ({}): it runs on the pushed branch of a task, not here", s.name,
                     s.pipeline->kind);
    std::string format = opt.format.empty() ? (ctx.json() ? "json" : "text") : opt.format;
    if (core::report::in_github_actions()) {
        core::report::append_step_summary(markdown_of(report, opt.dir));
        for (const auto& f : v->findings) std::fprintf(stderr, "%s\n", core::report::actions_annotation(f).c_str());
    }
    if (format == "sarif") {
        ctx.print(core::report::sarif(v->findings, INFRA_AGENT_VERSION).dump(2) + "\n");
    } else if (format == "markdown") {
        ctx.print(markdown_of(report, opt.dir));
    } else if (format == "json") {
        ctx.record("validation", report.to_json());
    } else {
        for (const auto& s : report.steps) {
            ctx.print(std::string(s.ok ? "ok    " : "FAIL  ") + s.name + "  (" +
                      std::to_string(static_cast<long>(s.ms)) + " ms)\n");
            if (!s.ok) ctx.print(s.output);
        }
        for (const auto& s : report.skipped) ctx.print("skip  " + s + "\n");
        if (!report.plan_summary.empty()) ctx.print("plan: " + report.plan_summary + "\n");
    }
    // A change that fails is exit 3; a pipeline that could not run here (no registry) is exit 1.
    if (!report.ok)
        return ctx.fail(core::make_error(
            report.unavailable ? core::Errc::unavailable : core::Errc::denied,
            (report.unavailable ? "could not validate: " : "validation failed: ") + report.failure, report.hint));
    if (opt.detailed && report.changes) return exit_code::changes;
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
                "Exit 0 when it passes, 3 when it fails, 2 with --detailed-exitcode when the plan has changes, 1 when\n"
                "it cannot run here (the providers the root uses cannot be installed).");
    ctx.on_run(cmd, [opt, &ctx] { return validate(*opt, ctx); });
}

}  // namespace infra::cli
