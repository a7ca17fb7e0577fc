#pragma once
// What `pr open`, `pr sync`, `pr close` and `pr reopen` do, each one call:
// a checkout's changes delivered for a task, and the bot's open pull
// requests followed, closed or reopened by hand.

#include "core/change/follow.hpp"
#include "core/change/open_delivery.hpp"
#include "core/site.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace infra::core::change {

struct OpenRequest {
    std::filesystem::path workspace = ".";  ///< the git checkout holding the changes
    std::string forge;                      ///< local, github or gitlab; empty: forge.kind, else local
    std::string summary;                    ///< what the change does, for the commit and the pull request
    std::string sandbox;                    ///< where validation runs; empty: sandbox.mode, else bwrap
};

/// Commits what differs in the checkout for a decided task to its bot
/// branch, validates, pushes and opens or updates the pull request: the
/// change as delivery records it. Fails denied or pending when the decision
/// does not let the task change anything now.
Result<nlohmann::json> open_pull_request(const Site& site, const AgentTask& task, const policy::Decision& decision,
                                         const OpenRequest& request);

/// What became of the bot's open pull requests (merged, closed, fixed
/// elsewhere, base moved); a base that moved is rebuilt by a fresh task
/// admitted under policies. repository: only its pull requests (empty: all).
Result<std::vector<Transition>> sync_pull_requests(const Site& site, DeliveryOverrides delivery,
                                                   const PolicySources& policies, const std::string& repository);

/// Closes a bot pull request by hand (its findings declined until they
/// change), or reopens one (they may be proposed again). ref: #N, an id or
/// a unique id prefix; by: who, for the record.
Result<Transition> close_pull_request(const Site& site, DeliveryOverrides delivery, const std::string& ref,
                                      const std::string& by, bool close);

}  // namespace infra::core::change
