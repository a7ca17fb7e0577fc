#pragma once
// What `pr sync|close|reopen`, `remediate` and `serve` need to follow bot
// pull requests: the forge and the pull-request store of flags and config,
// the repository when one is named (for merges into the base, moved bases
// and branch deletion), and an admission for rebuilds.

#include "cli/delivery_setup.hpp"
#include "core/change/follow.hpp"
#include "core/open_intake.hpp"

namespace infra::cli {

struct FollowSetup {
    std::unique_ptr<DeliverySetup> delivery;  ///< owns the store and the forge
    std::unique_ptr<core::change::Follower> follower;
};

/// The follower. With admission, a pull request whose base moved is rebuilt
/// by a fresh task admitted through it; without, it is left for the next run.
core::Result<FollowSetup> open_follower(Context& ctx, const DeliveryFlags& flags, core::events::EventSink* events,
                                        core::Intake* admission);

}  // namespace infra::cli
