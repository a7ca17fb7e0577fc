#pragma once
// Reading the audit log back: events by task, type and time (`events`),
// and the spans of a task's trace as a tree (`trace`), also as OTLP/JSON.

#include "core/events/audit.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace infra::core::events {

struct Filter {
    std::string task;                ///< a task id or a unique prefix of one
    std::vector<std::string> types;  ///< globs (task.*, span); any of them
    std::string since, until;        ///< RFC 3339 bounds, inclusive; empty: open
    std::int64_t after_seq = 0;      ///< only events after this one
    std::size_t limit = 0;           ///< 0: all
};

/// The events that pass filter, in order, read in one read transaction (one
/// snapshot; not to be called inside another transaction).
Status query(store::Db& db, const Filter& filter, const std::function<Status(const audit::Record&)>& visit);

/// One span read back, with its children (a tree).
struct SpanNode {
    Event event;  ///< type "span"; data has name, times, status, attributes
    std::vector<SpanNode> children;

    const std::string& name() const;
    std::int64_t start_ns() const;
    std::int64_t end_ns() const;
};

/// The spans of task's trace: every span of the task, its ancestors, and
/// their subtrees in that trace, as trees ordered by start time, all of them
/// spans of this task or of none (an intake, an ingest). Spans whose parent
/// was not recorded (a CI job's span) are roots.
Result<std::vector<SpanNode>> trace_of(store::Db& db, const std::string& task_id);

/// What trace_of asks of the events table (after audit::k_select), each
/// found through an index: a task's events by events_by_task, then the
/// spans of no task in each of its traces by untasked_spans_by_trace.
extern const char* const k_events_of_task;
extern const char* const k_untasked_spans_of_trace;

/// The task with events that a prefix of its id names: the exact id, else
/// the one id that starts with it; nothing when none does, and a usage error
/// when more than one does.
Result<std::optional<std::string>> task_with_prefix(store::Db& db, const std::string& prefix);

/// A span event as an OTLP/JSON span (trace and span ids in hex, times as
/// decimal strings, attributes as key/value lists).
json otlp_span(const Event& span);

/// An OTLP/JSON ExportTraceServiceRequest of spans from this service.
json otlp_request(const std::vector<Event>& spans);

}  // namespace infra::core::events
