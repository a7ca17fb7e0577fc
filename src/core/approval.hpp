#pragma once
// Human decisions on parked tasks: approve for one required group, or
// reject. Recorded with who and when; whoever asked for a task cannot
// approve it. Used by `approve`/`reject` and by serve's REST API.

#include "core/events/event.hpp"
#include "core/queue/queue.hpp"
#include "core/result.hpp"

#include <string>

namespace infra::core::approval {

struct Request {
    std::string task;   ///< id, or a unique prefix
    std::string by;     ///< who decides
    bool approve = true;
    std::string group;  ///< the group approved for; may be empty when one is left
    std::string reason; ///< why, for a rejection
};

struct Verdict {
    std::string id, by, group, state, reason;
};

/// Who asked for a task: payload.requestedBy (API, chat), else the webhook's sender.
std::string requester(const nlohmann::json& task);

/// Records the decision. Errors: not_found, conflict (not waiting for
/// approval), denied (the requester approving), usage (several groups wait
/// and none is named).
Result<Verdict> decide(queue::Queue& queue, events::EventSink& events, const Request& request);

}  // namespace infra::core::approval
