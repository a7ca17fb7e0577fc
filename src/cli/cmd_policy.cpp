// `infra-agent policy`: the group, and what its subcommands share.
#include "cli/commands.hpp"
#include "cli/policy_common.hpp"

namespace infra::cli {

void PolicyFlags::add_to(CLI::App* cmd)
{
    cmd->add_option("--policies", dirs, "policy directory for this call, instead of policy.dirs (repeatable)")
        ->allow_extra_args(false);
    cmd->add_flag("--no-bundle", no_bundle, "leave out the installed policy bundle");
}

core::Result<std::unique_ptr<core::policy::Engine>> load_engine(Context& ctx, const PolicyFlags& flags)
{
    auto dirs = ctx.policy_dirs(flags.dirs, flags.no_bundle);
    if (!dirs) return dirs.error();
    return core::policy::Engine::load(*dirs, ctx.policy_cache_dir());
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
