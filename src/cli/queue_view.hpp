#pragma once
// How queue entries look: JSON for scripts, aligned lines for people.

#include "core/queue/queue.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace infra::cli {

/// An entry as JSON (times in RFC 3339).
nlohmann::json entry_json(const core::queue::Entry& e, bool full);

/// "5m" style age of an epoch-milliseconds time.
std::string age(std::int64_t ms);

}  // namespace infra::cli
