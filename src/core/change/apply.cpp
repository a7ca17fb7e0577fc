#include "core/change/apply.hpp"
#include "core/workspace.hpp"

#include "core/approval.hpp"
#include "core/change/delivery.hpp"
#include "core/crypto.hpp"
#include "core/identity.hpp"
#include "core/ids.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace infra::core::change {
namespace {

constexpr const char* k_plan_file = ".infra-agent.tfplan";

Result<std::string> read_bytes(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in) return fail(Errc::not_found, "cannot read " + p.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string cut(const std::string& s, std::size_t n = 8192)
{
    return s.size() <= n ? s : s.substr(0, n) + "\n... (cut)";
}

/// terraform's "Error: ..." line in its output, else its first line.
std::string first_error(const std::string& output)
{
    std::string first;
    for (const auto& line : text::split(output, '\n')) {
        auto t = text::trim(line);
        if (t.find("Error: ") != std::string_view::npos) return std::string(t.substr(0, 300));
        if (first.empty() && !t.empty()) first = std::string(t.substr(0, 300));
    }
    return first;
}

/// The approvals of one plan as {group, by} objects, for approval::check_approver.
json earlier_approvals(const std::vector<PlanApproval>& approvals, const std::string& digest)
{
    json out = json::array();
    for (const auto& a : approvals)
        if (a.digest == digest) out.push_back({{"group", a.group}, {"by", a.by}});
    return out;
}

}  // namespace

Result<PlanSet> saved_plans(const queue::Entry& e)
{
    int tier = static_cast<int>(int_member(e.decision, "tier", -1));
    if (tier != 4)
        return fail(Errc::denied,
                    "task " + e.id + " is tier " + (tier < 0 ? std::string("?") : std::to_string(tier)) +
                        ": only tier-4 tasks are applied, and only after approval",
                    "lower tiers end at a pull request; policy sets the tier");
    if (e.state != queue::State::succeeded)
        return fail(Errc::conflict, "task " + e.id + " is " + std::string(queue::to_string(e.state)) +
                                        ": it is applied once its run has proposed the change and kept the plan");
    const json& change = member(e.result, "change");
    const json& saved = member(change, "savedPlans");
    const json& roots = member(saved, "roots");
    if (!roots.is_object() || roots.empty())
        return fail(Errc::denied, "task " + e.id + "'s run kept no saved plan to apply",
                    "its validation must run terraform-plan (the default steps do) on the change's roots");
    PlanSet p;
    p.task_id = e.id;
    p.dir = string_member(saved, "dir");
    p.branch = string_member(change, "branch");
    p.commit = string_member(change, "commit");
    if (p.dir.empty() || p.branch.empty() || p.commit.empty())
        return fail(Errc::denied, "task " + e.id + "'s result does not say where its plan and branch are");
    std::string all;
    for (const auto& [dir, r] : roots.items()) {  // a JSON object iterates in key order
        SavedPlan sp{dir, string_member(r, "file"), string_member(r, "sha256"), member(r, "pipeline")};
        if (sp.file.empty() || sp.sha256.size() != 64 || sp.file.find('/') != std::string::npos)
            return fail(Errc::denied, "task " + e.id + "'s saved plan of " + dir + " is not recorded properly");
        all += dir + " " + sp.sha256 + "\n";
        p.roots.push_back(std::move(sp));
    }
    p.digest = p.roots.size() == 1 ? p.roots.front().sha256 : crypto::sha256_hex(all);
    return p;
}

Status verify_plan_files(const PlanSet& plans)
{
    for (const auto& r : plans.roots) {
        auto bytes = read_bytes(plans.dir / r.file);
        if (!bytes)
            return fail(Errc::denied, "the saved plan of " + r.dir + " (" + (plans.dir / r.file).string() + ") is gone",
                        "run the task again to make a new plan, and have it approved");
        if (crypto::sha256_hex(*bytes) != r.sha256)
            return fail(Errc::denied,
                        "the saved plan of " + r.dir + " changed since it was made and approved (sha256 " +
                            crypto::sha256_hex(*bytes).substr(0, 12) + ", recorded " + r.sha256.substr(0, 12) + ")",
                        "nothing was applied; run the task again to make a new plan, and have it approved");
    }
    return {};
}

Status ApplyStore::approve(const std::string& task, const PlanApproval& a)
{
    // One person counts for one group of a plan: checked again in the
    // transaction that records the approval, so two at once cannot both pass.
    auto tx = store::Transaction::begin(m_db);
    if (!tx) return fail(tx.error());
    auto prior = m_db.prepare("SELECT grp, approved_by FROM plan_approvals WHERE task_id = ? AND plan_sha256 = ?");
    if (!prior) return fail(prior.error());
    prior->bind(1, task).bind(2, a.digest);
    for (;;) {
        auto row = prior->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        if (identity::same(prior->text(1), a.by) && prior->text(0) != a.group)
            return fail(Errc::denied,
                        a.by + " already approved this plan of task " + task + " for " + text::quote(prior->text(0)) +
                            ", and one person counts for one group of a task",
                        "another member of " + text::quote(a.group) + " must approve for it");
    }
    auto st = m_db.prepare(
        "INSERT INTO plan_approvals (task_id, plan_sha256, grp, approved_by, approved_at) VALUES (?, ?, ?, ?, ?)");
    if (!st) return fail(st.error());
    st->bind(1, task).bind(2, a.digest).bind(3, a.group).bind(4, a.by).bind(5, a.at_ms);
    if (auto r = st->run(); !r) {
        if (r.error().code == Errc::conflict)
            return fail(Errc::conflict, a.group + " already approved this plan of task " + task);
        return fail(r.error());
    }
    if (auto c = tx->commit(); !c) return fail(c.error());
    return {};
}

Result<std::vector<PlanApproval>> ApplyStore::approvals(const std::string& task)
{
    auto st = m_db.prepare(
        "SELECT grp, approved_by, plan_sha256, approved_at FROM plan_approvals WHERE task_id = ? ORDER BY approved_at");
    if (!st) return fail(st.error());
    st->bind(1, task);
    std::vector<PlanApproval> out;
    for (;;) {
        auto row = st->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        out.push_back({st->text(0), st->text(1), st->text(2), st->integer(3)});
    }
    return out;
}

Result<std::vector<PlanApproval>> ApplyStore::dismiss(const std::string& task, const std::string& digest)
{
    auto tx = store::Transaction::begin(m_db);
    if (!tx) return fail(tx.error());
    auto all = approvals(task);
    if (!all) return fail(all.error());
    std::vector<PlanApproval> out;
    for (auto& a : *all)
        if (a.digest == digest) out.push_back(std::move(a));
    auto st = m_db.prepare("DELETE FROM plan_approvals WHERE task_id = ? AND plan_sha256 = ?");
    if (!st) return fail(st.error());
    st->bind(1, task).bind(2, digest);
    if (auto r = st->run(); !r) return fail(r.error());
    if (auto c = tx->commit(); !c) return fail(c.error());
    return out;
}

Result<std::string> ApplyStore::begin(const std::string& task, const std::string& digest, const std::string& by,
                                      const std::string& holder, std::chrono::milliseconds lease)
{
    auto tx = store::Transaction::begin(m_db);
    if (!tx) return fail(tx.error());
    auto prior = m_db.prepare("SELECT id, state, holder FROM applies WHERE task_id = ? AND plan_sha256 = ? "
                              "AND state IN ('running', 'applied', 'interrupted')");
    if (!prior) return fail(prior.error());
    prior->bind(1, task).bind(2, digest);
    auto row = prior->step();
    if (!row) return fail(row.error());
    if (*row) {
        std::string id = prior->text(0), state = prior->text(1), held = prior->text(2);
        if (state == "applied")
            return fail(Errc::denied,
                        "this plan of task " + task + " was applied already (apply " + id + "): a plan is applied once",
                        "to change more, run the task again: its new plan needs new approvals");
        if (state == "interrupted")
            return fail(Errc::denied,
                        "apply " + id + " of this plan of task " + task + " was interrupted: its holder" +
                            (held.empty() ? "" : " " + held) + " stopped renewing its lease",
                        "check terraform's state and its lock, then run 'infra-agent apply " + task +
                            " --as NAME --recover'");
        return fail(Errc::denied,
                    "this plan of task " + task + " is being applied (apply " + id +
                        (held.empty() ? "" : ", by " + held) + ")",
                    "wait for it; if its process died, it counts as interrupted once its lease ends");
    }
    std::string id = ids::new_ulid();
    auto st = m_db.prepare(
        "INSERT INTO applies (id, task_id, plan_sha256, applied_by, state, started_at, holder, lease_until) "
        "VALUES (?, ?, ?, ?, 'running', ?, ?, ?)");
    if (!st) return fail(st.error());
    auto now = queue::now_ms();
    st->bind(1, id).bind(2, task).bind(3, digest).bind(4, by).bind(5, now).bind(6, holder).bind(7, now + lease.count());
    if (auto r = st->run(); !r) return fail(r.error());
    if (auto c = tx->commit(); !c) return fail(c.error());
    return id;
}

Status ApplyStore::renew(const std::string& apply_id, std::chrono::milliseconds lease)
{
    auto st = m_db.prepare("UPDATE applies SET lease_until = ? WHERE id = ? AND state = 'running'");
    if (!st) return fail(st.error());
    st->bind(1, queue::now_ms() + lease.count()).bind(2, apply_id);
    return st->run();
}

Result<std::vector<json>> ApplyStore::interrupt_ended(const std::string& task)
{
    auto tx = store::Transaction::begin(m_db);
    if (!tx) return fail(tx.error());
    // An apply recorded before leases has none: nothing renews it.
    auto ended = m_db.prepare("SELECT id, applied_by, holder, plan_sha256, lease_until FROM applies WHERE task_id = ? "
                              "AND state = 'running' AND (lease_until IS NULL OR lease_until < ?)");
    if (!ended) return fail(ended.error());
    ended->bind(1, task).bind(2, queue::now_ms());
    std::vector<json> out;
    for (;;) {
        auto row = ended->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        out.push_back({{"id", ended->text(0)},
                       {"by", ended->text(1)},
                       {"holder", ended->text(2)},
                       {"planSha256", ended->text(3)},
                       {"leaseUntilMs", ended->is_null(4) ? json() : json(ended->integer(4))}});
    }
    for (const auto& a : out) {
        auto st = m_db.prepare("UPDATE applies SET state = 'interrupted', finished_at = ? WHERE id = ?");
        if (!st) return fail(st.error());
        st->bind(1, queue::now_ms()).bind(2, a["id"].get<std::string>());
        if (auto r = st->run(); !r) return fail(r.error());
    }
    if (auto c = tx->commit(); !c) return fail(c.error());
    return out;
}

Result<std::vector<std::string>> ApplyStore::recover(const std::string& task, const std::string& by)
{
    auto tx = store::Transaction::begin(m_db);
    if (!tx) return fail(tx.error());
    auto rows = m_db.prepare("SELECT id, state, holder FROM applies WHERE task_id = ? AND state IN ('running', "
                             "'interrupted') ORDER BY started_at");
    if (!rows) return fail(rows.error());
    rows->bind(1, task);
    std::vector<std::string> interrupted;
    for (;;) {
        auto row = rows->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        if (rows->text(1) == "running")
            return fail(Errc::conflict,
                        "apply " + rows->text(0) + " of task " + task + " is still running (held by " + rows->text(2) +
                            ")",
                        "an apply counts as interrupted once its holder stops renewing its lease: wait for it to end");
        interrupted.push_back(rows->text(0));
    }
    if (interrupted.empty())
        return fail(Errc::not_found, "task " + task + " has no interrupted apply to recover",
                    "'infra-agent queue show " + task + " --json' lists its applies");
    for (const auto& id : interrupted) {
        auto st = m_db.prepare("UPDATE applies SET state = 'recovered', recovered_by = ? WHERE id = ?");
        if (!st) return fail(st.error());
        st->bind(1, by).bind(2, id);
        if (auto r = st->run(); !r) return fail(r.error());
    }
    if (auto c = tx->commit(); !c) return fail(c.error());
    return interrupted;
}

Status ApplyStore::finish(const std::string& apply_id, bool ok, const json& report)
{
    auto st = m_db.prepare("UPDATE applies SET state = ?, finished_at = ?, report = ? WHERE id = ?");
    if (!st) return fail(st.error());
    st->bind(1, std::string(ok ? "applied" : "failed"))
        .bind(2, queue::now_ms())
        .bind(3, report.dump())
        .bind(4, apply_id);
    if (auto r = st->run(); !r) return fail(r.error());
    return {};
}

Result<std::vector<json>> ApplyStore::applies(const std::string& task)
{
    auto st = m_db.prepare(
        "SELECT id, plan_sha256, applied_by, state, started_at, finished_at, holder, lease_until, recovered_by "
        "FROM applies WHERE task_id = ? ORDER BY started_at");
    if (!st) return fail(st.error());
    st->bind(1, task);
    std::vector<json> out;
    for (;;) {
        auto row = st->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        json a = {{"id", st->text(0)},    {"planSha256", st->text(1)},     {"by", st->text(2)},
                  {"state", st->text(3)}, {"startedAtMs", st->integer(4)}, {"finishedAtMs", st->integer(5)}};
        if (!st->is_null(6)) a["holder"] = st->text(6);
        if (!st->is_null(7)) a["leaseUntilMs"] = st->integer(7);
        if (!st->is_null(8)) a["recoveredBy"] = st->text(8);
        out.push_back(std::move(a));
    }
    return out;
}

Result<std::vector<std::string>> ApplyStore::unapplied()
{
    auto st = m_db.prepare("SELECT task_id, MIN(approved_at) AS first FROM plan_approvals p WHERE NOT EXISTS "
                           "(SELECT 1 FROM applies a WHERE a.task_id = p.task_id AND a.plan_sha256 = p.plan_sha256) "
                           "GROUP BY task_id ORDER BY first");
    if (!st) return fail(st.error());
    std::vector<std::string> out;
    for (;;) {
        auto row = st->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        out.push_back(st->text(0));
    }
    return out;
}

std::vector<std::string> missing_approvals(const queue::Entry& e, const PlanSet& plans,
                                           const std::vector<PlanApproval>& approvals)
{
    std::vector<std::string> required = strings_member(e.decision, "requiredApprovals");
    std::vector<std::string> missing;
    auto approved = [&](const std::string& g) {
        return std::any_of(approvals.begin(), approvals.end(), [&](const PlanApproval& a) {
            return a.digest == plans.digest && (g == "any" || a.group == g);
        });
    };
    if (required.empty()) required = {"any"};
    for (const auto& g : required)
        if (!approved(g)) missing.push_back(g);
    return missing;
}

Result<PlanVerdict> approve_plan(const queue::Entry& e, ApplyStore& store, events::EventSink& events,
                                 const std::string& by_name, const std::string& group,
                                 const std::string& expected_digest, const approval::Groups& groups)
{
    std::string by(text::trim(by_name));
    if (by.empty()) return fail(Errc::usage, "say who approves");
    auto plans = saved_plans(e);
    if (!plans) return fail(plans.error());
    if (!expected_digest.empty() && expected_digest != plans->digest)
        return fail(Errc::denied,
                    "the saved plan of task " + e.id + " is sha256 " + plans->digest + ", not the " + expected_digest +
                        " you reviewed",
                    "nothing was approved; review the plan the pull request shows now");
    if (auto v = verify_plan_files(*plans); !v) return fail(v.error());
    auto approvals = store.approvals(e.id);
    if (!approvals) return fail(approvals.error());
    auto waiting = missing_approvals(e, *plans, *approvals);
    PlanVerdict v{e.id, group, by, plans->digest, {}};
    if (v.group.empty()) {
        auto g = approval::choose_group(waiting, by, groups, "the plan of task " + e.id);
        if (!g) return fail(g.error());
        v.group = *g;
    }
    std::vector<std::string> required = strings_member(e.decision, "requiredApprovals");
    if (!required.empty() && std::find(required.begin(), required.end(), v.group) == required.end()) {
        std::string list;
        for (const auto& g : required) list += (list.empty() ? "" : ", ") + g;
        return fail(Errc::usage, "task " + e.id + " needs approvals from " + list + ", not " + text::quote(v.group));
    }
    // The same rules as a task's approval: not the requester, a member of
    // the group, one group per person (of this plan; a new plan starts over).
    if (auto st =
            approval::check_approver(e.task, e.id, v.group, by, earlier_approvals(*approvals, plans->digest), groups);
        !st)
        return fail(st.error());
    if (auto st = store.approve(e.id, {v.group, by, plans->digest, queue::now_ms()}); !st) return fail(st.error());
    events.emit({"plan.approved", e.id, "", {{"by", by}, {"group", v.group}, {"planSha256", plans->digest}}});
    auto after = store.approvals(e.id);
    if (!after) return fail(after.error());
    v.waiting = missing_approvals(e, *plans, *after);
    return v;
}

Result<Gate> check_gate(const queue::Entry& e, ApplyStore& store)
{
    auto plans = saved_plans(e);
    if (!plans) return fail(plans.error());
    if (auto v = verify_plan_files(*plans); !v) return fail(v.error());
    auto approvals = store.approvals(e.id);
    if (!approvals) return fail(approvals.error());
    auto missing = missing_approvals(e, *plans, *approvals);
    if (!missing.empty()) {
        std::string list;
        for (const auto& g : missing) list += (list.empty() ? "" : ", ") + g;
        return fail(Errc::pending,
                    "task " + e.id + "'s plan (sha256 " + plans->digest.substr(0, 12) + ") waits for approval by " +
                        list,
                    "infra-agent approve " + e.id + " --as NAME" + (missing.size() > 1 ? " --group GROUP" : "") +
                        " --plan " + plans->digest);
    }
    Gate g{std::move(*plans), {}};
    for (auto& a : *approvals)
        if (a.digest == g.plans.digest) g.approvals.push_back(std::move(a));
    return g;
}

Status interrupt_ended(const std::string& task, ApplyStore& store, events::EventSink& events)
{
    auto ended = store.interrupt_ended(task);
    if (!ended) return fail(ended.error());
    for (auto& a : *ended) events.emit({"apply.interrupted", task, "", std::move(a)});
    return {};
}

namespace {

/// Renews an apply's lease every third of it while the apply runs (the
/// store is not used by anyone else meanwhile).
class LeaseKeeper {
public:
    LeaseKeeper(ApplyStore& store, std::string id, std::chrono::milliseconds lease)
        : m_thread([this, &store, id = std::move(id), lease] {
              std::unique_lock lock(m_mutex);
              while (!m_cv.wait_for(lock, lease / 3, [this] { return m_stopped; }))
                  if (auto st = store.renew(id, lease); !st)
                      spdlog::warn("apply {}: cannot renew its lease: {}", id, st.error().message);
          })
    {
    }
    ~LeaseKeeper() { stop(); }
    void stop()
    {
        {
            std::lock_guard lock(m_mutex);
            m_stopped = true;
        }
        m_cv.notify_all();
        if (m_thread.joinable()) m_thread.join();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopped = false;
    std::thread m_thread;
};

/// The trace id of a queued task's traceparent (else the current one).
std::string trace_id_of_task(const json& stored)
{
    auto task = task_from_json(stored);
    return trace_id_of(task ? task->traceparent.value_or("") : "");
}

}  // namespace

Result<json> apply_task(const queue::Entry& e, const std::string& by, ApplyStore& store, events::EventSink& events,
                        const ApplyRunner& how)
{
    auto refuse = [&](const Error& err) -> Result<json> {
        events.emit({"apply.refused", e.id, "", {{"by", by}, {"reason", err.message}}});
        return fail(err);
    };
    auto gate = check_gate(e, store);
    if (!gate) return refuse(gate.error());
    if (auto st = interrupt_ended(e.id, store, events); !st) return fail(st.error());
    auto started = store.begin(e.id, gate->plans.digest, by, how.holder, how.lease);
    if (!started) return refuse(started.error());
    LeaseKeeper keeper(store, *started, how.lease);
    json approvers = json::array();
    for (const auto& a : gate->approvals) approvers.push_back({{"group", a.group}, {"by", a.by}, {"atMs", a.at_ms}});
    events.emit({"apply.started",
                 e.id,
                 "",
                 {{"apply", *started},
                  {"by", by},
                  {"planSha256", gate->plans.digest},
                  {"approvers", approvers},
                  {"commit", gate->plans.commit},
                  {"via", how.pipeline ? how.pipeline->kind : "sandbox"}}});
    auto report =
        how.pipeline
            ? (how.pipelines
                   ? run_apply_pipeline(*gate, *how.pipelines, *how.pipeline, how.repository, trace_id_of_task(e.task))
                   : Result<ApplyReport>(fail(Errc::internal, "apply.pipeline is set, and no pipeline runner")))
            : run_apply(*gate, how.sandbox);
    json out = {{"id", e.id},
                {"apply", *started},
                {"by", by},
                {"planSha256", gate->plans.digest},
                {"approvers", approvers},
                {"branch", gate->plans.branch},
                {"commit", gate->plans.commit}};
    if (!report) {
        out["outcome"] = "refused";
        out["error"] = report.error().message;
    } else {
        out["outcome"] = report->ok ? "applied" : "failed";
        out["roots"] = report->roots;
        if (!report->ok) out["error"] = report->failure;
    }
    keeper.stop();
    auto finished = store.finish(*started, report && report->ok, out);
    json attrs = {{"apply", *started},
                  {"by", by},
                  {"planSha256", gate->plans.digest},
                  {"approvers", approvers},
                  {"outcome", out["outcome"]}};
    if (out.contains("error")) attrs["error"] = out["error"];
    events.emit({"apply.finished", e.id, "", attrs});
    if (!finished) return fail(finished.error());
    if (!report) return fail(report.error());
    return out;
}

Result<ApplyReport> run_apply_pipeline(const Gate& gate, PipelineRunner& runner, const PipelineSpec& spec,
                                       const std::string& repository, const std::string& trace_id)
{
    const PlanSet& plans = gate.plans;
    ApplyReport report;
    report.ok = true;
    for (const auto& r : plans.roots) {
        if (r.pipeline.is_null())
            return fail(Errc::denied,
                        "the saved plan of " + r.dir +
                            " was made in the sandbox, and apply.pipeline applies only plans a pipeline made",
                        "remove apply.pipeline to apply it in the sandbox");
        PipelineTarget target{repository,
                              plans.branch,
                              plans.commit,
                              plans.task_id,
                              trace_id,
                              {{"plan_sha256", r.sha256},
                               {"plan_run", string_member(r.pipeline, "run")},
                               {"plan_artifact", string_member(r.pipeline, "artifact")}}};
        auto outcome = runner.run(spec, target);
        if (!outcome) return fail(outcome.error());
        report.roots.push_back({{"dir", r.dir},
                                {"planSha256", r.sha256},
                                {"pipeline", spec.kind},
                                {"url", outcome->url},
                                {"conclusion", outcome->conclusion}});
        if (!outcome->ok) {
            report.ok = false;
            report.failure = std::string(outcome->timed_out ? "the apply pipeline did not finish in time: "
                                                            : "the apply pipeline failed: ") +
                             outcome->conclusion + (outcome->url.empty() ? "" : " (" + outcome->url + ")");
            break;
        }
    }
    return report;
}

Result<ApplyReport> run_apply(const Gate& gate, const ApplyOptions& opt)
{
    if (!opt.sandbox) return fail(Errc::unavailable, "apply runs in the sandbox, and none is available");
    if (opt.repo_url.empty())
        return fail(Errc::usage, "no repository to apply from", "pass --repo URL, or set git.repo in config.yaml");
    const PlanSet& plans = gate.plans;
    for (const auto& r : plans.roots)
        if (!r.pipeline.is_null())
            return fail(Errc::denied,
                        "the saved plan of task " + plans.task_id + " was made by the pipeline " +
                            string_member(r.pipeline, "url") + ": it is applied where it was made",
                        "set apply.pipeline in config.yaml to the pipeline that applies it");
    auto dir = opt.work_root / (plans.task_id + "-apply");
    for (const auto& old : {dir, git::git_dir_for(dir)})
        if (auto st = remove_tree_inside(opt.work_root, old); !st) return fail(st.error());
    std::error_code ec;
    std::filesystem::create_directories(opt.work_root, ec);
    struct Cleanup {
        std::filesystem::path root, dir;
        bool keep;
        ~Cleanup()
        {
            if (keep) return;
            for (const auto& d : {dir, git::git_dir_for(dir)}) (void)remove_tree_inside(root, d);
        }
    } cleanup{opt.work_root, dir, opt.keep_worktree};
    auto co = git::clone(opt.repo_url, dir, plans.branch, opt.auth);
    if (!co) return fail(co.error());
    if (co->base_commit != plans.commit)
        return fail(Errc::denied,
                    "branch " + plans.branch + " is at " + co->base_commit.substr(0, 12) +
                        ", and the plan was made at " + plans.commit.substr(0, 12) + ": nothing was applied",
                    "a push after the plan changes what would be applied; run the task again for a new plan");
    ApplyReport report;
    report.ok = true;
    for (const auto& r : plans.roots) {
        // The approved bytes, put back where terraform made them, and checked once more.
        auto bytes = read_bytes(plans.dir / r.file);
        if (!bytes) return fail(Errc::denied, "the saved plan of " + r.dir + " is gone");
        if (crypto::sha256_hex(*bytes) != r.sha256)
            return fail(Errc::denied, "the saved plan of " + r.dir + " changed");
        auto root = co->dir / r.dir;
        {
            std::ofstream out(root / k_plan_file, std::ios::binary | std::ios::trunc);
            out << *bytes;
            if (!out.flush()) return fail(Errc::unavailable, "cannot write the plan into " + root.string());
        }
        json steps = json::array();
        std::string chdir = "-chdir=" + r.dir;
        for (const auto& argv :
             {std::vector<std::string>{"terraform", chdir, "init", "-input=false", "-no-color"},
              std::vector<std::string>{"terraform", chdir, "apply", "-input=false", "-no-color", k_plan_file}}) {
            sandbox::Request req;
            req.argv = argv;
            req.workspace = co->dir;
            req.env = {{"CHECKPOINT_DISABLE", "1"}, {"TF_IN_AUTOMATION", "1"}, {"TF_INPUT", "0"}};
            req.limits.wall = opt.step_timeout;
            req.limits.cpu = std::chrono::duration_cast<std::chrono::seconds>(opt.step_timeout);
            req.binds = opt.state_dirs;
            auto o = opt.sandbox->run(req);
            if (!o) return fail(o.error());
            std::string output = cut(o->out + (o->out.empty() || o->err.empty() ? "" : "\n") + o->err);
            steps.push_back({{"argv", argv}, {"exitCode", o->exit_code}, {"durationMs", o->ms}, {"output", output}});
            if (o->exit_code != 0) {
                report.ok = false;
                report.failure = "terraform " + argv[2] + (r.dir == "." ? "" : " in " + r.dir) +
                                 " failed: " + (o->timed_out ? "timed out" : first_error(output));
                break;
            }
        }
        report.roots.push_back({{"dir", r.dir}, {"planSha256", r.sha256}, {"steps", steps}});
        if (!report.ok) break;
    }
    return report;
}

}  // namespace infra::core::change
