#pragma once
// What the commands that make tasks (enqueue, remediate, drift, chat,
// schedule run, serve) open before they admit them: the policy engine, the
// state db, the event store (with notifications when configured) and the
// queue; and the recording part alone, for run.

#include "cli/context.hpp"
#include "cli/policy_common.hpp"
#include "core/events/otlp_exporter.hpp"
#include "core/intake.hpp"
#include "core/notify.hpp"

#include <memory>
#include <string>

namespace infra::cli {

/// What a process that owns the state store records with: the state db, its
/// event store (the audit log), span export and notifications when configured.
struct Recorder {
    std::unique_ptr<core::store::Db> state;
    std::unique_ptr<core::events::StateSink> store;
    std::unique_ptr<core::events::OtlpExporter> exporter;  ///< null without otlp.endpoint
    std::unique_ptr<core::notify::Notifier> notifier;      ///< null when notifications are off
    core::events::EventSink* events = nullptr;             ///< the notifier, else the exporter, else the store

    Recorder() = default;
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;
    ~Recorder();  ///< the notifier and the exporter drain before the store closes
};

/// Opens the state db of ctx's home (migrated) and the event pipeline over it.
core::Status open_recorder(Context& ctx, Recorder& into);

struct Intake : Recorder {
    std::unique_ptr<core::policy::Engine> engine;
    std::unique_ptr<core::queue::Queue> queue;

    /// Admits tasks (core::intake::admit) and flushes the events.
    core::Result<std::vector<core::intake::Admitted>> admit(std::vector<core::AgentTask> tasks,
                                                            const core::intake::Options& options);

    ~Intake();  ///< the queue closes before the events it writes to
};

/// Opens everything; queue_url is --queue (empty: queue.url, else the state db).
core::Result<std::unique_ptr<Intake>> open_intake(Context& ctx, const PolicyFlags& policies,
                                                  const std::string& queue_url);

/// Notifications: on when a Slack-compatible incoming-webhook URL is in
/// $INFRA_AGENT_SLACK_WEBHOOK_URL, or in the variable that
/// notify.slack_webhook_url_env names (the URL is a secret: never in config).
std::unique_ptr<core::notify::Notifier> open_notifier(Context& ctx, core::events::EventSink& sink);

/// Span export: on when otlp.endpoint is set, or the standard
/// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT (with
/// OTEL_EXPORTER_OTLP_HEADERS for an API key).
/// Null when none is configured; a usage error for an endpoint that is not an http(s) URL.
core::Result<std::unique_ptr<core::events::OtlpExporter>> open_exporter(Context& ctx, core::events::EventSink& sink);

}  // namespace infra::cli
