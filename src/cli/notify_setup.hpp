#pragma once
// Notifications for the commands that make or run tasks (enqueue, worker,
// remediate, serve): on when a Slack-compatible incoming-webhook URL is in
// $INFRA_AGENT_SLACK_WEBHOOK_URL, or in the variable that
// notify.slack_webhook_url_env names (the URL is a secret: never in config).

#include "cli/context.hpp"
#include "core/notify.hpp"

#include <cstdlib>
#include <memory>

namespace infra::cli {

/// A Notifier in front of sink, or null when notifications are off.
inline std::unique_ptr<core::notify::Notifier> open_notifier(Context& ctx, core::events::EventSink& sink)
{
    auto config = ctx.config();
    std::string var = config ? (*config)->get_or("notify.slack_webhook_url_env", "INFRA_AGENT_SLACK_WEBHOOK_URL")
                             : "INFRA_AGENT_SLACK_WEBHOOK_URL";
    const char* url = std::getenv(var.c_str());
    if (!url || !*url) return nullptr;
    return std::make_unique<core::notify::Notifier>(sink, url);
}

}  // namespace infra::cli
