#pragma once
// Shared by the built-in signal parsers.

#include "core/signals/build.hpp"

#include <initializer_list>
#include <string_view>

namespace infra::plugins::signals {

using core::Errc;
using core::Status;
using core::json;
using core::signals::IngestOptions;
using core::signals::Sink;

/// How many of the quoted JSON keys (or literal markers) appear in the
/// prefix, as a detection score: each marker found adds its share of 100.
int marker_score(std::string_view prefix, std::initializer_list<std::string_view> markers);

/// An Error for a record field: "field: what".
core::Error field_error(const std::string& field, const std::string& what);

/// A line number from a JSON value that may be a number or a numeric string.
long long line_of(const json& v);

/// Tags from a JSON object of strings, or from a list of {Key, Value} /
/// {key, value} pairs, or "key:value" strings.
std::map<std::string, std::string> tags_of(const json& v);

}  // namespace infra::plugins::signals
