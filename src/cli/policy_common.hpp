#pragma once
// What the `policy` subcommands share: the policy directory flags and
// loading an engine from them.

#include "cli/context.hpp"
#include "core/policy/engine.hpp"
#include "core/task.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace infra::cli {

/// --policies DIR (repeatable) and --no-bundle.
struct PolicyFlags : core::PolicySources {
    void add_to(CLI::App* cmd);
};

/// Loads and compiles the policies the flags and config select.
core::Result<std::unique_ptr<core::policy::Engine>> load_engine(Context& ctx, const PolicyFlags& flags);

/// One task from a file or stdin, decided afresh: a decision on the input
/// is a record, never a permission.
struct DecidedTask {
    std::unique_ptr<core::policy::Engine> engine;
    core::AgentTask task;
    nlohmann::json json;  ///< the task
    core::policy::Decision decision;
};

/// Reads exactly one task from input (what names the command or flag in
/// errors) and loads the policies, leaving the decision to the caller.
/// Returns 0, or the exit code of the failure it printed.
int read_for_decision(Context& ctx, const std::string& input, const PolicyFlags& flags, const std::string& what,
                      DecidedTask& out);

/// read_for_decision, then decides.
int read_and_decide(Context& ctx, const std::string& input, const PolicyFlags& flags, const std::string& what,
                    DecidedTask& out);

}  // namespace infra::cli
