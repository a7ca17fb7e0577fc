#pragma once
// Approvals where reviewers are. A forge's webhook tells serve what a
// reviewer did on one of infra-agent's pull requests: an approving review
// (GitHub pull_request_review submitted, approved; a GitLab merge request
// approval), an `/infra-agent approve` or `/infra-agent apply` comment, or a
// push to the branch. An approval counts for a group of the pull request's
// task by the rules of core/approval.hpp, with the members of the group's
// forge team asked of the forge when the approval arrives. `/infra-agent
// apply` runs the gated apply of a tier-4 task under the same check. A push
// after an approval of the plan dismisses it (the plan no longer matches
// the branch). Refusals are answered on the pull request with a comment
// that says why; every action is an audited event.

#include "core/approval.hpp"
#include "core/change/reviewers.hpp"
#include "core/events/event.hpp"
#include "core/queue/queue.hpp"
#include "core/result.hpp"
#include "core/store/db.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace infra::core::serve {

/// What a reviewer did on a pull request, as a forge's webhook tells it.
struct ReviewAction {
    enum class Kind { approve, apply, push };
    Kind kind = Kind::approve;
    std::string forge;        ///< github, gitlab
    std::string repository;   ///< owner/name, or the GitLab project's full path
    std::int64_t number = 0;  ///< the pull request's number, the merge request's iid
    std::string by;           ///< the login of who acted
    std::string commit;       ///< the commit a review approved, or the branch's new head; may be empty
    std::string via;          ///< review, comment, approval, note, push
    std::string group;        ///< `/infra-agent approve GROUP`: the group approved for; empty: the one left
};

/// The reviewer action in a GitHub delivery of event, if it is one.
std::optional<ReviewAction> github_review_action(const std::string& event, const nlohmann::json& body);

/// The reviewer action in a GitLab delivery (X-Gitlab-Event), if it is one.
std::optional<ReviewAction> gitlab_review_action(const std::string& event, const nlohmann::json& body);

/// Applies a tier-4 task's approved plan for by: apply_task's outcome.
using ApplyFn = std::function<Result<nlohmann::json>(const queue::Entry& task, const std::string& by)>;

struct ReviewDeps {
    queue::Queue& queue;
    events::EventSink& events;
    std::string state_path;  ///< opened on a connection of its own
    approval::Groups groups;
    change::Reviewers& forge;
    ApplyFn apply;  ///< empty: `/infra-agent apply` is refused
};

class Reviews {
public:
    explicit Reviews(ReviewDeps deps);
    ~Reviews();  ///< waits for the applies that are running
    Reviews(const Reviews&) = delete;
    Reviews& operator=(const Reviews&) = delete;

    /// Acts on a, once per delivery (source, delivery; empty: no check):
    /// the answer to the webhook ({status: approved, refused, dismissed,
    /// applying, ignored or duplicate, taskId, reason}), or nothing when a's
    /// pull request is not one of infra-agent's.
    Result<std::optional<nlohmann::json>> handle(const ReviewAction& a, const std::string& source,
                                                 const std::string& delivery);

private:
    struct Target;
    nlohmann::json approve(const ReviewAction& a, const Target& t);
    nlohmann::json apply(const ReviewAction& a, const Target& t);
    /// Errors when the approvals could not be dismissed (the delivery is not recorded, so it can come again).
    Result<nlohmann::json> dismiss(const ReviewAction& a, const Target& t);
    /// The head pushed when the approvals of task's plan digest were dismissed; empty when they never were.
    Result<std::string> dismissed_at(const std::string& task, const std::string& digest);
    nlohmann::json refuse(const ReviewAction& a, const Target& t, const std::string& event, const Error& why);
    void comment(const ReviewAction& a, const std::string& body);
    approval::Groups groups_for(const ReviewAction& a) const;
    Status open_db();

    ReviewDeps m_deps;
    std::mutex m_mutex;  ///< one action at a time, on one connection
    std::unique_ptr<store::Db> m_db;
    std::vector<std::thread> m_applies;
};

}  // namespace infra::core::serve
