#pragma once
// What a process that owns the state store records with: the state db, its
// event store (the audit log), span export and notifications when configured.

#include "core/events/event.hpp"
#include "core/events/otlp_exporter.hpp"
#include "core/notify.hpp"
#include "core/site.hpp"
#include "core/store/db.hpp"

#include <memory>

namespace infra::core {

struct Recorder {
    std::unique_ptr<store::Db> state;
    std::unique_ptr<events::StateSink> store;
    std::unique_ptr<events::OtlpExporter> exporter;  ///< null without otlp.endpoint
    std::unique_ptr<notify::Notifier> notifier;      ///< null when notifications are off
    events::EventSink* events = nullptr;             ///< the notifier, else the exporter, else the store

    Recorder() = default;
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;
    ~Recorder();  ///< the notifier and the exporter drain before the store closes
};

/// Opens the state db of the site's home (migrated) and the event pipeline over it.
Status open_recorder(const Site& site, Recorder& into);

/// Notifications: on when a Slack-compatible incoming-webhook URL is in
/// $INFRA_AGENT_SLACK_WEBHOOK_URL, or in the variable that
/// notify.slack_webhook_url_env names (the URL is a secret: never in config).
std::unique_ptr<notify::Notifier> open_notifier(const Site& site, events::EventSink& sink);

/// Span export: on when otlp.endpoint is set, or the standard
/// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT (with
/// OTEL_EXPORTER_OTLP_HEADERS for an API key). Null when none is
/// configured; a usage error for an endpoint that is not an http(s) URL.
Result<std::unique_ptr<events::OtlpExporter>> open_exporter(const Site& site, events::EventSink& sink);

}  // namespace infra::core
