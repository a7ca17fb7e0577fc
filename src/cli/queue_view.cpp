#include "cli/queue_view.hpp"

#include "core/timeutil.hpp"

namespace infra::cli {

namespace {
std::string rfc3339(std::int64_t ms)
{
    return ms ? core::timeutil::format_rfc3339(core::timeutil::TimePoint(std::chrono::milliseconds(ms))) : "";
}
}  // namespace

std::string age(std::int64_t ms)
{
    auto d = core::queue::now_ms() - ms;
    if (d < 0) return "in " + core::timeutil::format_duration(std::chrono::milliseconds(-d / 1000 * 1000));
    return core::timeutil::format_duration(std::chrono::milliseconds(d / 1000 * 1000));
}

nlohmann::json entry_json(const core::queue::Entry& e, bool full)
{
    nlohmann::json j = {{"id", e.id},
                        {"type", e.type},
                        {"agent", e.agent},
                        {"state", core::queue::to_string(e.state)},
                        {"priority", core::to_string(e.priority)},
                        {"attempts", e.attempts},
                        {"maxAttempts", e.max_attempts},
                        {"dedupeKey", e.dedupe_key},
                        {"createdAt", rfc3339(e.created_ms)},
                        {"updatedAt", rfc3339(e.updated_ms)},
                        {"availableAt", rfc3339(e.available_ms)}};
    if (e.state == core::queue::State::leased) {
        j["leaseOwner"] = e.lease_owner;
        j["leaseUntil"] = rfc3339(e.lease_until_ms);
    }
    if (!e.last_error.empty()) j["lastError"] = e.last_error;
    if (!e.required_approvals.empty()) {
        j["requiredApprovals"] = e.required_approvals;
        j["approvals"] = e.approvals;
    }
    if (full) {
        j["task"] = e.task;
        j["decision"] = e.decision;
        if (!e.result.is_null()) j["result"] = e.result;
    }
    return j;
}

}  // namespace infra::cli
