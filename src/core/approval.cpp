#include "core/approval.hpp"

#include "core/identity.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"

#include <algorithm>

namespace infra::core::approval {
namespace {

std::string list_of(const std::vector<std::string>& names)
{
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

std::string type_of(const nlohmann::json& j)
{
    return j.is_null() ? "null" : j.type_name();
}

bool blank(const nlohmann::json& j)
{
    return !j.is_string() || text::trim(j.get<std::string>()).empty();
}

/// ORG/TEAM-SLUG: two names and one slash.
bool is_org_team(const nlohmann::json& j)
{
    if (blank(j)) return false;
    std::string name(text::trim(j.get<std::string>()));
    auto slash = name.find('/');
    return slash != std::string::npos && slash > 0 && slash + 1 < name.size() &&
           name.find('/', slash + 1) == std::string::npos;
}

}  // namespace

std::string members_key(const std::string& group)
{
    return "approvals.groups." + group + ".members";
}

Result<Groups> Groups::from_config(const Config& config)
{
    Groups g;
    g.m_config = config;
    std::string where = config.file().empty() ? "config" : "config '" + config.file().string() + "'";
    auto bad = [&](const std::string& key, const std::string& what) {
        return fail(
            Errc::invalid_input, where + ": " + key + ": " + what,
            "approvals.groups maps each approval group to its members, e.g. platform-oncall: {members: [bob, carol]}, "
            "or to a forge team: {github_team: acme/platform-oncall} or {gitlab_group: acme/platform-oncall}");
    };
    const auto approvals = config.get_json("approvals");
    if (approvals.is_null()) return g;
    if (!approvals.is_object()) return bad("approvals", "expected a mapping, got " + type_of(approvals));
    for (auto it = approvals.begin(); it != approvals.end(); ++it)
        if (it.key() != "groups") return bad("approvals." + it.key(), "unknown key; expected groups");
    const auto& groups = member(approvals, "groups");
    if (groups.is_null()) return g;
    if (!groups.is_object()) return bad("approvals.groups", "expected a mapping of groups, got " + type_of(groups));
    for (auto it = groups.begin(); it != groups.end(); ++it) {
        std::string key = "approvals.groups." + it.key();
        if (!it->is_object()) return bad(key, "expected a mapping with members, got " + type_of(*it));
        for (auto kv = it->begin(); kv != it->end(); ++kv)
            if (kv.key() != "members" && kv.key() != "github_team" && kv.key() != "gitlab_group")
                return bad(key + "." + kv.key(), "unknown key; expected members, github_team or gitlab_group");
        if (it->contains("github_team") && it->contains("gitlab_group"))
            return bad(key, "maps to both a GitHub team and a GitLab group; a group approves on one forge");
        if (it->contains("github_team") && !is_org_team(member(*it, "github_team")))
            return bad(key + ".github_team", "expected ORG/TEAM-SLUG, e.g. acme/platform-oncall");
        if (it->contains("gitlab_group") && blank(member(*it, "gitlab_group")))
            return bad(key + ".gitlab_group", "expected the group's full path, e.g. acme/platform-oncall");
        if (!it->contains("members")) continue;
        const auto& members = member(*it, "members");
        if (members.is_string()) continue;
        if (!members.is_array()) return bad(key + ".members", "expected a list of names, got " + type_of(members));
        for (std::size_t i = 0; i < members.size(); ++i)
            if (!members[i].is_string() || text::trim(members[i].get<std::string>()).empty())
                return bad(key + ".members[" + std::to_string(i) + "]",
                           "expected a name, got " + (members[i].is_string() ? "a blank one" : type_of(members[i])));
    }
    return g;
}

std::optional<std::vector<std::string>> Groups::members(const std::string& group) const
{
    std::string key = members_key(group);
    if (!m_config.get(key)) return std::nullopt;
    return m_config.get_list(key);
}

Groups Groups::with_teams(TeamMembership ask) const
{
    Groups g = *this;
    g.m_ask = std::move(ask);
    return g;
}

std::optional<Team> Groups::team(const std::string& group) const
{
    for (const char* forge : {"github", "gitlab"}) {
        std::string key =
            "approvals.groups." + group + (std::string_view(forge) == "github" ? ".github_team" : ".gitlab_group");
        if (auto name = m_config.get(key); name && !text::trim(*name).empty())
            return Team{forge, std::string(text::trim(*name))};
    }
    return std::nullopt;
}

Result<bool> Groups::in_team(const std::string& group, const std::string& by) const
{
    auto t = team(group);
    if (!t || !m_ask || text::trim(by).empty()) return false;
    return m_ask(*t, std::string(text::trim(by)));
}

bool Groups::listed(const std::string& group, const std::string& by) const
{
    auto names = members(group);
    return names &&
           std::any_of(names->begin(), names->end(), [&](const std::string& n) { return identity::same(n, by); });
}

bool Groups::has_member(const std::string& group, const std::string& by) const
{
    if (listed(group, by)) return true;
    auto in = in_team(group, by);
    return in && *in;
}

Status Groups::check(const std::string& group, const std::string& by) const
{
    auto names = members(group);
    auto t = team(group);
    if (t) {
        if (listed(group, by)) return {};
        std::string forge = t->forge == "github" ? "GitHub team " : "GitLab group ";
        if (!m_ask)
            return fail(
                Errc::denied,
                "approval group " + text::quote(group, group.size()) + " is the " + forge + t->name + ", and " +
                    text::quote(by, by.size()) + " is not in its members list",
                "its members approve on the task's pull request (an approving review, or /infra-agent approve)");
        auto in = in_team(group, by);
        if (!in)
            return fail(Errc::unavailable,
                        "cannot tell whether " + by + " is a member of the " + forge + t->name + ": " +
                            in.error().message,
                        "nothing was approved; approve again once the forge answers");
        if (!*in)
            return fail(Errc::denied,
                        by + " is not a member of the " + forge + t->name + " (approval group " +
                            text::quote(group, group.size()) + ") now",
                        "a member of " + t->name + " must approve");
        return {};
    }
    if (!names)
        return fail(Errc::denied,
                    "approval group " + text::quote(group, group.size()) +
                        " is not configured, so nobody can approve for it",
                    "list who may approve for it in config.yaml: " + members_key(group) + ": [NAME, ...]");
    if (names->empty())
        return fail(Errc::denied,
                    "approval group " + text::quote(group, group.size()) +
                        " has no members, so nobody can approve for it",
                    "list who may approve for it in config.yaml: " + members_key(group) + ": [NAME, ...]");
    if (!listed(group, by))
        return fail(Errc::denied,
                    text::quote(by, by.size()) + " is not a member of approval group " +
                        text::quote(group, group.size()),
                    "its members are listed in " + members_key(group) + " in config.yaml");
    return {};
}

std::string requester(const nlohmann::json& task)
{
    const auto& payload = member(task, "payload");
    for (const char* k : {"requestedBy", "sender", "user"})
        if (auto v = string_member(payload, k); !v.empty()) return v;
    return {};
}

Status check_approver(const nlohmann::json& task, const std::string& task_id, const std::string& group,
                      const std::string& by, const nlohmann::json& earlier, const Groups& groups)
{
    std::string asked_by = requester(task);
    if (identity::same(asked_by, by))
        return fail(Errc::denied, by + " asked for task " + task_id + " and cannot approve it",
                    std::string(text::trim(asked_by)) == std::string(text::trim(by))
                        ? "another member of " + text::quote(group, group.size()) + " must approve it"
                        : "names are compared without case and surrounding spaces, so " + text::quote(by, by.size()) +
                              " is " + text::quote(asked_by, asked_by.size()) + "; another member of " +
                              text::quote(group, group.size()) + " must approve it");
    if (auto st = groups.check(group, by); !st) return st;
    if (earlier.is_array())
        for (const auto& a : earlier) {
            if (!identity::same(string_member(a, "by"), by)) continue;
            std::string other = string_member(a, "group");
            if (other == group)
                return fail(Errc::denied,
                            by + " already approved task " + task_id + " for " + text::quote(group, group.size()));
            return fail(Errc::denied,
                        by + " already approved task " + task_id + " for " + text::quote(other, other.size()) +
                            ", and one person counts for one group of a task",
                        "another member of " + text::quote(group, group.size()) + " must approve for it");
        }
    return {};
}

Result<std::string> choose_group(const std::vector<std::string>& waiting, const std::string& by, const Groups& groups,
                                 const std::string& what)
{
    if (waiting.empty()) return fail(Errc::conflict, "every required group has approved " + what);
    if (waiting.size() == 1) return waiting.front();
    std::vector<std::string> mine;
    for (const auto& g : waiting)
        if (groups.has_member(g, by)) mine.push_back(g);
    if (mine.size() == 1) return mine.front();
    return fail(Errc::usage, what + " waits for several groups: " + list_of(mine.empty() ? waiting : mine),
                k_name_the_group);
}

Result<Verdict> decide(queue::Queue& q, events::EventSink& events, const Request& r, const Groups& groups)
{
    if (text::trim(r.by).empty()) return fail(Errc::usage, "say who decides");
    auto e = q.show(r.task);
    if (!e) return e.error();
    if (e->state != queue::State::pending_approval)
        return fail(Errc::conflict,
                    "task " + e->id + " is " + std::string(queue::to_string(e->state)) + ", not waiting for approval");
    Verdict v{e->id, std::string(text::trim(r.by)), "", "", ""};
    if (!r.approve) {
        v.reason = r.reason.empty() ? "rejected by " + v.by : r.reason;
        if (auto st = q.reject(e->id, v.by, v.reason); !st) return st.error();
        events.emit({"task.rejected", e->id, "", {{"by", v.by}, {"reason", v.reason}}});
        v.state = "denied";
        return v;
    }
    std::vector<std::string> waiting;
    for (const auto& g : e->required_approvals) {
        bool done = false;
        for (const auto& a : e->approvals) done = done || string_member(a, "group") == g;
        if (!done) waiting.push_back(g);
    }
    v.group = r.group;
    if (v.group.empty()) {
        auto g = choose_group(waiting, v.by, groups, "task " + e->id);
        if (!g) return g.error();
        v.group = *g;
    }
    if (std::find(e->required_approvals.begin(), e->required_approvals.end(), v.group) == e->required_approvals.end())
        return fail(Errc::conflict, "task " + e->id + " needs no approval from " + text::quote(v.group, v.group.size()),
                    "it waits for: " + list_of(waiting));
    if (auto st = check_approver(e->task, e->id, v.group, v.by, e->approvals, groups); !st) return st.error();
    auto st = q.approve(e->id, v.group, v.by);
    if (!st) return st.error();
    events.emit({"task.approved", e->id, "", {{"by", v.by}, {"group", v.group}}});
    v.state = std::string(queue::to_string(*st));
    return v;
}

}  // namespace infra::core::approval
