#pragma once
// The tier-4 gated apply. A production change is proposed like any other
// (branch, validation, pull request), and its validation keeps the saved
// plan of each Terraform root, made against the real state, with its
// SHA-256 in the task's result and the pull request. Reviewers approve that
// plan by its hash (`approve TASK`), one approval per group the decision
// requires; `apply TASK` then runs `terraform apply` of exactly those plan
// files, in the sandbox, on the commit they were made from, once. Anything
// else is refused: a task below tier 4 or without a saved plan, a plan
// file that changed, a branch that moved, a plan applied before (exit 3),
// or an approval still missing (exit 4). Every approval, refusal and apply
// is an audited event.

#include "core/approval.hpp"
#include "core/change/pipeline.hpp"
#include "core/events/event.hpp"
#include "core/git.hpp"
#include "core/queue/queue.hpp"
#include "core/result.hpp"
#include "core/sandbox.hpp"
#include "core/store/db.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace infra::core::change {

using nlohmann::json;

struct SavedPlan {
    std::string dir;     ///< the Terraform root, relative to the repository
    std::string file;    ///< the plan file's name in PlanSet::dir
    std::string sha256;  ///< recorded when validation kept it
    /// Where a remote pipeline's plan came from ({kind, run, url, artifact,
    /// file}); null for a plan made in the sandbox.
    json pipeline;
};

struct PlanSet {
    std::string task_id;
    std::filesystem::path dir;  ///< where the plan files are kept
    std::vector<SavedPlan> roots;
    /// What approvals name: the one root's plan hash, or the SHA-256 of
    /// "DIR SHA256\n" over every root in order.
    std::string digest;
    std::string branch, commit;
};

/// The saved plans a tier-4 task's run kept. Errc::denied for a task below
/// tier 4 or whose run kept no plan; Errc::conflict for a task that has not
/// succeeded.
Result<PlanSet> saved_plans(const queue::Entry& e);

/// Hashes each plan file again: Errc::denied naming the first that is
/// missing or no longer the plan that was saved.
Status verify_plan_files(const PlanSet& plans);

struct PlanApproval {
    std::string group, by, digest;
    std::int64_t at_ms = 0;
};

/// Approvals of plans and the record of applies, in the state db.
class ApplyStore {
public:
    explicit ApplyStore(store::Db& db) : m_db(db) {}
    /// Errc::conflict when this group already approved this plan;
    /// Errc::denied when a.by approved it for another group.
    Status approve(const std::string& task, const PlanApproval& a);
    Result<std::vector<PlanApproval>> approvals(const std::string& task);
    /// Takes back the approvals of task's plan digest (a push after them
    /// made them stale) and returns them; the audit log keeps their record.
    Result<std::vector<PlanApproval>> dismiss(const std::string& task, const std::string& digest);
    /// Records the start of an apply, held by holder (host:pid) for lease;
    /// Errc::denied when this plan was applied, an apply of it is running
    /// (one at a time, and once), or one was interrupted and not recovered.
    Result<std::string> begin(const std::string& task, const std::string& digest, const std::string& by,
                              const std::string& holder, std::chrono::milliseconds lease);
    /// Extends a running apply's lease: its holder is still at work.
    Status renew(const std::string& apply_id, std::chrono::milliseconds lease);
    /// Marks the task's running applies whose lease has ended (their holder
    /// is gone) interrupted; returns them ({id, by, holder, planSha256, leaseUntilMs}).
    Result<std::vector<json>> interrupt_ended(const std::string& task);
    /// After an operator checked terraform's state and lock: the task's
    /// interrupted applies no longer block their plans. Returns their ids;
    /// Errc::conflict while an apply of the task is still running,
    /// Errc::not_found when none was interrupted.
    Result<std::vector<std::string>> recover(const std::string& task, const std::string& by);
    Status finish(const std::string& apply_id, bool ok, const json& report);
    /// The applies of a task, oldest first.
    Result<std::vector<json>> applies(const std::string& task);
    /// Tasks with an approval of a plan that has no apply, running or ended.
    Result<std::vector<std::string>> unapplied();

private:
    store::Db& m_db;
};

/// The groups whose approval of plans.digest is missing: the decision's
/// requiredApprovals, or "any" when it names none and nobody approved.
std::vector<std::string> missing_approvals(const queue::Entry& e, const PlanSet& plans,
                                           const std::vector<PlanApproval>& approvals);

struct PlanVerdict {
    std::string task_id, group, by, digest;
    std::vector<std::string> waiting;  ///< groups still to approve
};

/// Records by's approval of the task's saved plan for group. expected_digest
/// (when given) is the hash the reviewer saw: Errc::denied when the saved
/// plan is another. The rules of a task's approval hold (approval::check_approver):
/// whoever asked for the task cannot approve it, only a member of group (in
/// groups) approves for it, and one person approves one group of a plan.
Result<PlanVerdict> approve_plan(const queue::Entry& e, ApplyStore& store, events::EventSink& events,
                                 const std::string& by, const std::string& group, const std::string& expected_digest,
                                 const approval::Groups& groups);

struct Gate {
    PlanSet plans;
    std::vector<PlanApproval> approvals;  ///< of this plan
};

/// Whether the task may be applied now: the saved plans, unchanged, with
/// every required approval of them. Errc::pending names the missing groups.
Result<Gate> check_gate(const queue::Entry& e, ApplyStore& store);

struct ApplyOptions {
    std::string repo_url;
    git::Auth auth;
    std::filesystem::path work_root;
    const sandbox::Sandbox* sandbox = nullptr;
    /// Directories of local Terraform state, bound into the sandbox.
    std::vector<std::filesystem::path> state_dirs;
    std::chrono::milliseconds step_timeout{std::chrono::minutes(30)};
    bool keep_worktree = false;
};

struct ApplyReport {
    bool ok = false;
    json roots = json::array();  ///< per root: dir, steps with exit codes and output
    std::string failure;
};

/// Applies through the pipeline configured as apply.pipeline: dispatched for
/// the task's branch with inputs plan_sha256, plan_run and plan_artifact,
/// so that the CI applies the plan its own run saved after checking its
/// hash. Only plans a pipeline made are applied this way (Errc::denied for
/// a plan made in the sandbox).
Result<ApplyReport> run_apply_pipeline(const Gate& gate, PipelineRunner& runner, const PipelineSpec& spec,
                                       const std::string& repository, const std::string& trace_id);

/// How applies run: in the sandbox, or through a pipeline when one is given.
struct ApplyRunner {
    ApplyOptions sandbox;
    PipelineRunner* pipelines = nullptr;
    std::optional<PipelineSpec> pipeline;  ///< apply.pipeline
    std::string repository;                ///< owner/name for the pipeline
    std::string holder;                    ///< who holds the apply's lease (host:pid)
    /// How long an apply whose holder stopped renewing it blocks its plan
    /// before it counts as interrupted (apply.lease); renewed every third of it.
    std::chrono::milliseconds lease{std::chrono::minutes(2)};
};

/// Marks the task's applies whose holder is gone interrupted, each an
/// apply.interrupted event.
Status interrupt_ended(const std::string& task, ApplyStore& store, events::EventSink& events);

/// The whole gated apply of one task, audited: the gate, the start (one
/// apply of a plan at a time, and once; interrupted ones found first),
/// apply.started, the apply itself under a lease renewed while it runs, its
/// record and apply.finished; apply.refused when the gate or the start
/// refuses. Returns the outcome ({outcome: applied|failed, planSha256,
/// approvers, roots, error}); an Error when nothing was applied because it
/// was refused or could not start.
Result<json> apply_task(const queue::Entry& e, const std::string& by, ApplyStore& store, events::EventSink& events,
                        const ApplyRunner& how);

/// Clones the task's branch, refuses (Errc::denied) when it no longer
/// points at the planned commit, puts each saved plan back in its root
/// (checked by hash once more), and runs terraform init and apply PLAN in
/// the sandbox, root by root, stopping at the first that fails.
Result<ApplyReport> run_apply(const Gate& gate, const ApplyOptions& opt);

}  // namespace infra::core::change
