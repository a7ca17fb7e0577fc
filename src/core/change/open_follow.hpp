#pragma once
// What `pr sync|close|reopen`, `remediate`, `drift` and `serve` need to
// follow bot pull requests: the forge and the pull-request store, the
// repository when one is named (for merges into the base, moved bases and
// branch deletion), and an intake for rebuilds.

#include "core/change/follow.hpp"
#include "core/change/open_delivery.hpp"
#include "core/open_intake.hpp"

#include <memory>

namespace infra::core::change {

struct FollowSetup {
    std::unique_ptr<DeliverySetup> delivery;  ///< owns the store and the forge
    std::unique_ptr<Follower> follower;
};

/// The follower. With admission, a pull request whose base moved is rebuilt
/// by a fresh task admitted through it; without, it is left for the next run.
Result<FollowSetup> open_follower(const Site& site, const DeliveryOverrides& overrides, events::EventSink* events,
                                  Intake* admission);

}  // namespace infra::core::change
