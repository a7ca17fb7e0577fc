// `infra-agent policy digest [FILE]`: the rules to put into an agent's context.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/task_stream.hpp"
#include "core/policy/digest.hpp"
#include "core/policy/testing.hpp"

namespace infra::cli {
namespace {

struct Options {
    std::string input;
    PolicyFlags policies;
    std::string agent;
    std::string type = "compliance-remediation";
    std::string repo;
    std::string environment;
    std::string format;
};

int run(const Options& opt, Context& ctx)
{
    auto engine = load_engine(ctx, opt.policies);
    if (!engine) return ctx.fail(engine.error());
    std::vector<nlohmann::json> tasks;
    int code = exit_code::ok;
    if (!opt.input.empty()) {
        code = for_each_task(ctx, opt.input, false, [&](core::AgentTask&& t) { tasks.push_back(core::to_json(t)); });
        if (code != exit_code::ok) return code;
    } else {
        // A task made from the flags: what rules bind this agent for this kind of work.
        nlohmann::json partial = {{"type", opt.type}, {"context", nlohmann::json::object()}};
        if (!opt.agent.empty()) partial["context"]["agentSlug"] = opt.agent;
        if (!opt.repo.empty()) partial["context"]["repositoryId"] = opt.repo;
        if (!opt.environment.empty()) partial["context"]["environment"] = opt.environment;
        auto t = core::policy::complete_test_task(partial);
        if (!t) return ctx.fail(core::make_error(core::Errc::usage, t.error().message));
        tasks.push_back(*t);
    }
    bool text = opt.format == "text" || (opt.format.empty() && !ctx.json());
    for (const auto& t : tasks) {
        auto dg = core::policy::digest(**engine, t);
        if (text) ctx.print(core::policy::digest_text(dg));
        else ctx.record("digest", std::move(dg));
    }
    return code;
}

}  // namespace

void register_policy_digest(CLI::App& policy, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = policy.add_subcommand("digest", "Print the PolicyDigest that goes into an agent's context");
    cmd->footer("For each task of FILE, or for a task described by the flags. --format text gives the\n"
                "lines for a system prompt; JSON has organizationPolicies, agentHardRules,\n"
                "repositoryConventions and complianceFrameworks.");
    cmd->add_option("input", opt->input, "tasks (JSON Lines); without it, the flags describe one");
    opt->policies.add_to(cmd);
    cmd->add_option("--agent", opt->agent, "agent slug (context.agentSlug)");
    cmd->add_option("--type", opt->type, "task type (default compliance-remediation)");
    cmd->add_option("--repo", opt->repo, "repository (context.repositoryId)");
    cmd->add_option("--environment", opt->environment, "environment (context.environment)");
    cmd->add_option("--format", opt->format, "json or text (default: text on a terminal)")
        ->check(CLI::IsMember({"json", "text"}));
    ctx.on_run(cmd, [opt, &ctx] { return run(*opt, ctx); });
}

}  // namespace infra::cli
