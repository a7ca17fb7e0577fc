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
    std::string ssh_key;                         ///< SSH: private key file; empty: the ssh-agent
    std::string ssh_user = "git";
    /// SSH: the known_hosts file the server's key must be in; empty:
    /// libgit2's own check against ~/.ssh/known_hosts.
    std::string ssh_known_hosts;
};

/// infra-agent/<type>/<first 16 hex digits of the fingerprint>.
std::string branch_name(const std::string& task_type, const std::string& fingerprint);

struct Checkout {
    std::filesystem::path dir;  ///< the working tree
    /// Where the repository's metadata lives when infra-agent cloned it:
    /// beside the working tree, never in it, so that whoever works in dir
    /// (an agent, a sandboxed command) cannot reach the configuration,
    /// hooks or objects the host commits and pushes with. Empty for a
    /// person's own checkout (opened with open()), whose .git is in dir.
    std::filesystem::path git_dir;
    /// The URL of origin as the host configured it; credentials go to this
    /// URL's scheme, host and port and nowhere else.
    std::string remote_url;
    std::string base_branch;  ///< the remote's default branch unless one was asked for
    std::string base_commit;
};

/// The metadata directory clone() uses for a working tree: "<dir>.git", beside it.
std::filesystem::path git_dir_for(const std::filesystem::path& dir);

/// Clones url into a bare repository at git_dir_for(dir) and checks base
/// (empty: the remote's default branch) out into dir (which must not exist
/// or be empty). dir holds the files only: no .git of any kind.
Result<Checkout> clone(const std::string& url, const std::filesystem::path& dir, const std::string& base,
                       const Auth& auth);

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

/// The paths the worktree changes against the base commit, as git's own
/// status of the tree sees them: created, modified, deleted and renamed
/// files (both names), untracked ones included, sorted; the Terraform
/// working data that commits leave out is left out here too.
Result<std::vector<std::string>> changed_paths(const Checkout& co);

/// The files of the worktree that its .gitignore rules hide (Terraform
/// working data left out): what a commit would leave out although terraform
/// would read it.
Result<std::vector<std::string>> ignored_paths(const Checkout& co);

/// True when a path names git metadata: any of its components is ".git"
/// (in any case).
bool is_git_metadata(std::string_view path);

/// Removes every ".git" (in any case, file or directory, at any depth) that
/// someone made in the working tree of a checkout infra-agent cloned (one
/// with a git_dir of its own), so that none can pose as a nested repository
/// when the change is staged; returns the paths removed. A person's own
/// checkout is left alone.
Result<std::vector<std::string>> remove_metadata_from_tree(const Checkout& co);

/// Writes the base commit's files (no metadata) into dir, which must not
/// exist or be empty: what the repository looked like before the agent.
Status export_base(const Checkout& co, const std::filesystem::path& dir);

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

/// What origin has of a bot branch, against its base branch.
struct BranchState {
    bool exists = false;     ///< the branch is on origin
    std::string head;        ///< its tip
    std::string base_head;   ///< the base's tip
    bool merged = false;     ///< the tip is in the base's history
    bool behind = false;     ///< the base has commits the branch was not made on
    bool conflicts = false;  ///< merging it into the base now would conflict
    bool bot_owned = false;  ///< the tip is a bot commit (bot_email's, with a Task-Id trailer)
    std::string pushed_by;   ///< who committed the tip, when it is not the bot
};

/// Fetches the branch and its base from url into a scratch repository at
/// scratch (made and removed here) and says how they stand.
Result<BranchState> inspect_branch(const std::string& url, const std::string& branch, const std::string& base,
                                   const std::string& bot_email, const Auth& auth,
                                   const std::filesystem::path& scratch);

/// Deletes a bot branch (under infra-agent/) from url; a branch that is
/// already gone is no error.
Status delete_branch(const std::string& url, const std::string& branch, const Auth& auth,
                     const std::filesystem::path& scratch);

/// The trailers of a commit message (key -> value).
std::map<std::string, std::string> trailers_of(const std::string& message);

}  // namespace infra::core::git
