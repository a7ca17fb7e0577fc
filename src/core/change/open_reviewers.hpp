#pragma once
// What `serve` needs to act on reviewers' approvals and commands on its
// pull requests: the forge's reviewer API (forge.kind, forge.base_url), with
// tokens from the credential broker.

#include "core/change/forges.hpp"
#include "core/creds/open.hpp"
#include "core/site.hpp"

#include <memory>

namespace infra::core::change {

struct ReviewersSetup {
    creds::BrokerHandle creds;  ///< with the broker of forge.token_env's token when the provider cannot mint
    std::unique_ptr<Reviewers> reviewers;
};

/// The reviewers of forge.kind, their mints recorded in sink; null for a
/// forge without (local, whose approvals are `approve` and the REST API).
Result<std::unique_ptr<ReviewersSetup>> open_reviewers(const Site& site, events::EventSink* sink);

}  // namespace infra::core::change
