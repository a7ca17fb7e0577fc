// What a command line that does not parse is told: the error in a whole
// sentence, the nearest command when a name was mistyped, and the help of
// the command it got as far as.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace infra::cli {

/// The candidate closest to word by edit distance, when it is close enough
/// to be a typo of it (one edit per three letters, at least one); else empty.
std::string nearest_name(const std::string& word, const std::vector<std::string>& candidates);

/// Logs the parse error of app's command line (command is the name the
/// line gives as the command, empty when none) and returns exit 64.
int report_usage_error(CLI::App& app, const CLI::ParseError& error, const std::string& command);

}  // namespace infra::cli
