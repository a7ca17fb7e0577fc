#pragma once
// Change control around an agent run: a fresh worktree of the repository
// for each task before, and after a successful run a bot branch, a commit
// with the task's trailers, a guarded push with a credential minted for
// that branch alone, and one pull request per task (per finding, resource,
// file, root or rule, as pr.group_by groups them), opened or updated.

#include "core/agent/agent.hpp"
#include "core/agent/report.hpp"
#include "core/change/forge.hpp"
#include "core/change/validation.hpp"
#include "core/config.hpp"
#include "core/events/trace.hpp"
#include "core/git.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>

namespace infra::core::change {

struct DeliveryOptions {
    std::string repo_url;             ///< what each task's worktree is cloned from
    std::string repository;           ///< owner/name (git.repository); see repository_for() and prepare()
    std::string base;                 ///< base branch; empty: the remote's default
    std::filesystem::path work_root;  ///< worktrees go to <work_root>/<task>-<attempt>
    git::Identity identity;
    std::vector<std::string> protected_patterns = {"main", "master", "production", "prod", "release/*"};
    std::vector<std::string> labels = {"infra-agent"};
    /// Mints the push credential: (scope, task id, trace id) -> token.
    std::function<Result<std::string>(const std::string&, const std::string&, const std::string&)> mint;
    std::string ssh_key;          ///< for ssh:// remotes; empty: the ssh-agent
    std::string ssh_known_hosts;  ///< host keys ssh remotes must present; empty: ~/.ssh/known_hosts
    Forge* forge = nullptr;
    PrStore* store = nullptr;
    /// Checks run before anything is committed; required when the decision
    /// says requiresValidation.
    ValidationOptions validation;
    /// Runs validation's remote pipelines once the branch is pushed.
    PipelineRunner* pipelines = nullptr;
    /// Where the saved plans of tier-4 changes are kept, per task
    /// (<plans_root>/<task>/); empty: tier-4 plans are not kept.
    std::filesystem::path plans_root;
    /// Limits on noise (pr.max_open, pr.max_per_hour): bot pull requests
    /// open at once in a repository, and opened in the last hour; 0: none.
    int max_open = 0, max_per_hour = 0;
    /// How long a task waiting on max_open waits before it looks again (pr.limit_recheck).
    std::chrono::milliseconds limit_recheck{60000};
    bool keep_worktrees = false;
    events::EventSink* events = nullptr;  ///< where clone, validation, commit, push and PR spans go
};

/// owner/name from a URL or path: https://host/acme/infra.git -> acme/infra.
std::string repository_name(const std::string& url);

/// The repository id tasks carry (context.repositoryId), by one rule for
/// every command: the flag, else repository.id, else git.repository, else
/// the owner/name of `checkout` (a URL or path; empty: none).
std::string repository_id(const Config& config, const std::string& flag, const std::string& checkout = {});

/// The pull request's title and body for a task, what its agent said and
/// the validation that ran (null: none), the body kept under k_max_body
/// characters (the diff is cut first).
std::pair<std::string, std::string> describe(const AgentTask& task, const policy::Decision& decision,
                                             const agent::Report& said, const Report* validation,
                                             const std::string& diff);

/// The trace id of a task's traceparent (else the current one).
std::string trace_id_of(const std::string& traceparent);

class Delivery {
public:
    explicit Delivery(DeliveryOptions opt) : m_opt(std::move(opt)) {}

    const DeliveryOptions& options() const { return m_opt; }
    void set_events(events::EventSink* sink) { m_opt.events = sink; }

    /// Clones the repository into a new worktree for this attempt. When
    /// options().repository is set, a task for another repository is refused
    /// (Errc::denied).
    Result<git::Checkout> prepare(const AgentTask& task, int attempt);

    /// Validates, commits, pushes and opens or updates the pull request;
    /// returns what happened, for the task's result under "change".
    /// Errc::denied when validation fails; Errc::conflict when a person owns
    /// the branch (neither is worth retrying).
    Result<json> deliver(const AgentTask& task, const policy::Decision& decision, const git::Checkout& co,
                         const agent::Outcome& outcome);

    /// Why the task's pull request must wait (a new one over max_open or
    /// max_per_hour) and for how long; nothing when it may go out now (an
    /// update of an open one always may).
    struct Wait {
        std::string reason;
        std::chrono::milliseconds delay{0};
    };
    Result<std::optional<Wait>> over_limit(const AgentTask& task);

    /// Removes the worktree (unless keep_worktrees).
    void cleanup(const git::Checkout& co);

    /// The repository's name in records and scopes: the configured one,
    /// else the task's repository id (context.repositoryId, may be empty),
    /// else from the URL.
    std::string repository_for(const std::string& repository_id) const;

private:
    DeliveryOptions m_opt;
    std::mutex m_mutex;  ///< the store's connection and the forge are used one task at a time
};

}  // namespace infra::core::change
