#pragma once
// What `worker`, `run`, `pr open`, `remediate`, `chat` and `serve` need to
// turn an agent's edits into a pull request: a repository, a forge, the
// pull-request store and the credential broker, from config.yaml and the
// command line's overrides.

#include "core/change/delivery.hpp"
#include "core/change/forges.hpp"
#include "core/creds/open.hpp"
#include "core/site.hpp"

#include <memory>
#include <string>

namespace infra::core::change {

/// What a command line may say instead of config.yaml.
struct DeliveryOverrides {
    std::string repo;   ///< instead of git.repo
    std::string forge;  ///< instead of forge.kind (default local)
    std::string base;   ///< instead of git.base (default: the remote's default branch)
    bool keep = false;  ///< keep each task's worktree after it ran
};

struct DeliverySetup {
    creds::BrokerHandle creds;  ///< with the brokers of the forge's and the CI's API tokens
    std::unique_ptr<store::Db> db;
    std::unique_ptr<PrStore> store;
    std::unique_ptr<Forge> forge;
    std::unique_ptr<PipelineRunner> pipelines;  ///< validation's remote pipelines, when steps name one
    std::unique_ptr<Delivery> delivery;
};

/// Null when no repository is named (by override or git.repo): agents then
/// work in a directory of their own and nothing is pushed.
Result<std::unique_ptr<DeliverySetup>> open_delivery(const Site& site, const DeliveryOverrides& overrides,
                                                     const sandbox::Sandbox* sandbox);

/// The forge and the pull-request store alone, over a broker of its own.
Result<std::unique_ptr<DeliverySetup>> open_forge(const Site& site, const DeliveryOverrides& overrides);

/// Records the delivery's spans (clone, validation, commit, push, pull
/// request) and every credential mint in sink.
void attach_events(DeliverySetup& setup, events::EventSink* sink);

/// Validation steps and settings from config.yaml (validation.steps,
/// validation.step_timeout, validation.plan, validation.provider_mirror),
/// running in sandbox.
Result<ValidationOptions> validation_options(const Site& site, const sandbox::Sandbox* sandbox);

/// The runner of remote pipelines (ci.github.*, ci.gitlab.*) with tokens
/// minted through creds.
Result<std::unique_ptr<PipelineRunner>> open_pipelines(const Site& site, creds::BrokerHandle& creds);

/// The pull-request limits of config.yaml (pr.max_open, pr.max_per_hour,
/// pr.limit_recheck) into options.
Status read_pr_limits(const Config& config, DeliveryOptions& options);

}  // namespace infra::core::change
