// `infra-agent pr open|ls|show`: branch, commit, push and open or update the
// pull request for a task's changes, and look at the pull requests opened.
#include "cli/commands.hpp"
#include "cli/delivery_flags.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "core/change/pull_requests.hpp"
#include "core/json_access.hpp"
#include "core/state.hpp"

#include <cstdlib>

namespace infra::cli {
namespace {

struct OpenOptions {
    std::string input = "-";
    core::change::OpenRequest request;
    PolicyFlags policies;
};

int open_pr(const OpenOptions& opt, Context& ctx)
{
    DecidedTask dt;
    if (int code = read_and_decide(ctx, opt.input, opt.policies, "pr open", dt)) return code;
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());
    auto delivered = core::change::open_pull_request(*site, dt.task, dt.decision, opt.request);
    if (!delivered) return ctx.fail(delivered.error());
    if (ctx.json()) {
        ctx.record("delivery", *delivered);
    } else {
        std::string state = core::string_member(*delivered, "state");
        if (delivered->contains("pullRequest"))
            ctx.print(state + " " + core::string_member(core::member(*delivered, "pullRequest"), "url") + " (" +
                      core::string_member(*delivered, "branch") + ")\n");
        else
            ctx.print(state + ": " +
                      core::string_member(*delivered, "reason", core::string_member(*delivered, "branch")) + "\n");
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
    if (ctx.json()) {
        for (const auto& p : *prs) ctx.record("pull-request", p.to_json(false));
        return exit_code::ok;
    }
    for (const auto& p : *prs) {
        char line[1024];
        std::snprintf(line, sizeof line, "#%-5lld %-6s %-7s %-28s %-48s %s\n", static_cast<long long>(p.number),
                      p.state.c_str(), p.forge.c_str(), p.repository.substr(0, 28).c_str(),
                      p.branch.substr(0, 48).c_str(), p.title.substr(0, 200).c_str());
        ctx.print(line);
        if (!p.reason.empty()) ctx.print("       " + p.reason + "\n");
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
    if (ctx.json()) {
        auto j = pr->to_json(true);
        j["history"] = *updates;
        ctx.record("pull-request", std::move(j));
        return exit_code::ok;
    }
    ctx.print("#" + std::to_string(pr->number) + " " + pr->title + "\n" + pr->url + "  " + pr->branch + " -> " +
              pr->base + "  (" + pr->state + ", " + std::to_string(pr->updates) + " update" +
              (pr->updates == 1 ? "" : "s") + ")\n\n");
    for (const auto& u : *updates)
        ctx.print(core::string_member(u, "time") + "  " + core::string_member(u, "comment") + "\n");
    if (!updates->empty()) ctx.print("\n");
    ctx.print(pr->diff);
    return exit_code::ok;
}

struct FollowFlags {
    DeliveryFlags delivery;
    std::string repo_name;
    std::string ref;
    std::string as;
    PolicyFlags policies;  ///< sync: the policies a rebuilt pull request's task is admitted under
};

int print_transitions(const std::vector<core::change::Transition>& ts, Context& ctx)
{
    for (const auto& t : ts) {
        if (ctx.json()) ctx.record("transition", t.to_json());
        else ctx.print("#" + std::to_string(t.number) + " " + t.event + ": " + t.reason + "\n");
    }
    return exit_code::ok;
}

int sync(FollowFlags& f, Context& ctx)
{
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());
    auto done = core::change::sync_pull_requests(*site, f.delivery, f.policies, f.repo_name);
    if (!done) return ctx.fail(done.error());
    return print_transitions(*done, ctx);
}

int close_or_reopen(FollowFlags& f, bool close, Context& ctx)
{
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());
    const char* user = std::getenv("USER");
    std::string by = !f.as.empty() ? f.as : user && *user ? user : "someone";
    auto done = core::change::close_pull_request(*site, f.delivery, f.ref, by, close);
    if (!done) return ctx.fail(done.error());
    return print_transitions({*done}, ctx);
}

}  // namespace

void register_pr(CLI::App& app, Context& ctx)
{
    auto* pr = app.add_subcommand("pr", "Open, update and look at pull requests");
    pr->footer("One pull request per group of findings (pr.group_by: resource, file, root, rule or finding): the\n"
               "branch is infra-agent/<type>/<group's fingerprint>, so a later run of the group updates its pull\n"
               "request instead of opening another. Open ones are followed: pr sync, remediate, serve.");

    auto oo = std::make_shared<OpenOptions>();
    auto* o = pr->add_subcommand(
        "open", "Commit a workspace's changes for a task to its bot branch, push, open or update the PR");
    o->add_option("input", oo->input, "the task as JSON, or - for stdin (default)");
    o->add_option("--workspace", oo->request.workspace,
                  "the git checkout holding the changes (default: the current directory)");
    o->add_option("--forge", oo->request.forge, "local, github or gitlab (default: forge.kind, else local)");
    o->add_option("--summary", oo->request.summary, "a sentence on what the change does, for the commit and the PR");
    o->add_option("--sandbox", oo->request.sandbox,
                  "where validation runs: bwrap (default) or none (policy must allow it)");
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

    auto sf = std::make_shared<FollowFlags>();
    auto* y =
        pr->add_subcommand("sync", "Follow the open bot pull requests: merged, closed, fixed elsewhere, base moved");
    y->add_option("--repository", sf->repo_name, "only this repository's (owner/name)");
    add_delivery_flags(y, sf->delivery);
    sf->policies.add_to(y);
    y->footer("Merged: its findings are resolved and its branch deleted. Closed without merging: its findings\n"
              "are declined until they change, or `pr reopen`. None of its findings in the latest report\n"
              "(remediate): closed with a comment. Its base moved (behind, or conflicting): a fresh task rebuilds\n"
              "it on the new base and force-pushes with lease, unless a person pushed to it: then it is left alone,\n"
              "with a comment. remediate and serve make this pass too.");
    ctx.on_run(y, [sf, &ctx] { return sync(*sf, ctx); });

    for (bool close : {true, false}) {
        auto cf = std::make_shared<FollowFlags>();
        auto* c =
            pr->add_subcommand(close ? "close" : "reopen",
                               close ? "Close a bot pull request; its findings are declined until they change"
                                     : "Let a declined pull request's findings be proposed again (and reopen it)");
        c->add_option("pr", cf->ref, "number (#N), id or unique id prefix")->required();
        c->add_option("--as", cf->as, "who does it, for the record (default: $USER)");
        add_delivery_flags(c, cf->delivery);
        ctx.on_run(c, [cf, close, &ctx] { return close_or_reopen(*cf, close, ctx); });
    }
}

}  // namespace infra::cli
