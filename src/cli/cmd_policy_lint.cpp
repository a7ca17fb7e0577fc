// `infra-agent policy lint [DIR]`: check policy files; file:line:column per problem.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/policy_common.hpp"
#include "core/policy/loader.hpp"

#include <spdlog/spdlog.h>

namespace infra::cli {
namespace {

struct Options {
    std::string dir;
    PolicyFlags policies;
};

int run(const Options& opt, Context& ctx)
{
    std::vector<std::filesystem::path> dirs;
    if (!opt.dir.empty()) {
        dirs.emplace_back(opt.dir);
    } else {
        auto d = ctx.policy_dirs(opt.policies.dirs, opt.policies.no_bundle);
        if (!d) return ctx.fail(d.error());
        dirs = *d;
    }
    auto set = core::policy::load(dirs);
    std::size_t errors = 0, warnings = 0, rules = 0;
    for (const auto& p : set.policies) rules += p.rules.size();
    for (const auto& f : set.findings) {
        (f.error ? errors : warnings)++;
        if (ctx.json(Output::value))
            ctx.record("problem", {{"file", f.where.file},
                                   {"line", f.where.line},
                                   {"column", f.where.column},
                                   {"severity", f.error ? "error" : "warning"},
                                   {"message", f.message}});
        else ctx.print(f.str() + "\n");
    }
    spdlog::info("{} file{}, {} polic{}, {} rules: {} error{}, {} warning{}", set.files.size(),
                 set.files.size() == 1 ? "" : "s", set.policies.size(), set.policies.size() == 1 ? "y" : "ies", rules,
                 errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    return errors ? exit_code::data : exit_code::ok;
}

}  // namespace

void register_policy_lint(CLI::App& policy, Context& ctx)
{
    auto opt = std::make_shared<Options>();
    auto* cmd = policy.add_subcommand("lint", "Check policy files; exit 65 when one has an error");
    cmd->add_option("dir", opt->dir, "a policy directory (default: every directory in use)");
    opt->policies.add_to(cmd);
    ctx.on_run(cmd, [opt, &ctx] { return run(*opt, ctx); });
}

}  // namespace infra::cli
