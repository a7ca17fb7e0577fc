// `infra-agent chat MESSAGE`: a question or request for the llm agent about
// the repository at hand. Policy decides as for any task (a chat that asks
// for a change needs tier 2 and goes out as a pull request); the reply is
// printed when the agent is done.
#include "cli/commands.hpp"
#include "cli/delivery_flags.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "core/chat.hpp"
#include "core/input.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"

#include <cstdlib>
#include <unistd.h>

namespace infra::cli {
namespace {

struct Options {
    std::vector<std::string> words;
    core::chat::Request request;
    PolicyFlags policies;
};

int chat(Options& opt, Context& ctx)
{
    core::chat::Request& r = opt.request;
    for (const auto& w : opt.words) r.message += (r.message.empty() ? "" : " ") + w;
    if ((core::text::trim(r.message).empty() && !::isatty(0)) || r.message == "-") {
        auto in = core::ByteSource::open("-");
        if (!in) return ctx.fail(in.error());
        auto all = (*in)->read_all(64 * 1024);
        if (!all) return ctx.fail(all.error());
        r.message = std::string(core::text::trim(*all));
    }
    if (r.message.empty())
        return ctx.fail(core::make_error(core::Errc::usage, "say something: infra-agent chat MESSAGE"));
    if (r.user.empty())
        if (const char* u = std::getenv("USER")) r.user = u;
    r.directory = std::filesystem::current_path();
    r.policies = opt.policies;
    if (ctx.stderr_is_tty()) r.thinking = [&ctx] { ctx.note("thinking..."); };
    auto site = ctx.site();
    if (!site) return ctx.fail(site.error());

    auto answer = core::chat::ask(*site, r);
    if (!answer) return ctx.fail(answer.error());
    if (!answer->approvals.empty()) {
        std::string groups;
        for (const auto& g : answer->approvals) groups += (groups.empty() ? "" : ", ") + g;
        ctx.note("task " + answer->task_id + " waits for approval by " + groups + ": infra-agent approve " +
                 answer->task_id + " --as NAME");
        return exit_code::pending;
    }
    const auto& pr = answer->pull_request;
    if (ctx.json()) {
        nlohmann::json out = {{"taskId", answer->task_id}, {"reply", answer->reply}};
        if (pr.is_object()) out["pullRequest"] = pr;
        ctx.record("reply", std::move(out));
    } else {
        ctx.print(answer->reply + "\n");
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
    cmd->add_flag("--change", opt->request.change,
                  "ask for a change: needs tier 2 by policy, and goes out as a pull request");
    cmd->add_option("--as", opt->request.user, "who asks (default: $USER); recorded, and cannot approve the task");
    cmd->add_option("--sandbox", opt->request.sandbox, "bwrap (default) or none (development; policy must allow it)");
    add_delivery_flags(cmd, opt->request.delivery);
    opt->policies.add_to(cmd);
    cmd->footer("Needs a model: llm.model (and llm.base_url for a local server), with the key in OPENAI_API_KEY\n"
                "or ANTHROPIC_API_KEY. Exit 0 with the reply, 3 when policy denies, 4 when it waits for approval.");
    ctx.on_run(cmd, [opt, &ctx] { return chat(*opt, ctx); });
}

}  // namespace infra::cli
