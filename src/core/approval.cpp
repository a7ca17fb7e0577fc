#include "core/approval.hpp"

#include "core/json_access.hpp"
#include "core/text.hpp"

namespace infra::core::approval {

std::string requester(const nlohmann::json& task)
{
    const auto& payload = member(task, "payload");
    for (const char* k : {"requestedBy", "sender", "user"})
        if (auto v = string_member(payload, k); !v.empty()) return v;
    return {};
}

Result<Verdict> decide(queue::Queue& q, events::EventSink& events, const Request& r)
{
    if (text::trim(r.by).empty()) return fail(Errc::usage, "say who decides");
    auto e = q.show(r.task);
    if (!e) return e.error();
    if (e->state != queue::State::pending_approval)
        return fail(Errc::conflict, "task " + e->id + " is " + std::string(queue::to_string(e->state)) + ", not waiting for approval");
    std::string asked_by = requester(e->task);
    if (r.approve && !asked_by.empty() && asked_by == r.by)
        return fail(Errc::denied, r.by + " asked for task " + e->id + " and cannot approve it", "another member of the approving group must");
    Verdict v{e->id, r.by, "", "", ""};
    if (!r.approve) {
        v.reason = r.reason.empty() ? "rejected by " + r.by : r.reason;
        if (auto st = q.reject(e->id, r.by, v.reason); !st) return st.error();
        events.emit({"task.rejected", e->id, "", {{"by", r.by}, {"reason", v.reason}}});
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
        if (waiting.size() != 1) {
            std::string list;
            for (const auto& g : waiting) list += (list.empty() ? "" : ", ") + g;
            return fail(Errc::usage, "task " + e->id + " waits for several groups: " + list, "name the group you approve for");
        }
        v.group = waiting.front();
    }
    auto st = q.approve(e->id, v.group, r.by);
    if (!st) return st.error();
    events.emit({"task.approved", e->id, "", {{"by", r.by}, {"group", v.group}}});
    v.state = std::string(queue::to_string(*st));
    return v;
}

}  // namespace infra::core::approval
