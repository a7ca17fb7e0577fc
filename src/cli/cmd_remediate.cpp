// `infra-agent remediate [FINDINGS...]`: the whole path in one command:
// ingest the scanner reports, decide with policy, queue, run an in-process
// worker (agent, validation, branch, push, pull request), and say in one
// line per finding what became of it.
#include "cli/commands.hpp"
#include "cli/delivery_flags.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/remediate_view.hpp"
#include "cli/sandbox_flag.hpp"
#include "cli/task_stream.hpp"
#include "core/change/delivery.hpp"
#include "core/change/open_follow.hpp"
#include "core/events/trace.hpp"
#include "core/input.hpp"
#include "core/intake.hpp"
#include "core/json_access.hpp"
#include "core/open_intake.hpp"
#include "core/signals/group.hpp"
#include "core/signals/ingest.hpp"
#include "core/state.hpp"
#include "core/text.hpp"
#include "core/worker.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <map>

namespace infra::cli {
namespace {

struct Options {
    std::vector<std::string> findings;
    std::string source;
    std::string agent;
    bool dry_run = false;
    std::string sandbox;
    std::string format;
    DeliveryFlags delivery;
    PolicyFlags policies;
};

std::string describe_finding(const core::TaskFinding& f, const std::string& type, const std::string& fallback_resource)
{
    std::string rule = f.canonical_rule_id.empty() ? type : f.canonical_rule_id;
    std::string resource = f.resource.empty() ? fallback_resource : f.resource;
    std::string where = resource.empty() ? f.file : resource;
    return rule + (where.empty() ? "" : " " + where);
}

/// The findings of a task: a group's, else its one (a task without one
/// still gets its line).
std::vector<core::TaskFinding> findings_of(const core::AgentTask& t)
{
    auto found = core::findings_of(t.payload);
    if (found.empty()) found.emplace_back();
    return found;
}

/// What became of a task the worker did not run, from the queue.
core::Result<core::TaskOutcome> read_back(core::queue::Queue& queue, const std::string& id)
{
    auto e = queue.show(id);
    if (!e) return core::fail(e.error());
    core::TaskOutcome o{e->id, e->state, false, e->result, e->last_error, e->required_approvals};
    // Over pr.max_open or pr.max_per_hour: queued, it goes out as others merge or close.
    if (o.state == core::queue::State::queued && o.error.rfind("waiting: ", 0) == 0) {
        o.waiting = true;
        o.error = o.error.substr(9);
    }
    return o;
}

int remediate(Options& opt, Context& ctx)
{
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
    auto config = ctx.config();
    if (!config) return ctx.fail(config.error());
    if (opt.delivery.repo.empty() && (*config)->get_or("git.repo", "").empty()) {
        if (!top)
            return ctx.fail(core::make_error(core::Errc::usage, "not inside a git repository, and no repository given",
                                             "run remediate in a checkout, or pass --repo URL"));
        opt.delivery.repo = top->string();
    }
    if (opt.findings.empty()) opt.findings.push_back("-");

    // 1. Ingest.
    std::string repo_name = core::change::repository_id(
        **config, "", opt.delivery.repo.empty() ? (*config)->get_or("git.repo", "") : opt.delivery.repo);
    core::signals::IngestOptions in;
    in.repository_id = repo_name;
    in.agent_slug = opt.agent;
    // 2. Policy, then the queue (or, with --dry-run, only what would happen).
    auto admission = ctx.open(core::open_intake, opt.policies, "");
    if (!admission) return ctx.fail(admission.error());
    core::events::EventSink* events = (*admission)->events;
    auto& queue = (*admission)->queue;

    core::events::NullSink untraced;
    core::events::ContextScope in_trace(core::events::process_root_context());
    auto ingest = std::make_unique<core::events::Span>(opt.dry_run ? untraced : *events, "ingest", "",
                                                       nlohmann::json{{"signal.files", opt.findings}});
    core::signals::CollectSink found;
    for (const auto& file : opt.findings) {
        auto src = core::ByteSource::open(file);
        if (!src) return ctx.fail(src.error());
        const core::signals::SignalParser* parser = nullptr;
        if (opt.source.empty()) {
            core::signals::DetectInput d{(*src)->peek_prefix(64 * 1024), &in.headers};
            auto p = ctx.signals().detect(d, (*src)->name());
            if (!p) return ctx.fail(p.error());
            parser = *p;
        } else if (!(parser = ctx.signals().find(opt.source))) {
            return ctx.fail(core::make_error(core::Errc::usage, "unknown source " + core::text::quote(opt.source),
                                             "run 'infra-agent ingest --list' for the sources"));
        }
        if (auto st = core::signals::ingest(*parser, **src, in, found); !st) return ctx.fail(st.error());
    }
    if (!found.errors.empty()) return ctx.fail(found.errors.front());
    ingest->set("signal.tasks", found.tasks.size());
    ingest->set("signal.skipped", found.skipped.size());
    core::signals::assign_trace(found.tasks, ingest->context());
    ingest.reset();
    if (found.tasks.empty()) {
        ctx.note("nothing to remediate: no failed findings (" + std::to_string(found.skipped.size()) + " skipped)");
        return exit_code::ok;
    }

    auto group_by = core::signals::parse_group_by((*config)->get_or("pr.group_by", "resource"));
    if (!group_by) return ctx.fail(group_by.error());
    found.tasks = core::signals::group_findings(std::move(found.tasks), *group_by);
    // The bot pull requests open already are followed first, against this
    // report: what was merged, closed or fixed elsewhere, and what a person
    // took over, is not proposed again.
    std::vector<core::change::HeldBack> held;
    if (!opt.dry_run) {
        auto follow = ctx.open(core::change::open_follower, opt.delivery, events, nullptr);
        if (!follow) return ctx.fail(follow.error());
        std::vector<std::string> keys;
        for (const auto& t : found.tasks)
            for (const auto& f : findings_of(t)) keys.push_back(f.key.empty() ? t.dedupe_key : f.key);
        if (auto st = core::change::record_report(*follow->delivery->db, repo_name, keys); !st)
            return ctx.fail(st.error());
        auto followed = follow->follower->reconcile(repo_name);
        if (!followed) return ctx.fail(followed.error());
        for (const auto& t : *followed) ctx.note("pull request #" + std::to_string(t.number) + ": " + t.reason);
        auto kept = core::change::hold_back(found.tasks, *follow->delivery->db, *follow->delivery->store,
                                            follow->delivery->forge->name());
        if (!kept) return ctx.fail(kept.error());
        held = std::move(*kept);
    }
    // One line per finding; the findings of a group share its task.
    std::vector<FindingLine> lines;
    std::vector<std::size_t> first_line;
    for (const auto& t : found.tasks) {
        first_line.push_back(lines.size());
        for (const auto& f : findings_of(t))
            lines.push_back({t.id, describe_finding(f, std::string(core::to_string(t.type)), t.context.resource), "",
                             "", t.context.agent_slug, f.key, nullptr, exit_code::ok});
    }
    first_line.push_back(lines.size());
    for (const auto& h : held) {
        FindingLine l{"",
                      describe_finding(h.finding, "", ""),
                      h.reason.rfind("declined", 0) == 0 ? "declined" : "left alone",
                      h.reason,
                      "",
                      h.key,
                      nullptr,
                      exit_code::ok};
        lines.push_back(std::move(l));
    }
    core::intake::Options io;
    io.stage = "remediate";
    io.dry_run = opt.dry_run;
    auto admitted = (*admission)->admit(std::move(found.tasks), io);
    if (!admitted) return ctx.fail(admitted.error());
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < admitted->size(); ++i) {
        const auto& a = (*admitted)[i];
        for (std::size_t n = first_line[i]; n < first_line[i + 1]; ++n) {
            FindingLine& l = lines[n];
            l.task_id = a.id;  // the unfinished task it duplicates, when it does
            int tier = core::int_member(a.decision, "tier");
            if (a.state == "denied") {
                l.state = "denied";
                l.detail = a.reason;
                l.code = exit_code::denied;
            } else if (opt.dry_run) {
                l.state = a.state == "pending-approval" ? "would wait for approval" : "would fix";
                l.detail = "tier " + std::to_string(tier) + ", agent " + l.agent;
                if (a.state == "pending-approval") l.code = exit_code::pending;
            } else {
                if (a.state == "pending-approval") {
                    l.state = "waiting for approval";
                    l.code = exit_code::pending;
                }
                if (n == first_line[i]) ids.push_back(a.id);
            }
        }
    }

    // 3. An in-process worker with change delivery; it says what became of each task it ran.
    std::map<std::string, core::TaskOutcome> ran;
    if (!opt.dry_run && !ids.empty()) {
        auto sandbox = open_sandbox(ctx, opt.sandbox, nullptr);
        if (!sandbox) return ctx.fail(sandbox.error());
        auto delivery = ctx.open(core::change::open_delivery, opt.delivery, &*sandbox);
        if (!delivery) return ctx.fail(delivery.error());
        core::WorkerOptions w;
        w.drain = true;
        w.sandbox = &*sandbox;
        core::change::attach_events(**delivery, events);
        w.delivery = (*delivery)->delivery.get();
        w.backoff.base = core::queue::Millis{200};
        w.keep_outcomes = true;
        // Progress on a terminal; silent in pipes and CI logs, where the lines below say it all.
        if (ctx.stderr_is_tty())
            ctx.note("working on " + std::to_string(ids.size()) + " finding" + (ids.size() == 1 ? "" : "s") + "...");
        core::Worker worker(*queue, ctx.agents(), *events, (*admission)->engine.get(), w);
        auto summary = worker.run();
        if (!summary) return ctx.fail(summary.error());
        for (auto& t : summary->tasks) ran[t.id] = std::move(t);
    }
    events->flush();

    // 4. One line per finding, as the format asks.
    for (auto& l : lines) {
        if (!l.state.empty() && l.state != "waiting for approval") continue;
        // What the worker ran it says; a task it did not run (one that
        // waits for approval, or duplicates one already queued) the queue says.
        auto known = ran.find(l.task_id);
        auto outcome =
            known != ran.end() ? core::Result<core::TaskOutcome>(known->second) : read_back(*queue, l.task_id);
        if (outcome) {
            say(l, *outcome);
        } else {
            l.state = "unknown";
            l.detail = "cannot read task " + l.task_id + " back from the queue: " + outcome.error().message;
            l.code = exit_code::failure;
        }
    }
    return show_findings(ctx, lines, opt.format);
}

}  // namespace

void register_remediate(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "remediate", "Fix scanner findings as pull requests: ingest, policy, queue, agent, validation, PR");
    cmd->add_option("findings", opt->findings,
                    "scanner reports (Checkov, Trivy, tfsec, Prowler, SARIF ...), or - for stdin");
    cmd->add_option("--source", opt->source, "the reports' format (default: detected)");
    cmd->add_option("--agent", opt->agent, "agent for every finding (default: the task type's, builtin for findings)");
    cmd->add_flag("--dry-run", opt->dry_run, "decide and say what would happen; queue and change nothing");
    cmd->add_option("--sandbox", opt->sandbox, "bwrap (default) or none (development; policy must allow it)");
    cmd->add_option("--format", opt->format, "text, json (a line per finding) or markdown (a table, for CI summaries)")
        ->check(CLI::IsMember({"text", "json", "markdown"}));
    add_delivery_flags(cmd, opt->delivery);
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
