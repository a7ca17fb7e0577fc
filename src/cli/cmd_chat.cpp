// `infra-agent chat MESSAGE`: a question or request for the llm agent about
// the repository at hand. Policy decides as for any task (a chat that asks
// for a change needs tier 2 and goes out as a pull request); the reply is
// printed when the agent is done.
#include "cli/commands.hpp"
#include "cli/delivery_flags.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/sandbox_flag.hpp"
#include "cli/task_stream.hpp"
#include "core/change/delivery.hpp"
#include "core/git.hpp"
#include "core/input.hpp"
#include "core/intake.hpp"
#include "core/json_access.hpp"
#include "core/open_intake.hpp"
#include "core/state.hpp"
#include "core/text.hpp"
#include "core/worker.hpp"
#include "core/workspace.hpp"

#include <cstdlib>
#include <unistd.h>

namespace infra::cli {
namespace {

struct Options {
    std::vector<std::string> words;
    bool change = false;
    std::string as;
    std::string sandbox;
    DeliveryFlags delivery;
    PolicyFlags policies;
};

int chat(Options& opt, Context& ctx)
{
    std::string message;
    for (const auto& w : opt.words) message += (message.empty() ? "" : " ") + w;
    if ((core::text::trim(message).empty() && !::isatty(0)) || message == "-") {
        auto in = core::ByteSource::open("-");
        if (!in) return ctx.fail(in.error());
        auto all = (*in)->read_all(64 * 1024);
        if (!all) return ctx.fail(all.error());
        message = std::string(core::text::trim(*all));
    }
    if (message.empty())
        return ctx.fail(core::make_error(core::Errc::usage, "say something: infra-agent chat MESSAGE"));
    auto config = ctx.config();
    if (!config) return ctx.fail(config.error());
    if ((*config)->get_or("llm.model", "").empty())
        return ctx.fail(core::make_error(
            core::Errc::usage, "no model is configured for chat",
            "set llm.model in config.yaml (or INFRA_AGENT_LLM_MODEL), with the key in OPENAI_API_KEY or\n"
            "ANTHROPIC_API_KEY; for a local server such as Ollama set llm.base_url: http://127.0.0.1:11434/v1"));

    auto cwd = std::filesystem::current_path();
    auto top = core::git::find_worktree(cwd);
    std::string user = opt.as;
    if (user.empty())
        if (const char* u = std::getenv("USER")) user = u;
    core::signals::IngestOptions in;
    in.repository_id = core::change::repository_id(**config, "", top ? top->string() : "");
    nlohmann::json line = {{"message", message}, {"user", user}, {"requestsChange", opt.change}};
    auto admission = ctx.open(core::open_intake, opt.policies, "");
    if (!admission) return ctx.fail(admission.error());
    auto& events = *(*admission)->events;
    core::events::ContextScope in_trace(core::events::process_root_context());
    auto found = core::signals::parse_text(*ctx.signals().find("chat"), line.dump(), "chat", in, &events);
    if (!found) return ctx.fail(found.error());
    auto& queue = (*admission)->queue;
    core::intake::Options io;
    io.stage = "chat";
    auto admitted = (*admission)->admit(std::move(found->tasks), io);
    if (!admitted) return ctx.fail(admitted.error());
    const auto& a = admitted->front();
    if (a.state == "denied")
        return ctx.fail(core::make_error(core::Errc::denied, "policy denies this chat: " + a.reason));
    if (a.state == "pending-approval") {
        std::string groups;
        for (const auto& g : a.approvals) groups += (groups.empty() ? "" : ", ") + g;
        ctx.note("task " + a.id + " waits for approval by " + groups + ": infra-agent approve " + a.id + " --as NAME");
        return exit_code::pending;
    }

    // An in-process worker: the checkout (or this directory) is the
    // workspace; a requested change goes out as a branch and pull request.
    auto sandbox = open_sandbox(ctx, opt.sandbox, nullptr);
    if (!sandbox) return ctx.fail(sandbox.error());
    auto ws = core::Workspace::open(top ? *top : cwd);
    if (!ws) return ctx.fail(ws.error());
    std::unique_ptr<core::change::DeliverySetup> delivery;
    core::WorkerOptions w;
    w.drain = true;
    w.sandbox = &*sandbox;
    if (opt.change) {
        if (opt.delivery.repo.empty() && (*config)->get_or("git.repo", "").empty()) {
            if (!top)
                return ctx.fail(core::make_error(core::Errc::usage, "a change needs a repository",
                                                 "run chat in a checkout, or pass --repo URL"));
            opt.delivery.repo = top->string();
        }
        auto d = ctx.open(core::change::open_delivery, opt.delivery, &*sandbox);
        if (!d) return ctx.fail(d.error());
        delivery = std::move(*d);
        core::change::attach_events(*delivery, &events);
        w.delivery = delivery->delivery.get();
    } else {
        w.workspace = &*ws;
    }
    if (ctx.stderr_is_tty()) ctx.note("thinking...");
    core::Worker worker(*queue, ctx.agents(), events, (*admission)->engine.get(), w);
    auto summary = worker.run();
    events.flush();
    if (!summary) return ctx.fail(summary.error());
    auto e = queue->show(a.id);
    if (!e) return ctx.fail(e.error());
    if (e->state != core::queue::State::succeeded)
        return ctx.fail(core::make_error(core::Errc::unavailable, "the agent did not answer: " + e->last_error));
    std::string reply = core::string_member(e->result, "summary");
    const auto& pr = core::member(core::member(e->result, "change"), "pullRequest");
    if (ctx.json()) {
        nlohmann::json out = {{"taskId", a.id}, {"reply", reply}};
        if (pr.is_object()) out["pullRequest"] = pr;
        ctx.record("reply", std::move(out));
    } else {
        ctx.print(reply + "\n");
        if (pr.is_object()) ctx.print("pull request: " + core::string_member(pr, "url") + "\n");
    }
    return exit_code::ok;
}

}  // namespace

void register_chat(CLI::App& app, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "chat", "Ask the llm agent about this repository, or (--change) for a change as a pull request");
    cmd->add_option("message", opt->words, "what to ask; - or nothing reads it from stdin");
    cmd->add_flag("--change", opt->change, "ask for a change: needs tier 2 by policy, and goes out as a pull request");
    cmd->add_option("--as", opt->as, "who asks (default: $USER); recorded, and cannot approve the task");
    cmd->add_option("--sandbox", opt->sandbox, "bwrap (default) or none (development; policy must allow it)");
    add_delivery_flags(cmd, opt->delivery);
    opt->policies.add_to(cmd);
    cmd->footer("Needs a model: llm.model (and llm.base_url for a local server), with the key in OPENAI_API_KEY\n"
                "or ANTHROPIC_API_KEY. Exit 0 with the reply, 3 when policy denies, 4 when it waits for approval.");
    ctx.on_run(cmd, [opt, &ctx] { return chat(*opt, ctx); });
}

}  // namespace infra::cli
