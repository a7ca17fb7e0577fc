#pragma once
// What the `policy` subcommands share: the policy directory flags and
// loading an engine from them.

#include "cli/context.hpp"
#include "core/policy/engine.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace infra::cli {

/// --policies DIR (repeatable) and --no-bundle.
struct PolicyFlags {
    std::vector<std::string> dirs;
    bool no_bundle = false;
    void add_to(CLI::App* cmd);
};

/// Loads and compiles the policies the flags and config select.
core::Result<std::unique_ptr<core::policy::Engine>> load_engine(Context& ctx, const PolicyFlags& flags);

void register_policy_eval(CLI::App& policy, Context& ctx);
void register_policy_test(CLI::App& policy, Context& ctx);
void register_policy_lint(CLI::App& policy, Context& ctx);
void register_policy_digest(CLI::App& policy, Context& ctx);
void register_policy_replay(CLI::App& policy, Context& ctx);

}  // namespace infra::cli
