#include "plugins/queues/common.hpp"

#include "core/identity.hpp"
#include "core/json_access.hpp"
#include "core/text.hpp"

#include <algorithm>

namespace infra::plugins::queues {

using namespace core;
using namespace core::queue;

std::vector<std::string> strings_of(const std::string& text)
{
    auto j = json::parse(text, nullptr, false);
    std::vector<std::string> out;
    if (j.is_array())
        for (const auto& e : j)
            if (e.is_string()) out.push_back(e.get<std::string>());
    return out;
}

int effective_priority(const AgentTask& t, const json& decision)
{
    int p = static_cast<int>(t.context.priority);
    if (decision.is_object() && decision.contains("priority") && decision["priority"].is_string())
        if (auto dp = parse_priority(decision["priority"].get<std::string>())) p = std::max(p, static_cast<int>(*dp));
    return p;
}

json from_cbor(std::string_view bytes)
{
    if (bytes.empty()) return nullptr;
    return json::from_cbor(bytes.begin(), bytes.end(), true, false);
}

Result<State> add_approval(const std::string& id, const std::string& state, const std::vector<std::string>& required,
                           json& approvals, const std::string& group, const std::string& by, std::int64_t now)
{
    if (state != "pending-approval")
        return fail(Errc::conflict, "task " + text::quote(id) + " is " + state + ", not waiting for approval");
    if (std::find(required.begin(), required.end(), group) == required.end()) {
        std::string need;
        for (const auto& r : required) need += (need.empty() ? "" : ", ") + r;
        return fail(Errc::conflict, "task " + text::quote(id) + " needs no approval from " + text::quote(group),
                    "it waits for: " + need);
    }
    if (!approvals.is_array()) approvals = json::array();
    for (const auto& a : approvals) {
        if (core::string_member(a, "group") == group)
            return fail(Errc::conflict, text::quote(group) + " has already approved task " + text::quote(id));
        // One person counts for one group, checked where the approval is
        // recorded so that two approvals at once cannot both pass.
        if (core::identity::same(core::string_member(a, "by"), by))
            return fail(Errc::denied,
                        by + " already approved task " + text::quote(id) + " for " +
                            text::quote(core::string_member(a, "group")) +
                            ", and one person counts for one group of a task",
                        "another member of " + text::quote(group) + " must approve for it");
    }
    approvals.push_back({{"group", group}, {"by", by}, {"atMs", now}});
    for (const auto& r : required) {
        bool got = false;
        for (const auto& a : approvals) got = got || core::string_member(a, "group") == r;
        if (!got) return State::pending_approval;
    }
    return State::queued;
}

Error lost_lease(const std::string& id, std::int64_t token, const std::optional<std::string>& state, std::int64_t fence)
{
    std::string why = "it is gone";
    if (state) {
        if (*state != "leased") why = "it is " + *state + " now";
        else if (fence != token) why = "another worker holds it now";
        else why = "the lease expired";
    }
    return make_error(Errc::conflict, "lease of task " + text::quote(id) + " with token " + std::to_string(token) +
                                          " was lost: " + why);
}

Error wrong_state(const std::string& id, const std::optional<std::string>& state, const std::string& wanted)
{
    if (!state) return make_error(Errc::not_found, "no task " + text::quote(id) + " in the queue");
    return make_error(Errc::conflict, "task " + text::quote(id) + " is " + *state + ", not " + wanted);
}

Result<std::string> purgeable_states(const std::vector<State>& states)
{
    std::string in;
    for (State s :
         states.empty() ? std::vector<State>{State::succeeded, State::dead, State::cancelled, State::denied} : states) {
        if (!is_final(s))
            return fail(Errc::usage, "only finished tasks can be purged, not " + std::string(to_string(s)));
        in += std::string(in.empty() ? "'" : ", '") + std::string(to_string(s)) + "'";
    }
    return in;
}

}  // namespace infra::plugins::queues
