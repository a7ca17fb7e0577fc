#pragma once
// The cross-scanner rule catalogue: the same misconfiguration under the ids
// that Checkov, Trivy/tfsec (AVD-AWS-nnnn, AWS-nnnn, long ids) and SARIF
// uploads use, so that one issue gets one dedupe key whoever reported it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infra::core::scanner_rules {

/// One entry of the catalogue.
struct Rule {
    std::string_view id;  ///< the canonical id (Checkov's where it has one)
    std::string_view title;
    std::string_view severity;              ///< default when a scanner reports none: critical|high|medium|low
    std::vector<std::string_view> aliases;  ///< other scanners' ids for the same check
};

/// The canonical id for a scanner's rule id: the catalogue's id when the id
/// or an alias is known, else the id itself with Trivy's "AVD-" prefix
/// dropped (Trivy renamed AVD-AWS-0089 to AWS-0089), upper-cased.
std::string canonical_id(std::string_view rule_id);

/// The catalogue entry for a rule id or alias, if known.
const Rule* find(std::string_view rule_id);

/// Every entry, for documentation and tests.
const std::vector<Rule>& catalogue();

}  // namespace infra::core::scanner_rules
