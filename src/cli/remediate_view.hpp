#pragma once
// How `remediate` shows what became of each finding: a line per finding on
// a terminal, a `finding` record per finding in JSON, or a markdown table
// (also the GitHub Actions job summary, with an annotation per failure).

#include "cli/context.hpp"
#include "core/remediate.hpp"

#include <string>
#include <vector>

namespace infra::cli {

/// Prints the lines in format (text, json or markdown; empty: text on a
/// terminal, else json); returns the worst exit code among them.
int show_findings(Context& ctx, const std::vector<core::remediate::FindingOutcome>& lines, const std::string& format);

}  // namespace infra::cli
