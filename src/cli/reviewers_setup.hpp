#pragma once
// What `serve` needs to act on reviewers' approvals and commands on its
// pull requests: the forge's reviewer API (forge.kind, forge.base_url), with
// tokens from the credential broker, and the gated apply of a task.

#include "cli/context.hpp"
#include "core/change/reviewers.hpp"
#include "core/creds/open.hpp"
#include "core/serve/reviews.hpp"

#include <memory>

namespace infra::cli {

struct ReviewersSetup {
    core::creds::BrokerHandle creds;
    /// forge.token_env's token, when the credential provider cannot mint one.
    std::unique_ptr<core::creds::Provider> env_provider;
    std::unique_ptr<core::creds::Broker> env_broker;
    std::unique_ptr<core::change::Reviewers> reviewers;
};

/// The reviewers of forge.kind github or gitlab; null for the local forge,
/// whose approvals are `approve` and the REST API.
core::Result<std::unique_ptr<ReviewersSetup>> open_reviewers(Context& ctx, core::events::EventSink* sink);

/// The gated apply of a task as `apply TASK --as BY` runs it (git.repo, the
/// sandbox, or apply.pipeline), audited in sink.
core::serve::ApplyFn gated_apply(Context& ctx, core::events::EventSink* sink);

}  // namespace infra::cli
