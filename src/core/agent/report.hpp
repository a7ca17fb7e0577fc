#pragma once
// What an agent said about one attempt, read once from its outcome's result
// (the JSON an agent writes, the queue stores and `run` prints). An agent's
// result is its own to shape: a field that is absent or of another type
// reads as empty, never as an error.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace infra::core::agent {

/// What became of one finding of a task (result.findings[]).
struct FindingReport {
    std::string key;     ///< the finding's dedupe key
    std::string state;   ///< fixed, already-passing or not-fixed
    std::string reason;  ///< why it was not fixed
};

struct Report {
    std::string summary;             ///< one line: the commit message's body, the pull request's lead
    std::string details;             ///< markdown the pull request carries as written (a drift's attributes)
    std::string diff;                ///< the change as the agent saw it
    std::vector<std::string> notes;  ///< what a reviewer should know
    std::vector<FindingReport> findings;

    /// What the agent said of the finding with this key (the last it said);
    /// null when it said nothing of it, or key is empty.
    const FindingReport* finding(std::string_view key) const;
};

Report read_report(const nlohmann::json& result);

}  // namespace infra::core::agent
