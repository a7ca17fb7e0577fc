#pragma once
// Remote pipelines as validation steps: the organisation's own CI runs on
// the pushed bot branch (a GitHub Actions workflow dispatched for it, the
// check runs GitHub reports on its commit, or a GitLab pipeline), and its
// conclusion, link and plan summary join the validation report. A step in
// validation.steps names one with `pipeline:`:
//
//   - name: ci-plan
//     pipeline: {kind: github-actions, workflow: plan.yml, timeout: 30m,
//                summary: {artifact: plan, file: plan.txt}}
//   - name: checks
//     pipeline: {kind: github-checks, checks: [plan, tflint]}
//   - name: gitlab-plan
//     pipeline: {kind: gitlab, project: acme/infra, summary: log}
//
// A pipeline that saves its plan as an artifact (plan: {artifact, file})
// hands it over: for a tier-4 change that is the saved plan reviewers
// approve, applied by the pipeline configured as apply.pipeline.

#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace infra::core::change {

using nlohmann::json;

struct PipelineSpec {
    std::string kind;        ///< github-actions, github-checks, gitlab
    std::string workflow;    ///< github-actions: the workflow file name or id
    std::string project;     ///< gitlab: the project path or id; empty: the task's repository
    std::string repository;  ///< github: owner/name; empty: the task's repository
    /// Inputs (GitHub) or variables (GitLab); values may hold {branch},
    /// {commit}, {task} and {trace}. Absent: branch, task_id and trace_id.
    std::map<std::string, std::string> inputs;
    bool inputs_given = false;
    std::vector<std::string> checks;  ///< github-checks: the names to wait for; empty: every check run
    std::chrono::milliseconds timeout{std::chrono::minutes(30)};
    std::chrono::milliseconds poll{std::chrono::seconds(5)};  ///< the first wait; it grows to a minute
    /// Where the plan summary is read: "log" (the jobs' logs, for terraform's
    /// "Plan: ..." line), an artifact's file, or nothing.
    std::string summary = "log";
    std::string artifact, artifact_file;
    /// The saved plan the pipeline made: a terraform plan file in an
    /// artifact (GitHub: the artifact's name; GitLab: the job's name).
    std::string plan_artifact, plan_file;
};

/// A `pipeline:` object of validation.steps[i]; where names it in errors.
Result<PipelineSpec> pipeline_from(const json& j, const std::string& where);

/// What the pipeline ran on.
struct PipelineTarget {
    std::string repository;  ///< owner/name of the pushed repository
    std::string branch, commit, task_id, trace_id;
    /// More inputs sent by default, and {NAME} in configured ones (apply's
    /// plan_sha256 and plan_run).
    std::map<std::string, std::string> extra = {};
};

struct PipelineOutcome {
    bool ok = false;
    bool timed_out = false;
    std::string conclusion;  ///< success, failure, cancelled, timed out ...
    std::string url;         ///< the run, pipeline or check run a person can open
    std::string summary;     ///< the plan summary, when one was found
    std::string detail;      ///< one line per job or check run
    int polls = 0;
    std::string run_id;  ///< the run or pipeline id
    std::string plan;    ///< the plan file's bytes, when spec.plan_artifact names one
};

/// Runs remote pipelines and waits for their conclusion.
class PipelineRunner {
public:
    virtual ~PipelineRunner() = default;
    /// An Error when the pipeline could not be started or watched (no
    /// token, an API error); a pipeline that ran and failed or did not
    /// finish in time is an outcome that is not ok.
    virtual Result<PipelineOutcome> run(const PipelineSpec& spec, const PipelineTarget& target) = 0;
};

/// {branch}, {commit}, {task}, {trace} and {NAME} of target.extra in s
/// replaced from target.
std::string expand(const std::string& s, const PipelineTarget& target);

/// The inputs or variables to send: spec.inputs expanded, or the defaults
/// (branch, task_id, trace_id and target.extra).
std::map<std::string, std::string> inputs_for(const PipelineSpec& spec, const PipelineTarget& target);

/// Terraform's plan summary in a log or file: "2 to add, 1 to change, 0 to
/// destroy" from its "Plan: ..." line, "no changes" from "No changes.", or
/// "" when there is neither.
std::string plan_summary_in(const std::string& text);

/// The next wait of a poll loop: half again as long, at most a minute.
std::chrono::milliseconds next_poll(std::chrono::milliseconds current);

}  // namespace infra::core::change
