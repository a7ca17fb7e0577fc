// `infra-agent remediate [FINDINGS...]`: the whole path in one command:
// ingest the scanner reports, decide with policy, queue, run an in-process
// worker (agent, validation, branch, push, pull request), and say in one
// line per finding what became of it.
#include "cli/commands.hpp"
#include "cli/delivery_flags.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/remediate_view.hpp"
#include "core/git.hpp"
#include "core/input.hpp"
#include "core/remediate.hpp"
#include "core/signals/request.hpp"

#include <cstdlib>

#include <unistd.h>

namespace infra::cli {
namespace {

struct Options {
    core::remediate::Options run;
    std::string format;
    PolicyFlags policies;
};

int remediate(Options& opt, Context& ctx)
{
    // A person who gave no report would wait on a terminal for one to be typed.
    if (opt.run.reports.empty() && ::isatty(0))
        return ctx.fail(core::make_error(core::Errc::usage, "remediate needs a scanner report, and none was given",
                                         "name its file (infra-agent remediate checkov.json), or pipe one in with -"));
    // A report that cannot be read, or whose format cannot be told, leaves
    // nothing behind, not even a state home.
    for (const auto& file : opt.run.reports) {
        if (file == "-") continue;
        auto input = core::ByteSource::open(file);
        if (!input) return ctx.fail(input.error());
        if (auto parser = core::signals::parser_for(ctx.signals(), opt.run.source, **input, {}); !parser)
            return ctx.fail(parser.error());
    }
    // Inside a git checkout with no state home anywhere, the checkout gets its own.
    auto cwd = std::filesystem::current_path();
    auto top = core::git::find_worktree(cwd);
    if (ctx.globals().home.empty() && !std::getenv("INFRA_AGENT_HOME") && top &&
        core::resolve_home(std::nullopt, cwd).origin == "default") {
        auto made = core::init_home(*top / ".infra-agent");
        if (!made) return ctx.fail(made.error());
        ctx.globals().home = (*top / ".infra-agent").string();
        if (made->created) ctx.note("created " + ctx.globals().home + " (state for this repository)");
    }
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());
    core::remediate::Options& run = opt.run;
    if (run.delivery.repo.empty() && site->config.get_or("git.repo", "").empty()) {
        if (!top)
            return ctx.fail(core::make_error(core::Errc::usage, "not inside a git repository, and no repository given",
                                             "run remediate in a checkout, or pass --repo URL"));
        run.delivery.repo = top->string();
    }
    if (run.reports.empty()) run.reports.push_back("-");
    run.policies = opt.policies;
    run.note = [&ctx](const std::string& what) { ctx.note(what); };
    // Progress on a terminal; silent in pipes and CI logs, where the lines say it all.
    if (ctx.stderr_is_tty())
        run.working = [&ctx](std::size_t n) {
            ctx.note("working on " + std::to_string(n) + " finding" + (n == 1 ? "" : "s") + "...");
        };

    auto outcome = core::remediate::run(*site, run);
    if (!outcome) return ctx.fail(outcome.error());
    if (outcome->findings.empty()) {
        ctx.note("nothing to remediate: no failed findings (" + std::to_string(outcome->skipped) + " skipped)");
        return exit_code::ok;
    }
    return show_findings(ctx, outcome->findings, opt.format);
}

}  // namespace

void register_remediate(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "remediate", "Fix scanner findings as pull requests: ingest, policy, queue, agent, validation, PR");
    cmd->add_option("findings", opt->run.reports,
                    "scanner reports (Checkov, Trivy, tfsec, Prowler, SARIF ...), or - for stdin");
    cmd->add_option("--source", opt->run.source, "the reports' format (default: detected)");
    cmd->add_option("--root", opt->run.root,
                    "the directory the scanner scanned, stripped from absolute paths in reports (tfsec's)");
    cmd->add_option("--agent", opt->run.agent,
                    "agent for every finding (default: the task type's, builtin for findings)");
    cmd->add_flag("--dry-run", opt->run.dry_run, "decide and say what would happen; queue and change nothing");
    cmd->add_option("--sandbox", opt->run.sandbox, "bwrap (default) or none (development; policy must allow it)");
    cmd->add_option("--format", opt->format, "text, json (a line per finding) or markdown (a table, for CI summaries)")
        ->check(CLI::IsMember({"text", "json", "markdown"}));
    add_delivery_flags(cmd, opt->run.delivery);
    opt->policies.add_to(cmd);
    cmd->footer(
        "Inside a git checkout with no configuration, the state goes to .infra-agent/ at its top, the\n"
        "checkout is the repository, fixes come from the builtin agent, branches are pushed back to the\n"
        "checkout and pull requests are recorded locally (infra-agent pr ls).\n"
        "Exit 0 when every finding became a pull request (or needed none), 1 when one failed, 3 when\n"
        "policy denied one, 4 when one waits for approval.\n"
        "Inside GitHub Actions the table also goes to the job summary ($GITHUB_STEP_SUMMARY), and each finding\n"
        "that failed or was denied becomes an ::error annotation.");
    ctx.on_run(cmd, [opt, &ctx] { return remediate(*opt, ctx); });
}

}  // namespace infra::cli
