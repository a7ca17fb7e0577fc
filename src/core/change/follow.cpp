#include "core/change/follow.hpp"

#include "core/ids.hpp"
#include "core/json_access.hpp"
#include "core/queue/queue.hpp"
#include "core/text.hpp"

#include <spdlog/spdlog.h>

namespace infra::core::change {
namespace {

Result<std::optional<Transition>> some(Result<Transition> t)
{
    if (!t) return fail(t.error());
    return std::optional<Transition>(std::move(*t));
}

std::string pr_name(const PullRequest& pr)
{
    return "#" + std::to_string(pr.number);
}

std::set<std::string> keys_of(const PullRequest& pr)
{
    std::set<std::string> out;
    for (const auto& f : pr.findings)
        if (!string_member(f, "key").empty()) out.insert(string_member(f, "key"));
    return out;
}

/// The findings of a task, each with its key: a group's, else its one
/// (keyed by the task's dedupe key).
std::vector<TaskFinding> keyed_findings(const AgentTask& t)
{
    std::vector<TaskFinding> out = findings_of(t.payload);
    for (auto& f : out)
        if (f.key.empty()) f.key = t.dedupe_key;
    return out;
}

}  // namespace

json Transition::to_json() const
{
    return {{"pullRequest", pr_id}, {"number", number}, {"event", event}, {"reason", reason}};
}

Status record_report(store::Db& db, const std::string& repository, const std::vector<std::string>& finding_keys)
{
    auto tx = store::Transaction::begin(db);
    if (!tx) return fail(tx.error());
    auto del = db.prepare("DELETE FROM report_findings WHERE repository = ?");
    if (!del) return fail(del.error());
    del->bind(1, repository);
    if (auto r = del->run(); !r) return r;
    for (const auto& k : finding_keys) {
        auto ins =
            db.prepare("INSERT INTO report_findings (repository, finding_key) VALUES (?, ?) ON CONFLICT DO NOTHING");
        if (!ins) return fail(ins.error());
        ins->bind(1, repository).bind(2, k);
        if (auto r = ins->run(); !r) return r;
    }
    auto at = db.prepare("INSERT INTO reports (repository, received_at) VALUES (?, ?) "
                         "ON CONFLICT (repository) DO UPDATE SET received_at = excluded.received_at");
    if (!at) return fail(at.error());
    at->bind(1, repository).bind(2, queue::now_ms());
    if (auto r = at->run(); !r) return r;
    return tx->commit();
}

Result<std::optional<std::set<std::string>>> latest_report(store::Db& db, const std::string& repository)
{
    auto seen = db.prepare("SELECT COUNT(*) FROM reports WHERE repository = ?");
    if (!seen) return fail(seen.error());
    seen->bind(1, repository);
    if (auto row = seen->step(); !row) return fail(row.error());
    if (seen->integer(0) == 0) return std::optional<std::set<std::string>>();
    auto st = db.prepare("SELECT finding_key FROM report_findings WHERE repository = ?");
    if (!st) return fail(st.error());
    st->bind(1, repository);
    std::set<std::string> keys;
    while (true) {
        auto row = st->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        keys.insert(st->text(0));
    }
    return std::optional<std::set<std::string>>(std::move(keys));
}

Result<std::vector<HeldBack>> hold_back(std::vector<AgentTask>& tasks, store::Db& db, PrStore& store,
                                        const std::string& forge)
{
    std::vector<HeldBack> out;
    std::vector<AgentTask> kept;
    for (auto& t : tasks) {
        if (t.type != TaskType::compliance_remediation) {
            kept.push_back(std::move(t));
            continue;
        }
        std::vector<TaskFinding> findings = keyed_findings(t);
        auto pr =
            store.find(forge, t.context.repository_id, git::branch_name(std::string(to_string(t.type)), t.dedupe_key));
        if (!pr) return fail(pr.error());
        if (*pr && (*pr)->state == "open" && (*pr)->reason.rfind("left alone", 0) == 0) {
            for (auto& f : findings)
                out.push_back({f.key, "pull request " + pr_name(**pr) + " is " + (*pr)->reason, std::move(f)});
            continue;
        }
        json left = json::array();
        for (auto& f : findings) {
            auto st =
                db.prepare("SELECT content, pr_id FROM declined_findings WHERE repository = ? AND finding_key = ?");
            if (!st) return fail(st.error());
            st->bind(1, t.context.repository_id).bind(2, f.key);
            auto row = st->step();
            if (!row) return fail(row.error());
            if (*row && st->text(0) == f.content) {
                auto closed = store.get(st->text(1));
                std::string which = closed ? pr_name(*closed) : "a pull request";
                std::string key = f.key;
                out.push_back({std::move(key),
                               "declined: " + which + " was closed without merging; `infra-agent pr reopen " +
                                   (closed ? std::to_string(closed->number) : st->text(1)) + "` proposes it again",
                               std::move(f)});
                continue;
            }
            f.raw["key"] = f.key;
            left.push_back(std::move(f.raw));
        }
        if (left.empty()) continue;
        // Every kept task lists its findings with their keys, a single one included.
        if (left.size() != findings.size()) t.payload["finding"] = left.front();
        t.payload["findings"] = std::move(left);
        kept.push_back(std::move(t));
    }
    tasks = std::move(kept);
    return out;
}

git::Auth Follower::auth(const PullRequest& pr, const std::string& scope) const
{
    git::Auth a;
    a.ssh_key = m_opt.delivery.ssh_key;
    a.ssh_known_hosts = m_opt.delivery.ssh_known_hosts;
    if (m_opt.delivery.mint) {
        auto mint = m_opt.delivery.mint;
        std::string task = pr.task_id;
        a.token = [mint, scope, task]() { return mint(scope, task, ""); };
    }
    return a;
}

Result<Transition> Follower::record(const PullRequest& pr, const std::string& state, const std::string& event,
                                    const std::string& reason, json data)
{
    if (auto st = m_opt.delivery.store->set_state(pr.id, state, reason, reason); !st) return fail(st.error());
    data["pullRequest"] = pr.id;
    data["number"] = pr.number;
    data["url"] = pr.url;
    data["branch"] = pr.branch;
    data["repository"] = pr.repository;
    data["state"] = state;
    data["reason"] = reason;
    data["findings"] = pr.findings;
    if (m_opt.delivery.events) m_opt.delivery.events->emit({event, pr.task_id, "", std::move(data)});
    spdlog::info("pull request {} of {}: {}", pr_name(pr), pr.repository, reason);
    return Transition{pr.id, event, reason, pr.number};
}

Result<Transition> Follower::merged(const PullRequest& pr, const std::string& by)
{
    // Its findings are resolved: declined ones of it no longer stand.
    auto st = m_opt.db->prepare("DELETE FROM declined_findings WHERE pr_id = ?");
    if (!st) return fail(st.error());
    st->bind(1, pr.id);
    if (auto r = st->run(); !r) return fail(r.error());
    std::string reason = "merged" + (by.empty() ? std::string() : " by " + by) + ": its findings are resolved";
    json data = {{"taskState", "succeeded"}};
    if (!m_opt.delivery.repo_url.empty()) {
        auto deleted = git::delete_branch(m_opt.delivery.repo_url, pr.branch,
                                          auth(pr, "git:push:repo=" + pr.repository + ",branch=" + pr.branch),
                                          m_opt.delivery.work_root / ("follow-" + ids::new_ulid()));
        if (deleted) reason += "; its branch is deleted";
        else data["branchError"] = deleted.error().message;
    }
    return record(pr, "merged", "pr.merged", reason, data);
}

Result<Transition> Follower::declined(const PullRequest& pr, const std::string& by, bool close_on_forge)
{
    std::string reason = "closed without merging" + (by.empty() ? std::string() : " by " + by) +
                         ": its findings are declined until they change, or `infra-agent pr reopen " +
                         std::to_string(pr.number) + "`";
    if (close_on_forge)
        if (auto st = m_opt.delivery.forge->close(pr, "infra-agent: " + reason + "."); !st) return fail(st.error());
    auto tx = store::Transaction::begin(*m_opt.db);
    if (!tx) return fail(tx.error());
    for (const auto& f : pr.findings) {
        auto st = m_opt.db->prepare(
            "INSERT INTO declined_findings (repository, finding_key, content, pr_id, declined_at) VALUES (?, ?, ?, ?, "
            "?) "
            "ON CONFLICT (repository, finding_key) DO UPDATE SET content = excluded.content, pr_id = excluded.pr_id, "
            "declined_at = excluded.declined_at");
        if (!st) return fail(st.error());
        st->bind(1, pr.repository).bind(2, string_member(f, "key")).bind(3, string_member(f, "content")).bind(4, pr.id);
        st->bind(5, queue::now_ms());
        if (auto r = st->run(); !r) return fail(r.error());
    }
    if (auto st = tx->commit(); !st) return fail(st.error());
    return record(pr, "closed", "pr.declined", reason);
}

Result<std::optional<Transition>> Follower::look_at(const PullRequest& pr)
{
    using Found = std::optional<Transition>;
    auto status = m_opt.delivery.forge->status(pr);
    if (!status) return fail(status.error());
    if (status->state == "merged") return some(merged(pr, status->by));
    if (status->state == "closed") return some(declined(pr, status->by, false));

    auto report = latest_report(*m_opt.db, pr.repository);
    if (!report) return fail(report.error());
    auto keys = keys_of(pr);
    bool gone = *report && !keys.empty();
    for (const auto& k : keys) gone = gone && !(*report)->count(k);
    if (gone) {
        return some(obsolete(pr, "closed: none of its findings is in the latest report of " + pr.repository +
                                     " (fixed elsewhere)"));
    }
    if (m_opt.delivery.repo_url.empty()) return Found();
    auto branch = git::inspect_branch(m_opt.delivery.repo_url, pr.branch, pr.base, m_opt.delivery.identity.email,
                                      auth(pr, "git:fetch:repo=" + pr.repository),
                                      m_opt.delivery.work_root / ("follow-" + ids::new_ulid()));
    if (!branch) return fail(branch.error());
    if (branch->exists && branch->merged) return some(merged(pr, ""));
    if (!branch->exists || !branch->behind) return Found();
    std::string how = branch->conflicts ? "conflicts with" : "is behind";
    if (!branch->bot_owned) {
        if (pr.reason.rfind("left alone", 0) == 0) return Found();
        std::string reason =
            "left alone: " + branch->pushed_by + " pushed to " + pr.branch + ", and it " + how + " " + pr.base;
        if (auto st = m_opt.delivery.forge->comment(
                pr, "infra-agent: this branch " + how + " `" + pr.base + "`, and " + branch->pushed_by +
                        " pushed to it, so infra-agent leaves it alone. Rebase it by hand, or close it.");
            !st)
            return fail(st.error());
        return some(record(pr, "open", "pr.left-alone", reason, {{"pushedBy", branch->pushed_by}}));
    }
    if (!m_opt.rebuild || !m_opt.task_of || pr.reason.find(branch->base_head.substr(0, 12)) != std::string::npos)
        return Found();
    auto task_json = m_opt.task_of(pr.task_id);
    if (!task_json) return fail(task_json.error());
    auto task = task_from_json(*task_json);
    if (!task) return fail(task.error());
    task->id = ids::new_ulid();
    task->extra.erase("decision");
    task->traceparent.reset();
    if (auto st = m_opt.rebuild(std::move(*task)); !st) return fail(st.error());
    return some(record(pr, "open", "pr.rebuilt",
                       "rebuilt: it " + how + " " + pr.base + " (now " + branch->base_head.substr(0, 12) + ")",
                       {{"baseHead", branch->base_head}}));
}

Result<std::vector<Transition>> Follower::reconcile(const std::string& repository)
{
    auto open = m_opt.delivery.store->list("open", repository, 1000);
    if (!open) return fail(open.error());
    std::vector<Transition> out;
    for (const auto& pr : *open) {
        if (pr.forge != m_opt.delivery.forge->name()) continue;
        auto t = look_at(pr);
        if (!t) {
            spdlog::warn("cannot follow pull request {} of {}: {}", pr_name(pr), pr.repository, t.error().message);
            continue;
        }
        if (*t) out.push_back(**t);
    }
    return out;
}

Result<std::optional<Transition>> Follower::closed(const std::string& repository, std::int64_t number,
                                                   const std::string& state, const std::string& by)
{
    auto open = m_opt.delivery.store->list("open", repository, 1000);
    if (!open) return fail(open.error());
    for (const auto& pr : *open)
        if (pr.number == number && pr.forge == m_opt.delivery.forge->name()) {
            return some(state == "merged" ? merged(pr, by) : declined(pr, by, false));
        }
    return std::optional<Transition>();
}

Result<Transition> Follower::close(const PullRequest& pr, const std::string& by)
{
    if (pr.state != "open") return fail(Errc::conflict, "pull request " + pr_name(pr) + " is " + pr.state + " already");
    return declined(pr, by, true);
}

Result<Transition> Follower::obsolete(const PullRequest& pr, const std::string& reason)
{
    if (auto st = m_opt.delivery.forge->close(pr, "infra-agent: " + reason + "."); !st) return fail(st.error());
    return record(pr, "closed", "pr.obsolete", reason);
}

Result<Transition> Follower::reopen(const PullRequest& pr, const std::string& by)
{
    if (pr.state == "merged")
        return fail(Errc::conflict, "pull request " + pr_name(pr) + " was merged; there is nothing to reopen");
    if (pr.state != "closed")
        return fail(Errc::conflict, "pull request " + pr_name(pr) + " is " + pr.state + " already");
    auto st = m_opt.db->prepare("DELETE FROM declined_findings WHERE pr_id = ?");
    if (!st) return fail(st.error());
    st->bind(1, pr.id);
    if (auto r = st->run(); !r) return fail(r.error());
    if (auto r = m_opt.delivery.forge->reopen(pr); !r) return fail(r.error());
    return record(pr, "open", "pr.reopened", "reopened by " + by + ": its findings may be proposed again");
}

}  // namespace infra::core::change
