#pragma once
// Running commands for agents: in bubblewrap namespaces with no network,
// the system read-only, only the workspace writable, a private /tmp, a
// clean environment, rlimits, a wall-clock timeout that kills the whole
// process tree, and capped output. If bubblewrap cannot sandbox, the
// command does not run: sandboxed work never silently runs unsandboxed.

#include "core/result.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace infra::core::sandbox {

enum class Mode {
    bwrap,  ///< the default
    none,   ///< development only; refused unless policy allows it (allowUnsandboxed)
};

/// Parses "bwrap" or "none".
Result<Mode> parse_mode(std::string_view s);

struct Limits {
    std::chrono::seconds cpu{120};           ///< RLIMIT_CPU
    std::size_t memory = 2048ull << 20;      ///< RLIMIT_AS, bytes
    unsigned processes = 256;                ///< RLIMIT_NPROC (for the sandbox's own user)
    std::size_t file_size = 256ull << 20;    ///< RLIMIT_FSIZE, bytes
    std::chrono::milliseconds wall{300000};  ///< then the whole tree is killed
    std::size_t output = 1u << 20;           ///< bytes kept of stdout and of stderr each
};

struct Request {
    std::vector<std::string> argv;
    std::filesystem::path workspace;  ///< mounted read-write at /workspace, the working directory
    /// Extra environment; only names that are safe to pass are accepted
    /// (TF_*, CHECKPOINT_DISABLE, LANG, LC_*); everything else is dropped.
    std::map<std::string, std::string> env;
    std::string stdin_data;
    Limits limits;
    /// Host directories mounted read-write at the same path (a local
    /// Terraform backend's state, for init and apply); nothing else of the
    /// host's files is writable.
    std::vector<std::filesystem::path> binds = {};
    /// Host directories mounted read-only at the same path (a provider
    /// mirror the trusted side filled).
    std::vector<std::filesystem::path> ro_binds = {};
};

struct Outcome {
    int exit_code = -1;  ///< -1 when killed by a signal
    int signal = 0;
    bool timed_out = false;
    bool out_truncated = false;
    bool err_truncated = false;
    std::string out;
    std::string err;
    double ms = 0;
};

class Sandbox {
public:
    /// A sandbox of the given mode; for bwrap, checks that bubblewrap is
    /// installed and can create its namespaces here.
    static Result<Sandbox> create(Mode mode);
    /// The same with bubblewrap looked for at bwrap_path (for tests).
    static Result<Sandbox> create(Mode mode, const std::string& bwrap_path);

    Mode mode() const { return m_mode; }

    /// Runs the request. An Error means it could not run as asked (no
    /// sandbox); a command that ran and failed is an Outcome.
    Result<Outcome> run(const Request& req) const;

private:
    Mode m_mode = Mode::bwrap;
    std::string m_bwrap;
};

/// As root, each directory a command sees is staged at
/// /tmp/<k_stage_prefix><pid>-XXXXXX, named by the process that staged it,
/// and removed when the command ends.
constexpr const char* k_stage_prefix = "infra-agent-sandbox-";

/// Removes the stage directories under tmp that a killed process left (they
/// are empty on the host): those of a process that is gone, untouched for
/// min_age in case tmp is shared with another PID namespace. rmdir removes
/// nothing that is not empty. A root process's first staging does this
/// for /tmp, with a day. Returns how many it removed.
std::size_t remove_stale_stages(const std::filesystem::path& tmp, std::chrono::seconds min_age);

/// When infra-agent runs as root, sandboxed commands run as a uid from
/// [k_sandbox_uid_base, k_sandbox_uid_base + k_sandbox_uid_span) chosen by
/// workspace: the kernel never limits root's processes, and a uid per
/// workspace keeps one task's fork bomb from using up another's limit.
constexpr unsigned k_sandbox_uid_base = 2000000000u;
constexpr unsigned k_sandbox_uid_span = 100000000u;

}  // namespace infra::core::sandbox
