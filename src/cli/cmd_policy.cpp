// `infra-agent policy`: the group, and what its subcommands share.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "cli/task_stream.hpp"

namespace infra::cli {

void PolicyFlags::add_to(CLI::App* cmd)
{
    cmd->add_option("--policies", dirs, "policy directory for this call, instead of policy.dirs (repeatable)")
        ->allow_extra_args(false);
    cmd->add_flag("--no-bundle", no_bundle, "leave out the installed policy bundle");
}

int read_for_decision(Context& ctx, const std::string& input, const PolicyFlags& flags, const std::string& what,
                      DecidedTask& out)
{
    std::vector<core::AgentTask> tasks;
    int read = for_each_task(ctx, input, false, [&](core::AgentTask&& t) { tasks.push_back(std::move(t)); });
    if (read != exit_code::ok) return read;
    if (tasks.size() != 1)
        return ctx.fail(core::make_error(core::Errc::usage,
                                         what + " takes exactly one task, got " + std::to_string(tasks.size()),
                                         what == "run" ? "use enqueue and worker for several" : ""));
    auto engine = load_engine(ctx, flags);
    if (!engine) return ctx.fail(engine.error());
    out.engine = std::move(*engine);
    out.task = std::move(tasks.front());
    out.task.extra.erase("decision");
    out.json = core::to_json(out.task);
    return exit_code::ok;
}

int read_and_decide(Context& ctx, const std::string& input, const PolicyFlags& flags, const std::string& what,
                    DecidedTask& out)
{
    if (int code = read_for_decision(ctx, input, flags, what, out)) return code;
    out.decision = out.engine->decide(out.json);
    return exit_code::ok;
}

core::Result<std::unique_ptr<core::policy::Engine>> load_engine(Context& ctx, const PolicyFlags& flags)
{
    auto site = ctx.site();
    if (!site) return site.error();
    return site->load_engine(flags);
}

void register_policy(CLI::App& app, Context& ctx)
{
    auto* policy = app.add_subcommand("policy", "Decide, test, lint and review policies");
    policy->footer("Policies are YAML files (apiVersion infra-agent/v1, kind Policy) in the installed bundle,\n"
                   "overlaid by policy.dirs (default <home>/policies) or --policies DIR.");
    register_policy_eval(*policy, ctx);
    register_policy_test(*policy, ctx);
    register_policy_lint(*policy, ctx);
    register_policy_digest(*policy, ctx);
    register_policy_replay(*policy, ctx);
}

}  // namespace infra::cli
