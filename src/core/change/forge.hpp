#pragma once
// Pull requests: the record kept in the state db for every forge, and the
// Forge interface that opens or updates one upstream (GitHub, GitLab, or
// the local forge whose pull requests live only in the state db).

#include "core/result.hpp"
#include "core/store/db.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace infra::core {
class Config;
}

namespace infra::core::change {

using nlohmann::json;

/// GitHub's limit on a pull request's body, in characters.
constexpr std::size_t k_max_body = 65536;

struct PullRequest {
    std::string id;          ///< ours (a ULID)
    std::string forge;       ///< local, github, gitlab
    std::string repository;  ///< owner/name, or the local repository's path
    std::string branch, base;
    std::int64_t number = 0;
    std::string url;
    std::string state = "open";
    std::string title, body;
    std::vector<std::string> labels;
    std::string head_commit;
    std::string task_id, dedupe_key;
    std::string diff;
    std::string reason;             ///< why it is in its state (merged, declined, fixed elsewhere, left alone)
    json findings = json::array();  ///< the findings it carries: [{key, content, rule}]
    std::int64_t updates = 0;
    std::int64_t created_ms = 0, updated_ms = 0;

    json to_json(bool with_body) const;
};

/// What a delivery asks of a forge.
struct PrRequest {
    std::string repository, branch, base, title, body;
    std::vector<std::string> labels;
    std::string head_commit, task_id, dedupe_key, diff;
    json findings = json::array();  ///< [{key, content, rule}]
    /// Said on an existing pull request when a later run updates it.
    std::string update_comment;
};

/// The record of a pull request after a forge opened (existing empty) or
/// updated it: the request's title, body, labels, head, task and diff over
/// the existing record, or a new record with a fresh id. The forge sets
/// number and url.
PullRequest record_for(const std::string& forge, const PrRequest& req, const std::optional<PullRequest>& existing);

/// The pull-request records of a state db.
class PrStore {
public:
    explicit PrStore(store::Db& db) : m_db(db) {}
    Result<std::optional<PullRequest>> find(const std::string& forge, const std::string& repository,
                                            const std::string& branch);
    /// By id, unique id prefix, or "#N" / "N" (the pull request number; the newest when repositories share it).
    Result<PullRequest> get(const std::string& ref);
    Result<std::vector<PullRequest>> list(const std::string& state, const std::string& repository, std::size_t limit);
    /// Inserts pr (created) or records an update of it (updates + 1, a row in pull_request_updates).
    Status save(const PullRequest& pr, bool created, const std::string& comment);
    /// The next local number for a repository.
    Result<std::int64_t> next_number(const std::string& forge, const std::string& repository);
    /// The updates of a pull request, oldest first.
    Result<std::vector<json>> updates(const std::string& pr_id);
    /// Moves a pull request to state (open, merged, closed) for reason, and
    /// records it in its history with comment.
    Status set_state(const std::string& pr_id, const std::string& state, const std::string& reason,
                     const std::string& comment);

private:
    store::Db& m_db;
};

/// A pull request as the forge has it.
struct PrStatus {
    std::string state;        ///< open, closed or merged
    std::string head_commit;  ///< the branch's tip, when the forge says
    std::string by;           ///< who merged or closed it, when the forge says
};

/// Where pull requests are opened.
class Forge {
public:
    virtual ~Forge() = default;
    virtual std::string name() const = 0;
    /// Opens a pull request for req.branch, or updates the one that exists
    /// (existing, from the store, when known): never a second one for the
    /// same branch. Returns the pull request as the forge now has it.
    virtual Result<PullRequest> open_or_update(const PrRequest& req, const std::optional<PullRequest>& existing) = 0;

    // Following a bot pull request once it is open (core/change/follow.hpp).

    /// What the forge says of a pull request now.
    virtual Result<PrStatus> status(const PullRequest& pr) = 0;
    /// Says text on the pull request.
    virtual Status comment(const PullRequest& pr, const std::string& text) = 0;
    /// Closes the pull request, saying comment first.
    virtual Status close(const PullRequest& pr, const std::string& comment) = 0;
    /// Opens a closed pull request again.
    virtual Status reopen(const PullRequest& pr) = 0;
};

}  // namespace infra::core::change
