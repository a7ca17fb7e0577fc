#pragma once
// Human decisions on parked tasks: approve for one required group, or
// reject. Recorded with who and when. Names are compared as identities
// (core/identity.hpp): whoever asked for a task cannot approve it, only a
// member of a group (config: approvals.groups.<group>.members) approves for
// it, and one person counts for one group of a task at most. Used by
// `approve`/`reject` and by serve's REST API; the tier-4 plan approvals of
// core/change/apply.hpp follow the same rules through the same functions.

#include "core/config.hpp"
#include "core/events/event.hpp"
#include "core/queue/queue.hpp"
#include "core/result.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace infra::core::approval {

/// The forge team whose members approve for a group:
/// approvals.groups.<group>.github_team (ORG/TEAM-SLUG) or .gitlab_group
/// (the group's full path).
struct Team {
    std::string forge;  ///< github, gitlab
    std::string name;
};

/// Whether a forge login is a member of team now, asked of the forge.
using TeamMembership = std::function<Result<bool>(const Team& team, const std::string& login)>;

/// Who may approve for which group: config's approvals.groups.<group>.members,
/// a list of names (INFRA_AGENT_APPROVALS_GROUPS_<GROUP>_MEMBERS, with names
/// separated by ':', overrides it), and the members of the forge team the
/// group maps to, for approvals that come from that forge. A group that is
/// not configured has no members, so nobody can approve for it.
class Groups {
public:
    /// No group is configured.
    Groups() = default;

    /// The groups of config, checked: Errc::invalid_input naming the key of
    /// an entry that is not a mapping with a list of names as members.
    static Result<Groups> from_config(const Config& config);

    /// These groups, with the members of forge teams asked through ask:
    /// for approvals that come from a forge, whose logins they are.
    Groups with_teams(TeamMembership ask) const;

    /// The forge team group maps to, if any.
    std::optional<Team> team(const std::string& group) const;

    /// Whether by may approve for group: Errc::denied, naming the group and
    /// the config key to set, when the group is not configured or by is not
    /// one of its members; the forge's error when it cannot be asked.
    Status check(const std::string& group, const std::string& by) const;

    /// Whether by is one of group's members (false when the forge cannot be asked).
    bool has_member(const std::string& group, const std::string& by) const;

private:
    /// The members of group; nothing when the group is not configured.
    std::optional<std::vector<std::string>> members(const std::string& group) const;
    /// Whether by is in group's members list.
    bool listed(const std::string& group, const std::string& by) const;
    /// Whether by is a member of group's team, asked of the forge now;
    /// false without a team or a way to ask.
    Result<bool> in_team(const std::string& group, const std::string& by) const;

    Config m_config;
    TeamMembership m_ask;
};

/// The config key that lists the members of group.
std::string members_key(const std::string& group);

struct Request {
    std::string task;  ///< id, or a unique prefix
    std::string by;    ///< who decides
    bool approve = true;
    std::string group;   ///< the group approved for; may be empty when one is left
    std::string reason;  ///< why, for a rejection
};

struct Verdict {
    std::string id, by, group, state, reason;
};

/// Who asked for a task: payload.requestedBy (API, chat), else the webhook's sender.
std::string requester(const nlohmann::json& task);

/// The checks every approval passes, of a task or of its plan: by is not
/// the requester of task, by is a member of group, and by has not approved
/// another group already (earlier holds the groups by's name is recorded
/// with, as {group, by} objects). Errc::denied with a sentence that says
/// which rule refused.
Status check_approver(const nlohmann::json& task, const std::string& task_id, const std::string& group,
                      const std::string& by, const nlohmann::json& earlier, const Groups& groups);

/// The hint of choose_group's refusal when several groups are waited for.
inline constexpr const char* k_name_the_group = "name the group you approve for";

/// The group an approval without --group is for: the one group still
/// waited for, else the one of them that by is a member of. Errc::usage
/// listing the groups (hint k_name_the_group) when that leaves several;
/// Errc::conflict when none waits.
Result<std::string> choose_group(const std::vector<std::string>& waiting, const std::string& by, const Groups& groups,
                                 const std::string& what);

/// Records the decision. Errors: not_found, conflict (not waiting for
/// approval), denied (the requester approving, an approver who is not a
/// member of the group, or who approved another group of the task), usage
/// (several groups wait and none is named).
Result<Verdict> decide(queue::Queue& queue, events::EventSink& events, const Request& request, const Groups& groups);

}  // namespace infra::core::approval
