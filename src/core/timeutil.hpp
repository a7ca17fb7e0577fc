#pragma once
// RFC 3339 times and human durations ("30s", "15m", "2h").

#include "core/result.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace infra::core::timeutil {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

/// Formats t as RFC 3339 UTC with milliseconds: 2026-11-24T12:00:00.000Z.
std::string format_rfc3339(TimePoint t);

/// A time in milliseconds since the Unix epoch (as the state db keeps them),
/// formatted as format_rfc3339 does.
std::string format_rfc3339_ms(std::int64_t unix_ms);

/// The current time as format_rfc3339 gives it.
std::string now_rfc3339();

/// Parses the RFC 3339 / ISO 8601 forms that signals use: a 'Z' or a numeric
/// offset (+00:00 or +0000), optional fractional seconds, a missing zone read
/// as UTC. Returns nothing when s is not such a time.
std::optional<TimePoint> parse_rfc3339(std::string_view s);

/// Normalizes a timestamp from a signal to RFC 3339 UTC; nothing if invalid.
std::optional<std::string> normalize(std::string_view s);

/// Parses a duration such as 500ms, 30s, 15m, 2h, 7d or 1h30m.
Result<std::chrono::milliseconds> parse_duration(std::string_view s);

/// Formats a duration compactly (1h30m, 250ms).
std::string format_duration(std::chrono::milliseconds d);

}  // namespace infra::core::timeutil
