#pragma once
// Sortable task identifiers.

#include <chrono>
#include <string>

namespace infra::core::ids {

/// A new ULID (26 Crockford base32 characters): 48 bits of milliseconds then
/// 80 random bits, monotonic within one process, so ids sort by creation time.
std::string new_ulid();

/// A ULID for the given time; used by tests and by imports that keep a time.
std::string new_ulid(std::chrono::system_clock::time_point at);

/// True when s has the shape of a ULID.
bool is_ulid(std::string_view s);

}  // namespace infra::core::ids
