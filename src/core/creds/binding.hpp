#pragma once
// What may be minted for a task: credentials are bound to the task they are
// asked for. A task may have its repository fetched, and, when its decision
// lets it propose changes (tier 2 and up), its own bot branch pushed, its
// pull request opened and its repository's CI run; nothing else (no other
// repository, no other branch, no cloud role). A credential asked for under
// a lease is for the worker holding that lease, and lives no longer than the
// lease. serve's broker API (/v1/credentials) checks every request so, and a
// worker checks its own mints while it runs a task (see LeaseScope); the
// operator's `creds mint` is not bound.

#include "core/creds/scope.hpp"
#include "core/queue/queue.hpp"
#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace infra::core::creds {

using nlohmann::json;

/// The longest lifetime of a credential minted for a task; asking for more
/// is refused rather than shortened (no worker asks for more).
constexpr std::chrono::seconds k_max_task_ttl{3600};

/// What configuration adds to what a task says about itself.
struct TaskGrant {
    /// The repository of a task whose context names none (serve's
    /// repository.id, a worker's git.repository or its remote's name).
    std::string repository;
    /// Scopes configuration grants every task that may propose changes, such
    /// as a CI pipeline kept in another repository.
    std::vector<Scope> also;
};

/// The repository a task's credentials are for: its context.repositoryId,
/// else the grant's; empty when neither names one.
std::string task_repository(const json& task, const TaskGrant& grant);

/// The task's bot branch: infra-agent/<type>/<fingerprint of its dedupeKey, else its id>.
std::string task_branch(const json& task);

/// Every scope that may be minted for task under decision, in canonical
/// text: its fetch scope, and from tier 2 its push, pull-request and CI
/// scopes and the grant's own. Empty when the decision denies the task or
/// no repository is known.
std::vector<std::string> task_scopes(const json& task, const json& decision, const TaskGrant& grant);

/// Says whether wanted may be minted for task under decision: it must be
/// one of task_scopes() exactly (a pattern, a missing or an extra attribute
/// is refused). The Errc::denied error names what was asked and what the
/// task allows.
Status check_task_scope(const json& task, const json& decision, const Scope& wanted, const TaskGrant& grant);

/// A request for a credential under a lease (what a worker sends).
struct LeaseAsk {
    std::string task_id;
    std::string scope;
    std::string worker_id;         ///< the lease owner the worker claimed as
    std::int64_t lease_token = 0;  ///< the lease's fencing token
    std::chrono::seconds ttl{900};
    std::string token_name = {};  ///< the name of the worker token that asks; empty: not checked
};

/// True when worker_id is one of the worker token called token_name's:
/// the name itself, or NAME/ANYTHING (the default id of a distributed
/// worker is NAME/host:pid).
bool worker_of(const std::string& token_name, const std::string& worker_id);

/// How long a granted credential may live.
struct MintLimit {
    std::chrono::seconds ttl{0};    ///< the asked-for lifetime, cut to the lease's end
    std::int64_t not_after_ms = 0;  ///< the lease's end: the credential expires no later
};

/// Checks a request against the queue's entry for its task (from show(),
/// with task and decision): the task is leased, by ask.worker_id under
/// ask.lease_token, that worker id is the asking token's (worker_of), the
/// lease has not ended at now_ms, the scope is bound
/// to the task (check_task_scope), and the lifetime is at most
/// k_max_task_ttl. Errc::denied says which of these failed.
Result<MintLimit> authorize_lease_mint(const queue::Entry& held, const LeaseAsk& ask, std::int64_t now_ms,
                                       const TaskGrant& grant);

/// The task a thread is running under a lease.
struct TaskLease {
    std::string task_id;
    std::string worker_id;
    std::int64_t token = 0;
    json task;
    json decision;
    TaskGrant grant;
    /// The lease's end now, in ms since the epoch (heartbeats move it on).
    std::function<std::int64_t()> lease_until_ms;
};

/// While alive, credentials minted on this thread are bound to lease (see
/// Broker::mint); scopes nest, the innermost wins.
class LeaseScope {
public:
    explicit LeaseScope(TaskLease lease);
    ~LeaseScope();
    LeaseScope(const LeaseScope&) = delete;
    LeaseScope& operator=(const LeaseScope&) = delete;

private:
    TaskLease m_lease;
    const TaskLease* m_outer;
};

/// The lease of the task this thread runs, or null.
const TaskLease* current_lease();

/// Checks a mint asked on a thread running lease: for that task, a scope
/// bound to it (check_task_scope), a lifetime of at most k_max_task_ttl;
/// returns the lifetime cut to the lease's end.
Result<MintLimit> authorize_in_lease(const TaskLease& lease, const std::string& task_id, const Scope& wanted,
                                     std::chrono::seconds ttl, std::int64_t now_ms);

}  // namespace infra::core::creds
