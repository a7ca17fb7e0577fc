#pragma once
// The validation pipeline: the checks a change must pass before it is
// proposed, run in the sandbox, with a JSON report. By default, for each
// Terraform root the change touches: terraform fmt -check, init (no
// backend), validate, plan -detailed-exitcode -out, and show -json of the
// plan for the plan-scope check: the plan may touch only resources in the
// task's scope, and delete nothing unless policy allows it (allowDeletes).

#include "core/events/event.hpp"
#include "core/result.hpp"
#include "core/sandbox.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace infra::core::change {

using nlohmann::json;

/// One configured step: argv run from the repository root; "{dir}" in an
/// argument becomes the Terraform root being validated. A built-in step
/// (terraform-fmt, terraform-init, terraform-validate, terraform-plan, the
/// last with the plan-scope check) has no argv of its own.
struct Step {
    std::string name;
    std::vector<std::string> argv;
    std::string builtin;
};

/// The default pipeline: every built-in step, in order.
const std::vector<Step>& builtin_steps();

/// Steps from validation.steps: built-in step names, {name, run: [argv...]}
/// objects or argv lists; null or absent: an empty list (the defaults apply).
Result<std::vector<Step>> steps_from(const json& config);

struct StepResult {
    std::string name;
    std::string dir;
    std::vector<std::string> argv;
    bool ok = false;
    int exit_code = -1;
    double ms = 0;
    std::string output;  ///< stdout and stderr, cut to 8 KiB
};

struct Report {
    bool ok = true;
    bool ran = false;          ///< false when there was nothing to run
    bool changes = false;      ///< a plan has changes (terraform's exit 2)
    std::vector<StepResult> steps;
    json plan = json::object();  ///< per root: counts, resources touched, scope violations
    std::string plan_summary;    ///< "2 to add, 1 to change, 0 to destroy"
    std::string failure;         ///< the first failure, in one line

    json to_json() const;
};

struct ValidationOptions {
    std::vector<Step> steps;                  ///< empty: the Terraform defaults
    const sandbox::Sandbox* sandbox = nullptr;
    std::chrono::milliseconds step_timeout{300000};
    bool terraform = true;                    ///< false: terraform is not installed
    /// The files the change touched (relative to root): with base_content
    /// set, terraform fmt holds only them to account, and only when the
    /// change made them worse; without it, every unformatted file fails.
    std::vector<std::string> changed;
    /// A file's content before the change, or nullopt for a new file.
    std::function<std::optional<std::string>(const std::string& path)> base_content;
    events::EventSink* events = nullptr;      ///< where each step is recorded as a span
};

/// The plan-scope check of one `terraform show -json` document: every
/// resource change must be in scope (the task's resource, resources of
/// the same name it brings along, and constraints.planScope globs), and
/// none may delete unless constraints.allowDeletes. Returns the violations.
std::vector<std::string> plan_scope_violations(const json& plan, const json& task, const json& decision, json& touched);

/// The Terraform roots of a change: the directories of changed .tf files
/// (relative to root, "." for the top), or {"."} when there are none.
std::vector<std::string> terraform_roots(const std::vector<std::string>& changed_files);

/// Runs the pipeline on root for the given Terraform roots.
Result<Report> validate(const std::filesystem::path& root, const std::vector<std::string>& dirs, const json& task,
                        const json& decision, const ValidationOptions& opt);

/// True when `terraform` is on PATH.
bool terraform_on_path();

}  // namespace infra::core::change
