#pragma once
// What `worker`, `run` and `pr open` need to turn an agent's edits into a
// pull request: a repository, a forge, the pull-request store and the
// credential broker, from flags and config.yaml.

#include "cli/context.hpp"
#include "core/change/delivery.hpp"
#include "core/creds/open.hpp"

#include <CLI/CLI.hpp>

namespace infra::cli {

struct DeliveryFlags {
    std::string repo;   ///< --repo, else git.repo
    std::string forge;  ///< --forge, else forge.kind, else local
    std::string base;   ///< --base, else git.base, else the remote's default branch
    bool keep = false;  ///< --keep-worktrees
};

/// Adds --repo, --forge, --base and --keep-worktrees to cmd.
void add_delivery_flags(CLI::App* cmd, DeliveryFlags& flags);

struct DeliverySetup {
    core::creds::BrokerHandle creds;
    std::unique_ptr<core::store::Db> db;
    std::unique_ptr<core::change::PrStore> store;
    std::unique_ptr<core::change::Forge> forge;
    std::unique_ptr<core::change::Delivery> delivery;
    /// The forge's API token, when the credential provider cannot mint one
    /// (env provider on forge.token_env; still recorded in the ledger).
    std::unique_ptr<core::creds::Provider> forge_provider;
    std::unique_ptr<core::creds::Broker> forge_broker;
    /// Validation's remote pipelines, and the brokers of their API tokens
    /// when the credential provider cannot mint them.
    std::unique_ptr<core::change::PipelineRunner> pipelines;
    std::vector<std::unique_ptr<core::creds::Provider>> ci_providers;
    std::vector<std::unique_ptr<core::creds::Broker>> ci_brokers;
};

/// Null when no repository is named (by flag or config): agents then work
/// in the --workspace directory and nothing is pushed.
core::Result<std::unique_ptr<DeliverySetup>> open_delivery(Context& ctx, const DeliveryFlags& flags,
                                                           const core::sandbox::Sandbox* sandbox);

/// Records the delivery's spans (clone, validation, commit, push, pull
/// request) and every credential mint in sink.
void attach_events(DeliverySetup& setup, core::events::EventSink* sink);

/// Validation steps and settings from config.yaml (validation.steps,
/// validation.step_timeout), running in sandbox.
core::Result<core::change::ValidationOptions> validation_options(Context& ctx, const core::sandbox::Sandbox* sandbox);

/// The runner of validation's remote pipelines (ci.github.*, ci.gitlab.*)
/// into setup, with tokens minted through setup's brokers.
core::Status open_pipelines(Context& ctx, DeliverySetup& setup);

/// Opens the forge named by name (local, github, gitlab) into setup.
core::Status open_forge(Context& ctx, const std::string& name, DeliverySetup& setup);

}  // namespace infra::cli
