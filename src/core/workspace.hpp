#pragma once
// The directory an agent works in, and the only one it may touch: every
// path an agent names is checked here before anything reads or writes it.

#include "core/result.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace infra::core {

class Workspace {
public:
    /// A workspace rooted at an existing directory (symlinks in root itself
    /// are resolved once, here).
    static Result<Workspace> open(const std::filesystem::path& root);

    const std::filesystem::path& root() const { return m_root; }

    /// Resolves a relative path for reading: no absolute paths, no "..",
    /// nothing under a ".git" (in any case) or a ".infra-agent" at the top
    /// (a state home), and after every symlink is resolved the file is still
    /// inside root and still not there.
    Result<std::filesystem::path> resolve(std::string_view rel) const;

    /// Resolves a relative path for writing: as for reading, and the file,
    /// if it exists, is not a symlink; its directory must be inside root.
    Result<std::filesystem::path> resolve_for_write(std::string_view rel) const;

    /// Reads a file (at most limit bytes).
    Result<std::string> read(std::string_view rel, std::size_t limit = 4u << 20) const;

    /// Writes a file atomically (a temporary file renamed over it), creating
    /// directories inside root as needed.
    Status write(std::string_view rel, std::string_view content) const;

    /// Regular files below rel (relative paths, sorted), skipping .git and
    /// .terraform, at most limit of them.
    Result<std::vector<std::string>> list(std::string_view rel = ".", std::size_t limit = 5000) const;

    /// Every ".git" below root (in any case: a directory, file or link), as
    /// sorted relative paths; what is inside one is not looked into.
    std::vector<std::string> git_metadata() const;

private:
    std::filesystem::path m_root;
    Result<std::filesystem::path> check_lexical(std::string_view rel) const;
};

/// Refuses a workspace that holds the state home anywhere but at its top as
/// .infra-agent (which tools refuse and the sandbox hides): an agent working
/// there would reach its signing key, configuration and policies.
Status check_state_home_outside(const Workspace& ws, const std::filesystem::path& home);

/// Removes target and everything below it, but only when it lies strictly
/// inside parent, lexically and once symlinks on the way are resolved: the
/// guard every recursive delete of a task's directories goes through. A
/// missing target is not an error.
Status remove_tree_inside(const std::filesystem::path& parent, const std::filesystem::path& target);

}  // namespace infra::core
