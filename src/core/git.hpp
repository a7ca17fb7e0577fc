#pragma once
// Git through libgit2: a per-task worktree cloned from the repository, a
// deterministic bot branch, commits with the task's trailers, and pushes
// that carry a minted credential through libgit2's callbacks (never through
// a URL, an argument or the environment).
//
// Pushing is guarded: only branches under infra-agent/, never the default
// branch or a protected pattern, force-with-lease against the tip seen at
// fetch time, and never over a tip somebody else committed (a person who
// pushed to a bot branch owns it from then on).

#include "core/result.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace infra::core::git {

struct Identity {
    std::string name = "infra-agent";
    std::string email = "infra-agent@users.noreply.local";
};

/// How to authenticate to a remote. token is called at most once per
/// operation, and only when the remote asks for credentials.
struct Auth {
    std::function<Result<std::string>()> token;  ///< HTTPS: sent as the password
    std::string username = "x-access-token";     ///< HTTPS user name (GitHub's convention)
    std::string ssh_key;                          ///< SSH: private key file; empty: the ssh-agent
    std::string ssh_user = "git";
    /// SSH: the known_hosts file the server's key must be in; empty:
    /// libgit2's own check against ~/.ssh/known_hosts.
    std::string ssh_known_hosts;
};

/// infra-agent/<type>/<first 16 hex digits of the fingerprint>.
std::string branch_name(const std::string& task_type, const std::string& fingerprint);

struct Checkout {
    std::filesystem::path dir;
    std::string base_branch;  ///< the remote's default branch unless one was asked for
    std::string base_commit;
};

/// Clones url into dir (which must not exist or be empty) and checks out
/// base (empty: the remote's default branch).
Result<Checkout> clone(const std::string& url, const std::filesystem::path& dir, const std::string& base, const Auth& auth);

/// Opens an existing checkout (a person's clone, or a CI job's): its current
/// branch and commit become the base.
Result<Checkout> open(const std::filesystem::path& dir);

/// The top of the git working tree that contains dir, if any.
std::optional<std::filesystem::path> find_worktree(const std::filesystem::path& dir);

/// True when the checkout has a remote called origin.
bool has_origin(const Checkout& co);

/// The worktree's changes against the base commit as a unified diff,
/// untracked files included (Terraform working data left out).
Result<std::string> diff_worktree(const Checkout& co);

/// A file's content at the base commit; nullopt when it did not exist.
Result<std::optional<std::string>> file_at_base(const Checkout& co, const std::string& path);

/// The trailers every bot commit carries.
struct Trailers {
    std::string task_id, traceparent, policy_digest;
};

/// Stages every change of the worktree (new, changed and deleted files) on
/// a new commit of branch whose parent is the base commit; returns its id,
/// or "" when the worktree has no changes.
Result<std::string> commit_all(const Checkout& co, const std::string& branch, const std::string& message,
                               const Identity& who, const Trailers& trailers);

struct PushOptions {
    std::vector<std::string> protected_patterns = {"main", "master", "production", "prod", "release/*"};
    std::string bot_email;  ///< commits by this committer with a Task-Id trailer are the bot's
    Auth auth;
};

struct PushResult {
    std::string branch;
    std::string commit;
    std::string previous;  ///< the remote tip replaced, "" for a new branch
    bool created = false;
    bool unchanged = false;  ///< the remote already had exactly this tree on a bot commit
};

/// Pushes branch from the checkout to origin, force-with-lease against the
/// remote tip as fetched now. Errc::denied when the branch is not a bot
/// branch, is protected or is the default; Errc::conflict when somebody else
/// pushed to it (or moved it between our fetch and push).
Result<PushResult> push(const Checkout& co, const std::string& branch, const PushOptions& opt);

/// The trailers of a commit message (key -> value).
std::map<std::string, std::string> trailers_of(const std::string& message);

}  // namespace infra::core::git
