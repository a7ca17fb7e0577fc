#pragma once
// Following bot pull requests once they are open, from forge webhooks and
// from a reconcile pass against the forge and the repository:
//   merged                      -> its findings are resolved, its branch deleted;
//   closed without merging      -> its findings are declined: not proposed
//                                  again until what they say changes, or
//                                  `pr reopen`;
//   findings gone from the latest report of the repository
//                               -> closed, with a comment that says why;
//   base moved (behind, or conflicting)
//                               -> rebuilt on the new base (a fresh task whose
//                                  push is forced with lease), unless a person
//                                  pushed to it: then left alone, with a comment.
// Each transition is an audited event (pr.merged, pr.declined, pr.obsolete,
// pr.rebuilt, pr.left-alone, pr.reopened) and the record says why.

#include "core/change/delivery.hpp"
#include "core/task.hpp"

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace infra::core::change {

/// The findings the latest report of each repository had.
Status record_report(store::Db& db, const std::string& repository, const std::vector<std::string>& finding_keys);
/// Nothing when no report of the repository was recorded.
Result<std::optional<std::set<std::string>>> latest_report(store::Db& db, const std::string& repository);

/// What was held back from a batch of tasks, and why.
struct HeldBack {
    std::string key;  ///< the finding's key
    std::string reason;
    TaskFinding finding;
};

/// Drops from tasks the findings declined with the same content, and the
/// tasks whose pull request a person has taken over (a task left with no
/// finding is dropped whole); says why for each finding.
Result<std::vector<HeldBack>> hold_back(std::vector<AgentTask>& tasks, store::Db& db, PrStore& store,
                                        const std::string& forge);

struct FollowOptions {
    DeliveryOptions delivery;  ///< the forge, the store, the repository and its credentials
    store::Db* db = nullptr;   ///< the store's database
    /// The task a pull request was made for (by its id); empty: none known.
    std::function<Result<json>(const std::string& task_id)> task_of;
    /// Admits a fresh task that rebuilds a pull request on its new base;
    /// empty: the caller rebuilds (remediate runs every group again).
    std::function<Status(AgentTask task)> rebuild;
};

/// One transition made.
struct Transition {
    std::string pr_id, event, reason;
    std::int64_t number = 0;
    json to_json() const;
};

class Follower {
public:
    explicit Follower(FollowOptions opt) : m_opt(std::move(opt)) {}

    /// Looks at every open bot pull request (of repository, or all) and
    /// makes the transitions they are due.
    Result<std::vector<Transition>> reconcile(const std::string& repository);

    /// A forge said (a webhook) that pull request number of repository was
    /// merged or closed (state) by by. Nothing when it is none of ours.
    Result<std::optional<Transition>> closed(const std::string& repository, std::int64_t number,
                                             const std::string& state, const std::string& by);

    /// `pr close`: closes a bot pull request by hand; its findings are declined.
    Result<Transition> close(const PullRequest& pr, const std::string& by);
    /// `pr reopen`: its findings may be proposed again; a closed pull request is opened again.
    Result<Transition> reopen(const PullRequest& pr, const std::string& by);
    /// Closes a bot pull request that has no reason left to exist (its
    /// findings fixed elsewhere, the drift it codified gone), with a comment
    /// that says why (reason).
    Result<Transition> obsolete(const PullRequest& pr, const std::string& reason);

private:
    Result<Transition> merged(const PullRequest& pr, const std::string& by);
    Result<Transition> declined(const PullRequest& pr, const std::string& by, bool close_on_forge);
    Result<std::optional<Transition>> look_at(const PullRequest& pr);
    Result<Transition> record(const PullRequest& pr, const std::string& state, const std::string& event,
                              const std::string& reason, json data = json::object());
    git::Auth auth(const PullRequest& pr, const std::string& scope) const;

    FollowOptions m_opt;
};

}  // namespace infra::core::change
