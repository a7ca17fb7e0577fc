#pragma once
// What a command changed in a workspace: a snapshot of every file before,
// compared with the files after, as a unified diff. For agents that edit
// the workspace themselves (exec) rather than through the tool box.

#include "core/result.hpp"
#include "core/workspace.hpp"

#include <map>
#include <string>
#include <vector>

namespace infra::core::agent {

/// The regular files of a workspace and their contents (.git and
/// .terraform skipped).
struct Snapshot {
    std::map<std::string, std::string> files;
    std::vector<std::string> unsafe;  ///< as in Changes, already there
};

/// Reads every file; fails past max_files files or max_bytes bytes in all.
Result<Snapshot> snapshot(const Workspace& ws, std::size_t max_files = 20000, std::size_t max_bytes = 256u << 20);

struct Changes {
    std::string diff;                ///< created, changed and deleted files, git-style
    std::vector<std::string> files;  ///< the paths changed
    /// New symlinks that point outside the workspace, and new special files
    /// (devices, fifos, sockets): a workspace with any is not used.
    std::vector<std::string> unsafe;
};

/// Compares the workspace now with a snapshot taken before; fails, as
/// snapshot() does, past max_files files or max_bytes bytes in all.
Result<Changes> changes_since(const Snapshot& before, const Workspace& ws, std::size_t max_files = 20000,
                              std::size_t max_bytes = 256u << 20);

}  // namespace infra::core::agent
