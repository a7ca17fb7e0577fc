#pragma once
// Shared by the built-in signal parsers.

#include "core/signals/tasks.hpp"

#include <functional>
#include <initializer_list>
#include <string_view>

namespace infra::plugins::signals {

// The names every parser uses.
using core::AgentTask;
using core::Errc;
using core::json;
using core::Status;
using core::TaskType;
using core::json_stream::Context;
using core::json_stream::DocumentShape;
using core::json_stream::Record;
using core::signals::Finding;
using core::signals::IngestOptions;
using core::signals::Sink;
using core::signals::str;
using core::signals::str_at;

/// How many of the quoted JSON keys (or literal markers) appear in the
/// prefix, as a detection score: each marker found adds its share of 100.
int marker_score(std::string_view prefix, std::initializer_list<std::string_view> markers);

/// Whether the document's root object (or a root array's first element)
/// has any of these keys.
bool has_any_key(const DocumentShape& s, std::initializer_list<std::string_view> keys);

/// An Error for a record field: "field: what".
core::Error field_error(const std::string& field, const std::string& what);

/// Runs fn, which writes the tasks of one whole body (what names it in
/// errors: "payload", "'pull_request' payload"), as one batch of sink: all
/// or nothing. An exception (a field of an unexpected type deep in the
/// body) is invalid input; errors are prefixed with the input's name.
Status in_one_batch(const std::string& name, const std::string& what, Sink& sink, const std::function<Status()>& fn);

/// Makes each record into tasks with to_task (a parser's own function).
using ToTask = Status (*)(const Record& r, const Context& ctx, const IngestOptions& opt, Sink& out);
core::signals::RecordFn tasks_by(const IngestOptions& opt, ToTask to_task);

/// A line number from a JSON value that may be a number or a numeric string.
long long line_of(const json& v);

/// Tags from a JSON object of strings, or from a list of {Key, Value} /
/// {key, value} pairs, or "key:value" strings.
std::map<std::string, std::string> tags_of(const json& v);

}  // namespace infra::plugins::signals
