#pragma once
// Traces: W3C trace context (traceparent) and spans. A span is recorded as
// one event of type "span" when it ends; the events emitted while it is the
// thread's current span carry its trace and span ids, so every event of a
// task can be placed in its trace.
//
// The current span is per thread, as in OpenTelemetry: a worker thread that
// runs a task makes the task's context current (ContextScope) and every span
// it opens below is a child of it.

#include "core/events/event.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace infra::core::events {

/// A trace id (32 lower-case hex digits) and a span id (16), as in W3C
/// trace context. Both empty means "no trace".
struct SpanContext {
    std::string trace_id;
    std::string span_id;
    bool empty() const { return trace_id.empty(); }
};

/// Parses a W3C traceparent header (version 00: "00-TRACE-SPAN-FLAGS");
/// nothing when it is malformed or names the all-zero trace or span, which
/// the recommendation says to ignore.
std::optional<SpanContext> parse_traceparent(std::string_view header);

/// "00-TRACE-SPAN-01" (sampled: every span is recorded); "" without both ids.
std::string to_traceparent(const SpanContext& ctx);

std::string new_trace_id();
std::string new_span_id();

/// The context of the span current on this thread; empty when none.
const SpanContext& current_context();

/// Makes ctx the thread's current context until the scope ends (a
/// context received from elsewhere: a task's traceparent, a webhook header,
/// TRACEPARENT in a CI job).
class ContextScope {
public:
    explicit ContextScope(SpanContext ctx);
    ~ContextScope();
    ContextScope(const ContextScope&) = delete;
    ContextScope& operator=(const ContextScope&) = delete;

private:
    SpanContext m_saved;
};

/// The context for work started by this process: TRACEPARENT from the
/// environment when it is valid (a CI job's trace), else a new trace.
SpanContext process_root_context();

/// One timed operation. Opening a span makes it the thread's current span
/// (a child of the one that was current, or the root of a new trace); end()
/// or the destructor records it and restores the parent. Attributes follow
/// OpenTelemetry's names where they exist (gen_ai.*, error.type ...).
class Span {
public:
    Span(EventSink& sink, std::string name, std::string task_id = {}, json attributes = json::object());
    ~Span();
    Span(const Span&) = delete;
    Span& operator=(const Span&) = delete;

    void set(const std::string& key, json value);
    /// Marks the span failed with message (status ERROR).
    void fail(std::string_view message);
    /// Records the span now; later calls do nothing.
    void end();

    const SpanContext& context() const { return m_ctx; }
    std::string traceparent() const { return to_traceparent(m_ctx); }

private:
    EventSink& m_sink;
    std::string m_name;
    std::string m_task_id;
    json m_attributes;
    SpanContext m_ctx;
    SpanContext m_parent;
    std::int64_t m_start_ns;
    std::string m_error;
    bool m_ended = false;
};

/// Records a span measured elsewhere (the time a task waited in the queue),
/// as a child of parent, without making it current. span_id names it when
/// others already refer to it (empty: a new one).
void record_span(EventSink& sink, const std::string& name, const std::string& task_id, const SpanContext& parent,
                 std::int64_t start_unix_ns, std::int64_t end_unix_ns, json attributes = json::object(),
                 const std::string& span_id = {}, const std::string& error = {});

/// Sets a policy evaluation span's attributes from a PolicyDecision:
/// policy.allowed, policy.tier, policy.reason, policy.matched_rules,
/// policy.required_approvals, policy.digest.
void describe_decision(Span& span, const json& decision);

/// Now, in nanoseconds since the Unix epoch.
std::int64_t now_unix_ns();

}  // namespace infra::core::events
