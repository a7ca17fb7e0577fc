#pragma once
// How `remediate` shows what became of each finding: a line per finding on
// a terminal, a `finding` record per finding in JSON, or a markdown table
// (also the GitHub Actions job summary, with an annotation per failure).

#include "cli/context.hpp"
#include "cli/exit_codes.hpp"
#include "core/worker.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace infra::cli {

/// What became of one finding.
struct FindingLine {
    std::string task_id, what, state, detail, agent, key;
    nlohmann::json pr;  ///< the pull request, when one was opened or updated
    int code = exit_code::ok;
};

/// Fills l's state, detail, pull request and exit code from what became
/// of its task.
void say(FindingLine& l, const core::TaskOutcome& task);

/// Prints the lines in format (text, json or markdown; empty: text on a
/// terminal, else json); returns the worst exit code among them.
int show_findings(Context& ctx, const std::vector<FindingLine>& lines, const std::string& format);

}  // namespace infra::cli
