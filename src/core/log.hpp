#pragma once
// Logging to stderr through spdlog, as text or JSON, with one redaction
// layer that every line passes through.

#include <string>
#include <string_view>

namespace infra::core::log {

enum class Format { text, json };

/// Sets up the process-wide logger: level (trace, debug, info, warn, error,
/// off), format, and whether to colour the level on a terminal.
void setup(std::string_view level, Format format, bool color);

/// Adds a secret that must never be printed; every log line, event and
/// error message replaces it with "[REDACTED]". Transient secrets (minted
/// short-lived tokens, which only libgit2 and the forge client see) are kept
/// for the newest 64 only, so that redaction stays cheap in a long run.
void add_secret(std::string_view secret, bool transient = false);

/// s with every registered secret replaced.
std::string redact(std::string_view s);

/// True for a level name spdlog knows.
bool valid_level(std::string_view level);

}  // namespace infra::core::log
