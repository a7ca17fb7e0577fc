#pragma once
// Drift detection: finds the Terraform root modules under some directories,
// runs `terraform plan -detailed-exitcode -json` in each (refresh-only when
// asked), and turns every drifted root into one drift-detection task whose
// dedupe key names the root, so a root has at most one open task.

#include "core/result.hpp"
#include "core/task.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace infra::core::drift {

/// Directories with .tf files that no other directory found uses as a
/// local module source (module "x" { source = "./modules/x" }). Hidden
/// directories and .terraform/ are skipped. Sorted.
std::vector<std::filesystem::path> find_roots(const std::vector<std::filesystem::path>& dirs);

struct Options {
    bool refresh_only = false;
    std::string terraform = "terraform";
    std::chrono::milliseconds timeout{std::chrono::minutes(30)};
};

/// What a plan of one root said.
struct Report {
    std::filesystem::path root;
    bool drifted = false;
    int add = 0, change = 0, remove = 0;
    nlohmann::json changes = nlohmann::json::array();  ///< [{address, action}] planned
    nlohmann::json drift = nlohmann::json::array();    ///< [{address, action}] changed outside Terraform
    /// What differs, attribute by attribute (resource_details()).
    nlohmann::json resources = nlohmann::json::array();
    std::string error;  ///< terraform failed: its error diagnostics
};

/// Initializes the root when it has no .terraform/ yet, then plans it.
/// An Error means terraform could not be run at all.
Result<Report> plan(const std::filesystem::path& root, const Options& options);

/// What a saved plan's JSON (`terraform show -json`) says differs between
/// the code and what is live, per resource: [{address, kind, attributes:
/// [{name, old, new} or {name, sensitive: true}]}]. kind is "changed"
/// (old is the code's or the state's value, new the live one: from
/// resource_drift, else an update's before), "deleted" (gone outside
/// Terraform), "not-in-state" (in the code only) or "not-in-code" (in the
/// state only). Sensitive values are left out; values that only the next
/// apply knows are skipped.
nlohmann::json resource_details(const nlohmann::json& plan);

/// Reads the machine-readable UI stream of `terraform plan -json`.
void read_plan_stream(std::string_view stream, Report& report);

/// The dedupe key of a root's drift tasks: the same for every scan, so a
/// later scan finds the open task, or the pull request a task opened.
std::string dedupe_key(const std::string& repository_id, const std::string& name);

/// The drift-detection task for a drifted root; `name` is the root as the
/// user sees it (relative to where they ran drift).
AgentTask task_for(const Report& report, const std::string& name, const std::string& repository_id, bool refresh_only);

}  // namespace infra::core::drift
