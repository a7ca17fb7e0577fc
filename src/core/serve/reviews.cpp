#include "core/serve/reviews.hpp"

#include "core/change/apply.hpp"
#include "core/change/forge.hpp"
#include "core/events/query.hpp"
#include "core/identity.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <spdlog/spdlog.h>

#include <cctype>
#include <map>

namespace infra::core::serve {
namespace {

using json = nlohmann::json;

std::string short_sha(const std::string& sha)
{
    return sha.substr(0, 12);
}

std::string list_of(const std::vector<std::string>& names)
{
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

std::string mention(const ReviewAction& a)
{
    return "@" + a.by;
}

/// s with a full stop, and a capital first when capital (a hint; a message
/// may start with a login, whose case is kept).
std::string sentence(std::string s, bool capital)
{
    if (s.empty()) return s;
    if (capital) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    if (s.back() != '.') s += ".";
    return s;
}

/// Why, with what to do next: the error's message and hint.
std::string why_of(const Error& e)
{
    return e.hint.empty() ? sentence(e.message, false) : sentence(e.message, false) + " " + sentence(e.hint, true);
}

bool tier4_ran(const queue::Entry& e)
{
    return e.state == queue::State::succeeded && int_member(e.decision, "tier") == 4;
}

}  // namespace

/// The pull request an action is on, and its task.
struct Reviews::Target {
    change::PullRequest pr;
    queue::Entry task;
};

Reviews::Reviews(ReviewDeps deps) : m_deps(std::move(deps)) {}

Reviews::~Reviews()
{
    std::vector<std::thread> running;
    {
        std::lock_guard lock(m_mutex);
        running.swap(m_applies);
    }
    for (auto& t : running) t.join();
}

Status Reviews::open_db()
{
    if (m_db) return {};
    auto db = store::Db::open(m_deps.state_path, false);
    if (!db) return db.error();
    m_db = std::move(*db);
    return {};
}

approval::Groups Reviews::groups_for(const ReviewAction& a) const
{
    // Asked once per team and login while one action is handled.
    auto seen = std::make_shared<std::map<std::string, bool>>();
    change::Reviewers* forge = &m_deps.forge;
    std::string repository = a.repository;
    return m_deps.groups.with_teams(
        [forge, repository, seen](const approval::Team& team, const std::string& login) -> Result<bool> {
            if (team.forge != forge->name()) return false;
            std::string key = team.name + "\n" + identity::canonical(login);
            if (auto it = seen->find(key); it != seen->end()) return it->second;
            auto member = forge->is_member(team.name, login, repository);
            if (!member) return member.error();
            (*seen)[key] = *member;
            return *member;
        });
}

Result<std::optional<json>> Reviews::handle(const ReviewAction& a, const std::string& source,
                                            const std::string& delivery)
{
    std::lock_guard lock(m_mutex);
    if (auto st = open_db(); !st) return st.error();
    if (!delivery.empty()) {
        auto seen = m_db->prepare("SELECT task_ids FROM webhook_deliveries WHERE source = ? AND delivery = ?");
        if (!seen) return seen.error();
        seen->bind(1, source).bind(2, delivery);
        auto row = seen->step();
        if (!row) return row.error();
        if (*row)
            return std::optional<json>(
                json{{"status", "duplicate"}, {"taskIds", json::parse(seen->text(0), nullptr, false)}});
    }
    change::PrStore prs(*m_db);
    auto open = prs.list("", a.repository, 1000);
    if (!open) return open.error();
    std::optional<Target> t;
    for (const auto& pr : *open)
        if (pr.forge == a.forge && pr.number == a.number && !pr.task_id.empty()) {
            auto e = m_deps.queue.show(pr.task_id);
            if (!e) return e.error();
            t = Target{pr, std::move(*e)};
            break;
        }
    if (!t) return std::optional<json>{};
    Result<json> acted = a.kind == ReviewAction::Kind::approve ? approve(a, *t)
                         : a.kind == ReviewAction::Kind::apply ? apply(a, *t)
                                                               : dismiss(a, *t);
    if (!acted) return acted.error();
    json out = std::move(*acted);
    out["taskId"] = t->task.id;
    if (!delivery.empty()) {
        auto ins = m_db->prepare(
            "INSERT INTO webhook_deliveries (source, delivery, received_at, task_ids) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING");
        if (!ins) return ins.error();
        ins->bind(1, source)
            .bind(2, delivery)
            .bind(3, timeutil::now_rfc3339())
            .bind(4, json::array({t->task.id}).dump());
        if (auto r = ins->run(); !r) return r.error();
    }
    return std::optional<json>(std::move(out));
}

json Reviews::refuse(const ReviewAction& a, const Target& t, const std::string& event, const Error& why)
{
    m_deps.events.emit(
        {event,
         t.task.id,
         "",
         {{"by", a.by}, {"forge", a.forge}, {"via", a.via}, {"pullRequest", a.number}, {"reason", why.message}}});
    std::string what =
        a.kind == ReviewAction::Kind::apply ? "`/infra-agent apply` was refused" : "your approval does not count";
    comment(a, mention(a) + ", " + what + " for task `" + t.task.id + "`: " + why_of(why));
    return {{"status", "refused"}, {"reason", why.message}};
}

json Reviews::approve(const ReviewAction& a, const Target& t)
{
    // A pull request's task has run: what can wait for approval there is its saved plan.
    const queue::Entry& e = t.task;
    // An approving review of an ordinary bot pull request is the usual way to merge it: nothing to answer.
    if (!tier4_ran(e) && (a.via == "review" || a.via == "approval"))
        return json{{"status", "ignored"}, {"reason", "task " + e.id + " has no plan that waits for approval"}};
    if (!tier4_ran(e))
        return refuse(a, t, "approval.refused",
                      make_error(Errc::conflict, "task " + e.id + " is " + std::string(queue::to_string(e.state)) +
                                                     ", and nothing of it waits for approval"));
    auto plans = change::saved_plans(e);
    if (!plans) return refuse(a, t, "approval.refused", plans.error());
    if (!a.commit.empty() && a.commit != plans->commit)
        return refuse(
            a, t, "approval.refused",
            make_error(Errc::denied,
                       "the review is of commit " + short_sha(a.commit) + ", and the saved plan was made at " +
                           short_sha(plans->commit),
                       "the plan no longer matches the pull request; run the task again for a new plan to review"));
    // A comment names no commit: a plan whose approvals a push dismissed stays stale.
    auto pushed = dismissed_at(e.id, plans->digest);
    if (!pushed) return refuse(a, t, "approval.refused", pushed.error());
    if (!pushed->empty())
        return refuse(
            a, t, "approval.refused",
            make_error(Errc::denied,
                       "commit " + short_sha(*pushed) + " was pushed after the saved plan was made at " +
                           short_sha(plans->commit),
                       "the plan no longer matches the pull request; run the task again for a new plan to review"));
    change::ApplyStore store(*m_db);
    auto v = change::approve_plan(e, store, m_deps.events, a.by, a.group, "", groups_for(a));
    if (!v) {
        Error why = v.error();
        if (why.code == Errc::usage) why.hint = "name the group you approve for: /infra-agent approve GROUP";
        return refuse(a, t, "approval.refused", why);
    }
    comment(a,
            "Plan sha256 `" + v->digest + "` of task `" + e.id + "` approved for " + v->group + " by " + mention(a) +
                ". " +
                (v->waiting.empty() ? "Every required group has approved it: comment `/infra-agent apply` to apply it."
                                    : "Still waiting for: " + list_of(v->waiting) + "."));
    return {{"status", "approved"}, {"group", v->group}, {"planSha256", v->digest}, {"waiting", v->waiting}};
}

json Reviews::apply(const ReviewAction& a, const Target& t)
{
    const queue::Entry& e = t.task;
    if (!m_deps.apply)
        return refuse(
            a, t, "apply.refused",
            make_error(Errc::unavailable, "this server does not apply plans", "run infra-agent apply " + e.id));
    if (!tier4_ran(e))
        return refuse(a, t, "apply.refused",
                      make_error(Errc::denied, "task " + e.id + " is " + std::string(queue::to_string(e.state)) +
                                                   ", and only a tier-4 task whose run kept a saved plan is applied"));
    // The check of an approval: not the requester, and a member of a group
    // the task requires, asked of the forge now.
    std::string asked_by = approval::requester(e.task);
    if (identity::same(asked_by, a.by))
        return refuse(a, t, "apply.refused",
                      make_error(Errc::denied, a.by + " asked for task " + e.id + " and cannot apply it",
                                 "a member of a group it requires must ask for the apply"));
    auto groups = groups_for(a);
    auto required = strings_member(e.decision, "requiredApprovals");
    Status member =
        make_error(Errc::denied, "task " + e.id + " requires no approval group whose member could apply it");
    for (const auto& g : required) {
        member = groups.check(g, a.by);
        if (member) break;
    }
    if (!member) return refuse(a, t, "apply.refused", member.error());
    change::ApplyStore store(*m_db);
    if (auto gate = change::check_gate(e, store); !gate) return refuse(a, t, "apply.refused", gate.error());
    m_deps.events.emit(
        {"apply.requested", e.id, "", {{"by", a.by}, {"forge", a.forge}, {"via", a.via}, {"pullRequest", a.number}}});
    // terraform runs for minutes: the webhook is answered now, the outcome on the pull request.
    m_applies.emplace_back([this, a, e] {
        auto out = m_deps.apply(e, a.by);
        std::string body;
        if (!out)
            body = "The apply of task `" + e.id + "` that " + mention(a) +
                   " asked for did not run: " + why_of(out.error());
        else {
            std::string approvers;
            for (const auto& p : (*out)["approvers"])
                approvers +=
                    (approvers.empty() ? "" : ", ") + string_member(p, "by") + " (" + string_member(p, "group") + ")";
            body = string_member(*out, "outcome") == "applied"
                       ? "Applied plan sha256 `" + string_member(*out, "planSha256") + "` of task `" + e.id + "` as " +
                             mention(a) + " asked; approved by " + approvers + "."
                       : "The apply of task `" + e.id + "` failed: " + string_member(*out, "error");
        }
        std::lock_guard lock(m_mutex);
        comment(a, body);
    });
    return {{"status", "applying"}};
}

Result<std::string> Reviews::dismissed_at(const std::string& task, const std::string& digest)
{
    m_deps.events.flush();
    events::Filter f;
    f.task = task;
    f.types = {"approval.dismissed"};
    std::string commit;
    auto st = events::query(*m_db, f, [&](const events::audit::Record& r) -> Status {
        if (string_member(r.event.data, "planSha256") == digest) commit = string_member(r.event.data, "commit");
        return {};
    });
    if (!st) return st.error();
    return commit;
}

Result<json> Reviews::dismiss(const ReviewAction& a, const Target& t)
{
    const queue::Entry& e = t.task;
    if (!tier4_ran(e)) return json{{"status", "ignored"}, {"reason", "no approval of a plan to dismiss"}};
    auto plans = change::saved_plans(e);
    if (!plans) return json{{"status", "ignored"}, {"reason", plans.error().message}};
    if (a.commit == plans->commit)
        return json{{"status", "ignored"}, {"reason", "the push is of the commit the plan was made at"}};
    auto before = dismissed_at(e.id, plans->digest);
    if (!before) return before.error();
    change::ApplyStore store(*m_db);
    auto gone = store.dismiss(e.id, plans->digest);
    if (!gone) return gone.error();
    if (gone->empty() && !before->empty())
        return json{{"status", "ignored"},
                    {"reason", "the plan was stale already: commit " + short_sha(*before) + " was pushed after it"}};
    json dismissed = json::array();
    std::string who;
    for (const auto& g : *gone) {
        dismissed.push_back({{"group", g.group}, {"by", g.by}});
        who += (who.empty() ? "" : ", ") + g.by + " (" + g.group + ")";
    }
    m_deps.events.emit({"approval.dismissed",
                        e.id,
                        "",
                        {{"by", a.by},
                         {"forge", a.forge},
                         {"pullRequest", a.number},
                         {"commit", a.commit},
                         {"planCommit", plans->commit},
                         {"planSha256", plans->digest},
                         {"dismissed", dismissed}}});
    // Recorded even when nobody had approved yet: later approvals of this plan do not count either.
    comment(a,
            "New commits were pushed to this pull request (head " + short_sha(a.commit) +
                ") after its plan was made at " + short_sha(plans->commit) + ", so " +
                (who.empty() ? "approvals of that plan will not count" : "the approvals by " + who + " are dismissed") +
                ". The plan no longer matches the branch: run the task again for a new plan to review.");
    return json{{"status", "dismissed"}, {"dismissed", dismissed}};
}

void Reviews::comment(const ReviewAction& a, const std::string& body)
{
    if (auto st = m_deps.forge.comment(a.repository, a.number, body); !st)
        spdlog::warn("cannot comment on {} pull request {}#{}: {}", a.forge, a.repository, a.number,
                     st.error().message);
}

}  // namespace infra::core::serve
