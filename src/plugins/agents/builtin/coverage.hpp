#pragma once
// The coverage table of docs/agents.md, generated from the checks
// (`infra-agent plugins --fix-table` prints it; a test keeps the docs current).

#include "plugins/agents/builtin/checks.hpp"

#include <string>
#include <vector>

namespace infra::plugins::agents::builtin {

/// A Markdown table: one row per check, by Checkov id, with its resource
/// types, the other scanners' ids of the rules catalogue, and where it is written.
std::string coverage_table(const std::vector<Check>& checks);

}  // namespace infra::plugins::agents::builtin
