#pragma once
// The validation pipeline: the checks a change must pass before it is
// proposed, run in the sandbox, with a JSON report. By default, for each
// Terraform root the change touches: terraform fmt -check, init (no
// backend), validate, plan -detailed-exitcode -out, and show -json of the
// plan for the plan-scope check: the plan may touch only resources in the
// task's scope, and delete nothing unless policy allows it (allowDeletes).

#include "core/change/pipeline.hpp"
#include "core/events/event.hpp"
#include "core/policy/policy.hpp"
#include "core/result.hpp"
#include "core/sandbox.hpp"
#include "core/task.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace infra::core::change {

using nlohmann::json;

/// One configured step: argv run from the repository root; "{dir}" in an
/// argument becomes the Terraform root being validated. A built-in step
/// (terraform-fmt, terraform-init, terraform-validate, terraform-plan, the
/// last with the plan-scope check) has no argv of its own; a remote
/// pipeline has neither, and runs once the branch is pushed.
struct Step {
    std::string name;
    std::vector<std::string> argv;
    std::string builtin;
    std::optional<PipelineSpec> pipeline = std::nullopt;
};

/// True when some step is a remote pipeline.
bool has_pipelines(const std::vector<Step>& steps);

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
    std::string output;    ///< stdout and stderr, cut to 8 KiB
    std::string url = {};  ///< a remote pipeline's run
    bool remote = false;   ///< a remote pipeline
};

struct Report {
    bool ok = true;
    bool ran = false;      ///< false when there was nothing to run
    bool changes = false;  ///< a plan has changes (terraform's exit 2)
    std::vector<StepResult> steps;
    json plan = json::object();  ///< per root: counts, resources touched, scope violations
    std::string plan_summary;    ///< "2 to add, 1 to change, 0 to destroy"
    std::string failure;         ///< the first failure, whole, in one line
    std::string hint;            ///< what to do about it, when something can be done
    /// It failed for want of something outside the change (providers that
    /// cannot be installed here), not because of what the change does.
    bool unavailable = false;
    /// Steps that did not run, and why ("terraform plan: not run (validation.plan is none)").
    std::vector<std::string> skipped;
    /// Per root: where its providers came from.
    json providers = json::object();

    json to_json() const;
};

/// validation.plan: how a root is planned. offline (the default): a plan of
/// the configuration alone (-refresh=false, no backend), which providers
/// make without credentials; none: no plan.
enum class PlanMode { offline, none };

/// Parses "offline" or "none" ("remote" plans are validation.steps pipelines).
Result<PlanMode> parse_plan_mode(std::string_view s);

class ProviderCache;

struct ValidationOptions {
    std::vector<Step> steps;  ///< empty: the Terraform defaults
    const sandbox::Sandbox* sandbox = nullptr;
    std::chrono::milliseconds step_timeout{300000};
    bool terraform = true;  ///< false: terraform is not installed
    /// The files the change touched (relative to root): with base_content
    /// set, terraform fmt holds only them to account, and only when the
    /// change made them worse; without it, every unformatted file fails.
    std::vector<std::string> changed;
    /// A file's content before the change, or nullopt for a new file.
    std::function<std::optional<std::string>(const std::string& path)> base_content;
    events::EventSink* events = nullptr;  ///< where each step is recorded as a span
    /// Where each root's saved plan is kept (a tier-4 change, applied later
    /// by `apply` only as it was planned); empty: plans are not kept.
    std::filesystem::path plans_dir;
    /// terraform init with the configured backend, so that the plan is made
    /// against the real state (needed to apply it); else -backend=false.
    bool backend = false;
    /// Directories of local Terraform state bound into the sandbox when
    /// backend is set (sandbox.state_dirs).
    std::vector<std::filesystem::path> state_dirs;
    /// Installs the base's providers and modules outside the sandbox, for the
    /// offline terraform steps; null: terraform in the sandbox has only what
    /// it finds (no network).
    std::shared_ptr<ProviderCache> providers;
    /// The base commit's files (made once, on first use); empty function:
    /// the providers are taken from the cache as it is.
    std::function<Result<std::filesystem::path>()> base_tree;
    PlanMode plan = PlanMode::offline;
    /// base_tree is the base commit (not the directory being validated): a
    /// plan made without state is compared with the base's own plan, so the
    /// plan-scope check judges only what the change changes.
    bool compare_with_base = false;
};

/// A root's saved plan as `apply` finds it: <plans_dir>/<n>.tfplan, where n
/// is the root's position in the report's plan.
std::string saved_plan_name(std::size_t index);

/// The plan-scope check of one `terraform show -json` document: every
/// resource change must be in scope (the task's resource, resources of
/// the same name it brings along, and constraints.planScope globs), and
/// none may delete unless constraints.allowDeletes. Returns the violations.
std::vector<std::string> plan_scope_violations(const json& plan, const AgentTask& task,
                                               const policy::Decision& decision, json& touched);

/// The Terraform roots of a change: the directories of changed .tf files
/// (relative to root, "." for the top), or {"."} when there are none.
std::vector<std::string> terraform_roots(const std::vector<std::string>& changed_files);

/// Whether the pipeline runs terraform: the default steps, or a built-in one.
bool runs_terraform(const ValidationOptions& opt);

/// Runs the pipeline on root for the given Terraform roots.
Result<Report> validate(const std::filesystem::path& root, const std::vector<std::string>& dirs, const AgentTask& task,
                        const policy::Decision& decision, const ValidationOptions& opt);

/// Runs the remote pipelines among steps for a pushed change and adds their
/// results to report (ok, failure, planSummary when it had none). The
/// pipelines run one after the other; the first that fails stops them. With
/// plans_dir, a plan a pipeline saved is kept there, in report.plan under
/// "pipeline:NAME".
Status run_pipelines(const std::vector<Step>& steps, PipelineRunner& runner, const PipelineTarget& target,
                     Report& report, events::EventSink* events, const std::filesystem::path& plans_dir = {});

/// True when `terraform` is on PATH.
bool terraform_on_path();

}  // namespace infra::core::change
