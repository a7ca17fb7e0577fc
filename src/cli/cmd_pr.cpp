// `infra-agent pr open|ls|show`: branch, commit, push and open or update the
// pull request for a task's changes, and look at the pull requests opened.
#include "cli/commands.hpp"
#include "cli/delivery_setup.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/sandbox_flag.hpp"
#include "cli/task_stream.hpp"
#include "core/json_access.hpp"
#include "core/state.hpp"

namespace infra::cli {
namespace {

struct OpenOptions {
    std::string input = "-";
    std::string workspace = ".";
    std::string forge;
    std::string summary;
    std::string sandbox;
    PolicyFlags policies;
};

int open_pr(const OpenOptions& opt, Context& ctx)
{
    DecidedTask dt;
    if (int code = read_and_decide(ctx, opt.input, opt.policies, "pr open", dt)) return code;
    const auto& task = dt.task;
    const auto& tj = dt.json;
    const auto& d = dt.decision;
    if (!d.allowed) return ctx.fail(core::make_error(core::Errc::denied, "task " + task.id + " denied: " + d.reason));
    if (d.pending()) return ctx.fail(core::make_error(core::Errc::pending, "task " + task.id + " " + d.reason));

    auto co = core::git::open(opt.workspace);
    if (!co) return ctx.fail(co.error());
    auto diff = core::git::diff_worktree(*co);
    if (!diff) return ctx.fail(diff.error());
    DeliveryFlags flags;
    flags.repo = co->dir.string();
    flags.forge = opt.forge;
    auto sandbox = open_sandbox(ctx, opt.sandbox, d);
    if (!sandbox) return ctx.fail(sandbox.error());
    auto setup = open_delivery(ctx, flags, &*sandbox);
    if (!setup) return ctx.fail(setup.error());
    core::agent::Outcome outcome{true, "", {{"diff", *diff}, {"summary", opt.summary}}, false};
    auto delivered = (*setup)->delivery->deliver(tj, core::policy::to_json(d), *co, outcome);
    if (!delivered) return ctx.fail(delivered.error());
    if (ctx.json_output() || !ctx.stdout_is_tty()) {
        ctx.emit(*delivered);
    } else {
        std::string state = core::string_member(*delivered, "state");
        if (delivered->contains("pullRequest"))
            ctx.print(state + " " + core::string_member(core::member(*delivered, "pullRequest"), "url") + " (" +
                      core::string_member(*delivered, "branch") + ")\n");
        else
            ctx.print(state + ": " + core::string_member(*delivered, "reason", core::string_member(*delivered, "branch")) + "\n");
    }
    return exit_code::ok;
}

int ls(const std::string& state, const std::string& repo, std::size_t limit, Context& ctx)
{
    auto db = core::open_state(ctx.home());
    if (!db) return ctx.fail(db.error());
    core::change::PrStore store(**db);
    auto prs = store.list(state, repo, limit);
    if (!prs) return ctx.fail(prs.error());
    if (ctx.json_output() || !ctx.stdout_is_tty()) {
        for (const auto& p : *prs) ctx.emit(p.to_json(false));
        return exit_code::ok;
    }
    for (const auto& p : *prs) {
        char line[1024];
        std::snprintf(line, sizeof line, "#%-5lld %-6s %-7s %-28s %-48s %s\n", static_cast<long long>(p.number), p.state.c_str(),
                      p.forge.c_str(), p.repository.substr(0, 28).c_str(), p.branch.substr(0, 48).c_str(), p.title.substr(0, 200).c_str());
        ctx.print(line);
    }
    return exit_code::ok;
}

int show(const std::string& ref, Context& ctx)
{
    auto db = core::open_state(ctx.home());
    if (!db) return ctx.fail(db.error());
    core::change::PrStore store(**db);
    auto pr = store.get(ref);
    if (!pr) return ctx.fail(pr.error());
    auto updates = store.updates(pr->id);
    if (!updates) return ctx.fail(updates.error());
    if (ctx.json_output() || !ctx.stdout_is_tty()) {
        auto j = pr->to_json(true);
        j["history"] = *updates;
        ctx.emit(j);
        return exit_code::ok;
    }
    ctx.print("#" + std::to_string(pr->number) + " " + pr->title + "\n" + pr->url + "  " + pr->branch + " -> " + pr->base + "  (" +
              pr->state + ", " + std::to_string(pr->updates) + " update" + (pr->updates == 1 ? "" : "s") + ")\n\n");
    for (const auto& u : *updates) ctx.print(core::string_member(u, "time") + "  " + core::string_member(u, "comment") + "\n");
    if (!updates->empty()) ctx.print("\n");
    ctx.print(pr->diff);
    return exit_code::ok;
}

}  // namespace

void register_pr(CLI::App& app, Context& ctx)
{
    auto* pr = app.add_subcommand("pr", "Open, update and look at pull requests");
    pr->footer("One pull request per finding: the branch is infra-agent/<type>/<fingerprint>, so a second run\n"
               "of the same finding updates its pull request instead of opening another.");

    auto oo = std::make_shared<OpenOptions>();
    auto* o = pr->add_subcommand("open", "Commit a workspace's changes for a task to its bot branch, push, open or update the PR");
    o->add_option("input", oo->input, "the task as JSON, or - for stdin (default)");
    o->add_option("--workspace", oo->workspace, "the git checkout holding the changes (default: the current directory)");
    o->add_option("--forge", oo->forge, "local, github or gitlab (default: forge.kind, else local)");
    o->add_option("--summary", oo->summary, "a sentence on what the change does, for the commit and the PR");
    o->add_option("--sandbox", oo->sandbox, "where validation runs: bwrap (default) or none (policy must allow it)");
    oo->policies.add_to(o);
    o->footer("Policy decides first: exit 3 when denied, 4 when it needs approval. Without an origin remote\n"
              "the branch stays local and the pull request is recorded in the state db.");
    ctx.on_run(o, [oo, &ctx] { return open_pr(*oo, ctx); });

    auto state = std::make_shared<std::string>();
    auto repo = std::make_shared<std::string>();
    auto limit = std::make_shared<std::size_t>(50);
    auto* l = pr->add_subcommand("ls", "List pull requests, most recently updated first");
    l->add_option("--state", *state, "only open, closed or merged ones");
    l->add_option("--repo", *repo, "only this repository's (owner/name)");
    l->add_option("--limit", *limit, "at most this many (default 50)");
    ctx.on_run(l, [state, repo, limit, &ctx] { return ls(*state, *repo, *limit, ctx); });

    auto ref = std::make_shared<std::string>();
    auto* s = pr->add_subcommand("show", "Show a pull request with its history and diff");
    s->add_option("pr", *ref, "number (#N), id or unique id prefix")->required();
    ctx.on_run(s, [ref, &ctx] { return show(*ref, ctx); });
}

}  // namespace infra::cli
