#pragma once
// --repo, --forge, --base and --keep-worktrees: what `worker`, `run`, `pr`,
// `remediate`, `chat` and `serve` may say instead of config.yaml about where
// pull requests go.

#include "core/change/open_delivery.hpp"

#include <CLI/CLI.hpp>

namespace infra::cli {

using DeliveryFlags = core::change::DeliveryOverrides;

/// Adds --repo, --forge, --base and --keep-worktrees to cmd.
void add_delivery_flags(CLI::App* cmd, DeliveryFlags& flags);

}  // namespace infra::cli
