#pragma once
// Sends spans to an OpenTelemetry collector over OTLP/HTTP (JSON encoding,
// POST <endpoint>/v1/traces), batched on a thread of its own. A task never
// waits for it: spans queue in a bounded buffer (the oldest are dropped, and
// counted, when the collector cannot keep up), a failed batch is retried a
// few times with backoff on the statuses OTLP calls retryable, then dropped.

#include "core/events/event.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace infra::core::events {

struct OtlpOptions {
    std::string endpoint;  ///< http://collector:4318 (or a full URL ending in /v1/traces)
    std::vector<std::pair<std::string, std::string>> headers;  ///< e.g. an API key header
    std::size_t max_queue = 8192;                              ///< spans held while the collector is slow
    std::size_t max_batch = 512;
    std::chrono::milliseconds interval{1000};  ///< longest a span waits for its batch
    std::chrono::milliseconds timeout{5000};   ///< per request
    int max_attempts = 4;                      ///< per batch
    std::chrono::milliseconds backoff{250};    ///< doubled after each failed attempt
};

/// The URL spans are posted to: endpoint + "/v1/traces" unless it ends so.
std::string otlp_traces_url(const std::string& endpoint);

/// Parses OTEL_EXPORTER_OTLP_HEADERS' form: "k1=v1,k2=v2" (values URL-encoded).
std::vector<std::pair<std::string, std::string>> parse_otlp_headers(const std::string& text);

/// An EventSink that passes every event on to inner and exports the spans.
class OtlpExporter final : public EventSink {
public:
    OtlpExporter(EventSink& inner, OtlpOptions options);
    ~OtlpExporter() override;

    void emit(Event e) override;
    /// Flushes inner, then waits (at most options.timeout) for queued spans to be sent.
    void flush() override;

    std::size_t exported() const;
    std::size_t dropped() const;

private:
    void loop();
    bool send(const std::vector<Event>& batch);

    EventSink& m_inner;
    OtlpOptions m_opt;
    std::string m_url;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake, m_idle;
    std::deque<Event> m_queue;
    bool m_stop = false;
    bool m_busy = false;
    bool m_flush = false;
    std::size_t m_exported = 0, m_dropped = 0;
    std::thread m_thread;
};

}  // namespace infra::core::events
