#pragma once
// Output formats other tools read: SARIF 2.1.0 (code scanning, review
// tools), markdown tables (CI job summaries, chat), and the workflow
// commands GitHub Actions turns into annotations. A finding is written once
// as a Finding and rendered in each.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace infra::core::report {

struct Finding {
    std::string rule;               ///< infra-agent/drift, infra-agent/validation/terraform-plan ...
    std::string rule_title;         ///< one line about the rule
    std::string level = "warning";  ///< error, warning or note
    std::string message;
    std::string file;      ///< relative to the repository, when known
    int line = 0;          ///< 1-based, 0 when unknown
    std::string resource;  ///< a Terraform address, when there is one
};

/// A SARIF 2.1.0 log of one run of infra-agent with these findings.
nlohmann::json sarif(const std::vector<Finding>& findings, const std::string& version);

/// A GitHub Actions workflow command for a finding: `::error file=F,line=L,title=T::message`.
std::string actions_annotation(const Finding& f);

/// True inside a GitHub Actions job (GITHUB_ACTIONS=true).
bool in_github_actions();

/// Appends markdown to the job summary ($GITHUB_STEP_SUMMARY), when there is one.
void append_step_summary(const std::string& markdown);

/// A markdown table: header row, then rows; cells have | and newlines escaped.
std::string markdown_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

/// Where `resource "TYPE" "NAME"` of address is declared among root's .tf
/// files (module prefixes and indexes ignored): the file relative to base,
/// and the line.
std::optional<std::pair<std::string, int>>
locate_resource(const std::filesystem::path& root, const std::string& address, const std::filesystem::path& base);

}  // namespace infra::core::report
