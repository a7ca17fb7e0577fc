#pragma once
// The command table: one register function per command file.

#include "cli/context.hpp"

#include <CLI/CLI.hpp>

#include <span>

namespace infra::cli {

/// Adds one command (and its subcommands) to the command line.
using RegisterCommand = void (*)(CLI::App& app, Context& ctx);

// One function per command file. The top-level commands are listed once, in
// `commands()`; a command group adds its own subcommands.
void register_init(CLI::App& app, Context& ctx);
void register_version(CLI::App& app, Context& ctx);
void register_ingest(CLI::App& app, Context& ctx);
void register_plugins(CLI::App& app, Context& ctx);
void register_config(CLI::App& app, Context& ctx);
void register_help(CLI::App& app, Context& ctx);
void register_completion(CLI::App& app, Context& ctx);
void register_policy(CLI::App& app, Context& ctx);
void register_enqueue(CLI::App& app, Context& ctx);
void register_queue(CLI::App& app, Context& ctx);
void register_worker(CLI::App& app, Context& ctx);
void register_run(CLI::App& app, Context& ctx);
void register_creds(CLI::App& app, Context& ctx);
void register_pr(CLI::App& app, Context& ctx);
void register_validate(CLI::App& app, Context& ctx);
void register_providers(CLI::App& app, Context& ctx);
void register_remediate(CLI::App& app, Context& ctx);
void register_approve(CLI::App& app, Context& ctx);
void register_apply(CLI::App& app, Context& ctx);
void register_serve(CLI::App& app, Context& ctx);
void register_chat(CLI::App& app, Context& ctx);
void register_drift(CLI::App& app, Context& ctx);
void register_schedule(CLI::App& app, Context& ctx);
void register_events(CLI::App& app, Context& ctx);
void register_trace(CLI::App& app, Context& ctx);
void register_audit(CLI::App& app, Context& ctx);
void register_metrics(CLI::App& app, Context& ctx);

// Subcommands of `policy` and `queue`, in their own files.
void register_policy_eval(CLI::App& policy, Context& ctx);
void register_policy_test(CLI::App& policy, Context& ctx);
void register_policy_lint(CLI::App& policy, Context& ctx);
void register_policy_digest(CLI::App& policy, Context& ctx);
void register_policy_replay(CLI::App& policy, Context& ctx);
void register_queue_manage(CLI::App& queue, Context& ctx);

/// A top-level command: its name and the function that adds it.
struct Command {
    const char* name;
    RegisterCommand add;
};

/// Every built-in command, in the order `infra-agent --help` lists them.
std::span<const Command> commands();

/// The subcommand of app called name, or nullptr.
inline CLI::App* find_subcommand(CLI::App& app, const std::string& name)
{
    auto subs = app.get_subcommands([&](CLI::App* a) { return a->check_name(name); });
    return subs.empty() ? nullptr : subs.front();
}

/// Runs the command line; returns the process exit code.
int run(int argc, char** argv);

}  // namespace infra::cli
