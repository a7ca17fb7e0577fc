#include "core/sandbox.hpp"

#include "core/process.hpp"
#include "core/text.hpp"
#include "core/workspace.hpp"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <ftw.h>
#include <functional>
#include <grp.h>
#include <list>
#include <mutex>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>

namespace infra::core::sandbox {

namespace fs = std::filesystem;

namespace {

bool safe_env_name(const std::string& k)
{
    return k.rfind("TF_", 0) == 0 || k == "CHECKPOINT_DISABLE" || k == "LANG" || k.rfind("LC_", 0) == 0;
}

std::string find_program(const std::string& name)
{
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
        std::string p = std::string(dir) + "/" + name;
        if (::access(p.c_str(), X_OK) == 0) return p;
    }
    return {};
}

// While a root process sandboxes, the workspace belongs to the sandbox's
// user, and is given back afterwards (with what the command created).
struct Handoff {
    fs::path root;
    uid_t uid = 0;
    gid_t gid = 0;
    bool active = false;

    static void chown_tree(const fs::path& root, uid_t uid, gid_t gid)
    {
        std::error_code ec;
        ::lchown(root.c_str(), uid, gid);
        for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec))
            ::lchown(it->path().c_str(), uid, gid);
    }
    void give(const fs::path& ws, uid_t to)
    {
        struct stat st {};
        if (::getuid() != 0 || ::stat(ws.c_str(), &st) != 0) return;
        root = ws;
        uid = st.st_uid;
        gid = st.st_gid;
        chown_tree(ws, to, to);
        active = true;
    }
    ~Handoff()
    {
        if (active) chown_tree(root, uid, gid);
    }
};

[[noreturn]] void child_fail(int fd, const std::string& what)
{
    std::string msg = what + ": " + std::strerror(errno);
    (void)!::write(fd, msg.data(), msg.size());
    ::_exit(127);
}

/// The directories to bind, canonical: the writable ones first, then the
/// read-only ones. Never the workspace, a directory around it (other tasks'
/// worktrees, the state home), or one inside it.
Result<std::vector<fs::path>> checked_binds(const Request& req, const fs::path& ws)
{
    std::error_code ec;
    std::vector<fs::path> binds;  // the writable ones first, then the read-only ones
    std::vector<fs::path> wanted = req.binds;
    wanted.insert(wanted.end(), req.ro_binds.begin(), req.ro_binds.end());
    for (const auto& b : wanted) {
        fs::path p = fs::canonical(b, ec);
        if (ec || !fs::is_directory(p, ec))
            return fail(Errc::not_found, "directory to bind '" + b.string() + "' is not a directory");
        auto within = [](const fs::path& inner, const fs::path& outer) {
            auto rel = inner.lexically_relative(outer);
            return !rel.empty() && *rel.begin() != "..";
        };
        if (p == "/" || within(ws, p) || within(p, ws))
            return fail(Errc::usage,
                        "cannot bind '" + p.string() + "' into the sandbox: it holds the workspace or is inside it");
        binds.push_back(p);
    }
    return binds;
}

/// The git metadata in a workspace, relative to it: every ".git" (a
/// directory or a file), and for one that is a link, where it leads when
/// that is inside the workspace (a link out leads nowhere the sandbox sees).
std::vector<std::string> git_metadata_to_hide(const fs::path& ws)
{
    auto w = Workspace::open(ws);
    if (!w) return {};
    std::vector<std::string> out;
    for (const auto& rel : w->git_metadata()) {
        std::error_code ec;
        if (!fs::is_symlink(w->root() / rel, ec)) {
            out.push_back(rel);
            continue;
        }
        fs::path target = fs::canonical(w->root() / rel, ec);
        auto inside = target.lexically_relative(w->root());
        if (!ec && !inside.empty() && *inside.begin() != ".." && inside != ".") out.push_back(inside.string());
    }
    return out;
}

/// bubblewrap's arguments up to the command: nothing of the host but /usr,
/// the few files of /etc programs need, the workspace (source(0)) at
/// /workspace and the binds (source(i + 1)), a clean environment.
std::vector<std::string> bwrap_args(const std::string& bwrap, const Request& req, const fs::path& ws,
                                    const std::vector<fs::path>& binds,
                                    const std::function<std::string(std::size_t)>& source,
                                    const std::vector<std::string>& env)
{
    std::vector<std::string> args = {
        bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink",
        "usr/sbin", "/sbin",
        // Only the parts of /etc that programs need to start; no
        // credentials, no hosts, no resolver: there is no network.
        "--ro-bind-try", "/etc/alternatives", "/etc/alternatives", "--ro-bind-try", "/etc/ssl/certs", "/etc/ssl/certs",
        "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache", "--ro-bind-try", "/etc/localtime", "/etc/localtime",
        "--ro-bind-try", "/etc/passwd", "/etc/passwd", "--ro-bind-try", "/etc/group", "/etc/group", "--proc", "/proc",
        "--dev", "/dev", "--tmpfs", "/tmp", "--bind", source(0), "/workspace"};
    // A person's checkout keeps its git metadata out of reach, the
    // checkout's own and that of any repository inside it (a vendored clone,
    // a submodule): an empty, read-only stand-in hides each, so nothing run
    // here reads a remote's token or rewrites the configuration git later
    // pushes with.
    for (const auto& rel : git_metadata_to_hide(ws)) {
        std::string at = "/workspace/" + rel;
        struct stat dotgit {};
        if (::lstat((ws / rel).c_str(), &dotgit) != 0) continue;
        if (S_ISDIR(dotgit.st_mode)) args.insert(args.end(), {"--tmpfs", at, "--remount-ro", at});
        else args.insert(args.end(), {"--ro-bind", "/dev/null", at});
    }
    // So is a state home at its top (init and remediate make .infra-agent
    // there): its signing key, configuration, policies and audit log.
    struct stat home {};
    if (::lstat((ws / ".infra-agent").c_str(), &home) == 0 && S_ISDIR(home.st_mode))
        args.insert(args.end(), {"--tmpfs", "/workspace/.infra-agent", "--remount-ro", "/workspace/.infra-agent"});
    for (std::size_t i = 0; i < binds.size(); ++i)
        args.insert(args.end(), {i < req.binds.size() ? "--bind" : "--ro-bind", source(i + 1), binds[i].string()});
    args.insert(args.end(), {"--chdir", "/workspace", "--clearenv"});
    for (const auto& e : env) {
        auto eq = e.find('=');
        args.insert(args.end(), {"--setenv", e.substr(0, eq), e.substr(eq + 1)});
    }
    args.push_back("--");
    return args;
}

/// Feeds the command its stdin and reads its stdout and stderr (each up to
/// the output limit) until both close or the deadline passes (timed_out).
void pump(const Request& req, int in_fd, int out_fd, int err_fd, std::chrono::steady_clock::time_point deadline,
          Outcome& o)
{
    std::size_t written = 0;
    if (req.stdin_data.empty()) {
        ::close(in_fd);
        in_fd = -1;
    } else {
        ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
    }
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            o.timed_out = true;
            break;
        }
        pollfd fds[3];
        int n = 0;
        if (out_open) fds[n++] = {out_fd, POLLIN, 0};
        if (err_open) fds[n++] = {err_fd, POLLIN, 0};
        if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
        int r = ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (r < 0 && errno != EINTR) break;
        for (int i = 0; i < n; ++i) {
            if (!fds[i].revents) continue;
            if (fds[i].fd == in_fd) {
                // The command may exit without reading all of it: EPIPE, not SIGPIPE.
                process::NoSigpipe guard;
                ssize_t w = ::write(in_fd, req.stdin_data.data() + written, req.stdin_data.size() - written);
                if (w > 0) written += static_cast<std::size_t>(w);
                if (w < 0 && errno != EAGAIN) written = req.stdin_data.size();
                if (written >= req.stdin_data.size()) {
                    ::close(in_fd);
                    in_fd = -1;
                }
                continue;
            }
            bool is_out = fds[i].fd == out_fd;
            if (!process::read_capped(fds[i].fd, is_out ? o.out : o.err, req.limits.output,
                                      is_out ? &o.out_truncated : &o.err_truncated))
                (is_out ? out_open : err_open) = false;
        }
    }
    if (in_fd >= 0) ::close(in_fd);
}

/// The workspace, canonical, when it is a directory.
Result<fs::path> checked_workspace(const Request& req)
{
    std::error_code ec;
    fs::path ws = fs::canonical(req.workspace, ec);
    if (ec || !fs::is_directory(ws, ec))
        return fail(Errc::not_found, "workspace '" + req.workspace.string() + "' is not a directory");
    return ws;
}

/// The user a command on this workspace runs as when we are root. One uid
/// per workspace: commands on different workspaces (tasks) never share a
/// process budget.
uid_t sandbox_uid(const fs::path& ws)
{
    return k_sandbox_uid_base + static_cast<uid_t>(std::hash<std::string>{}(ws.string()) % k_sandbox_uid_span);
}

/// Once a process: removes what killed processes left in /tmp.
void sweep_stale_stages()
{
    static std::once_flag once;
    std::call_once(once, [] { remove_stale_stages("/tmp", std::chrono::hours(24)); });
}

/// The host directories the command sees: the workspace, then the binds.
/// As root, the command runs as an unprivileged user so that the process
/// limit holds; that user may not be able to reach the workspace (a 0700
/// home above it), so the child binds it (and each bind) onto a stage
/// directory in /tmp, in a mount namespace of its own, before it drops
/// privileges. When it goes, the stages are removed, then the directories
/// given back.
class Stage {
public:
    Stage(bool as_root, uid_t uid, const fs::path& ws, const std::vector<fs::path>& binds)
        : m_as_root(as_root), m_uid(uid), m_hosts{ws}
    {
        m_hosts.insert(m_hosts.end(), binds.begin(), binds.end());
    }
    Stage(const Stage&) = delete;
    Stage& operator=(const Stage&) = delete;
    ~Stage()
    {
        for (const auto& d : m_dirs) ::rmdir(d.c_str());
    }

    bool as_root() const { return m_as_root; }

    /// As root: hands the workspace and the first writable_binds binds to
    /// the sandbox user, and makes a stage directory for every directory.
    Status prepare(std::size_t writable_binds)
    {
        if (!m_as_root) return {};
        sweep_stale_stages();
        for (std::size_t i = 0; i < m_hosts.size(); ++i) {
            // Writable directories are the sandbox user's while it runs;
            // read-only ones stay their owner's (they must be readable).
            if (i <= writable_binds) m_handoffs.emplace_back().give(m_hosts[i], m_uid);
            std::string tmpl = "/tmp/" + std::string(k_stage_prefix) + std::to_string(::getpid()) + "-XXXXXX";
            if (!::mkdtemp(tmpl.data()))
                return fail(Errc::unavailable, std::string("cannot create a stage directory: ") + std::strerror(errno));
            ::chmod(tmpl.c_str(), 0755);
            m_dirs.push_back(tmpl);
        }
        return {};
    }

    /// Where bubblewrap finds directory i (0 is the workspace).
    std::string source(std::size_t i) const { return m_as_root ? m_dirs[i] : m_hosts[i].string(); }

    /// In the child, as root: binds each directory onto its stage in a
    /// mount namespace of its own, then drops to the sandbox user.
    void enter(int status_fd) const
    {
        if (::unshare(CLONE_NEWNS) != 0) child_fail(status_fd, "cannot create a mount namespace");
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) child_fail(status_fd, "mount");
        for (std::size_t i = 0; i < m_hosts.size(); ++i)
            if (::mount(m_hosts[i].c_str(), m_dirs[i].c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
                child_fail(status_fd, i == 0 ? "cannot stage the workspace" : "cannot stage " + m_hosts[i].string());
        if (::setgroups(0, nullptr) != 0 || ::setresgid(m_uid, m_uid, m_uid) != 0 ||
            ::setresuid(m_uid, m_uid, m_uid) != 0)
            child_fail(status_fd, "cannot drop to the sandbox user");
    }

private:
    bool m_as_root;
    uid_t m_uid;
    std::vector<fs::path> m_hosts;
    std::vector<std::string> m_dirs;  // one per host directory, when as root
    std::list<Handoff> m_handoffs;
};

/// The command's environment: a fixed base, and the request's variables
/// whose names are safe to pass.
std::vector<std::string> command_env(const Request& req)
{
    std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin",
                                    "HOME=/tmp",
                                    "TMPDIR=/tmp",
                                    "LANG=C.UTF-8",
                                    "CHECKPOINT_DISABLE=1",
                                    "TF_IN_AUTOMATION=1"};
    for (const auto& [k, v] : req.env)
        if (safe_env_name(k)) env.push_back(k + "=" + v);
    return env;
}

/// A program named without a directory, found on the command's PATH (the
/// first PATH= of env). Bubblewrap looks it up inside the sandbox; without
/// one, it is looked up here, before the fork.
std::string on_path(const std::string& program, const std::vector<std::string>& env)
{
    if (program.find('/') != std::string::npos) return program;
    for (const auto& e : env) {
        if (e.rfind("PATH=", 0) != 0) continue;
        for (const auto& dir : text::split(e.substr(5), ':')) {
            if (dir.empty()) continue;
            std::string candidate = dir + "/" + program;
            struct stat st {};
            if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
                return candidate;
        }
        break;
    }
    return program;
}

/// The strings as execve takes them: a pointer to each, then a null pointer.
std::vector<char*> c_strings(std::vector<std::string>& strings)
{
    std::vector<char*> out;
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

/// The command's stdin, stdout and stderr, and the status pipe on which the
/// child says why it could not start: [0] reads, [1] writes.
struct Pipes {
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, status[2] = {-1, -1};

    Pipes() = default;
    Pipes(const Pipes&) = delete;
    Pipes& operator=(const Pipes&) = delete;
    /// Closes every end still held: none leaks when opening or forking fails.
    ~Pipes()
    {
        for (int* pair : {in, out, err, status})
            for (int i : {0, 1}) close(pair[i]);
    }

    bool open()
    {
        return !(::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC) ||
                 ::pipe2(status, O_CLOEXEC));
    }

    static void close(int& fd)
    {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    /// Hands an end to whoever closes it.
    static int take(int& fd) { return std::exchange(fd, -1); }
};

/// In the child, first: its own session (so the whole tree can be killed),
/// the pipes as stdin, stdout and stderr, no blocked signals, the limits.
void set_up_child(const Pipes& p, const Limits& limits)
{
    ::setsid();
    ::dup2(p.in[0], 0);
    ::dup2(p.out[1], 1);
    ::dup2(p.err[1], 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    auto limit = [&](int res, rlim_t v) {
        rlimit r{v, v};
        if (::setrlimit(res, &r) != 0) child_fail(p.status[1], "setrlimit");
    };
    limit(RLIMIT_CPU, static_cast<rlim_t>(limits.cpu.count()));
    limit(RLIMIT_AS, limits.memory);
    limit(RLIMIT_FSIZE, limits.file_size);
    limit(RLIMIT_NPROC, limits.processes);
    limit(RLIMIT_CORE, 0);
}

/// In the child, for bubblewrap: bubblewrap leaves the init of its PID
/// namespace for an ancestor to reap (one zombie a command, which counts
/// against the sandbox user's process limit, and is never reaped where PID
/// 1 does not reap, as in many containers). So the child stays, as the
/// subreaper of what it starts: it forks the process that execs
/// bubblewrap, closes every descriptor, reaps everything under it, and ends
/// as bubblewrap did.
/// Returns in the forked process only.
void stay_as_reaper(int status_fd, pid_t parent)
{
    // It dies with infra-agent, as bubblewrap (--die-with-parent) dies with it.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(1);
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) child_fail(status_fd, "cannot reap for the sandbox");
    pid_t bwrap = ::fork();
    if (bwrap < 0) child_fail(status_fd, "cannot fork");
    if (bwrap == 0) return;
    // It holds nothing open: not the command's stdin (whose end of file is
    // every writer's close), nor any file or socket of the parent's.
    ::close_range(0, ~0U, 0);
    int status = 0, bwrap_status = 0;
    for (;;) {
        pid_t got = ::waitpid(-1, &status, 0);
        if (got == bwrap) bwrap_status = status;
        if (got < 0 && errno != EINTR) break;  // ECHILD: nothing is left
    }
    if (WIFSIGNALED(bwrap_status)) {
        struct sigaction by_default {};
        by_default.sa_handler = SIG_DFL;
        ::sigaction(WTERMSIG(bwrap_status), &by_default, nullptr);
        ::raise(WTERMSIG(bwrap_status));
    }
    ::_exit(WIFEXITED(bwrap_status) ? WEXITSTATUS(bwrap_status) : 1);
}

/// Waits for the command to end; when its time was up, kills its whole
/// session first and again after. Its wait status.
int reap(pid_t pid, bool timed_out)
{
    if (timed_out) ::kill(-pid, SIGKILL);  // the whole session: every process it started
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) ::kill(-pid, SIGKILL);
    return status;
}

/// What the child wrote on the status pipe (nothing when the command
/// started), then closes it.
std::string child_error(int fd)
{
    std::string error;
    char buf[4096];
    ssize_t got;
    while ((got = ::read(fd, buf, sizeof buf)) > 0) error.append(buf, static_cast<std::size_t>(got));
    ::close(fd);
    return error;
}

/// The parent's side once the child is forked: pumps the pipes until the
/// command ends or its time is up, reaps it, and tells what came of it.
Result<Outcome> collect(const Request& req, Pipes& p, pid_t pid, std::chrono::steady_clock::time_point start, Mode mode)
{
    for (int* child_end : {&p.in[0], &p.out[1], &p.err[1], &p.status[1]}) Pipes::close(*child_end);

    Outcome o;
    pump(req, Pipes::take(p.in[1]), p.out[0], p.err[0], start + req.limits.wall, o);
    int status = reap(pid, o.timed_out);
    Pipes::close(p.out[0]);
    Pipes::close(p.err[0]);
    std::string error = child_error(Pipes::take(p.status[0]));
    o.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!error.empty()) return fail(Errc::unavailable, "cannot start the sandbox: " + error);
    if (WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
    // bubblewrap reports its own failures as "bwrap: ..." with exit 1.
    if (mode == Mode::bwrap && o.exit_code == 1 && o.err.rfind("bwrap: ", 0) == 0)
        return fail(Errc::unavailable, "the sandbox could not start: " + std::string(text::trim(o.err)),
                    "sandboxed work never runs unsandboxed");
    return o;
}

}  // namespace

std::size_t remove_stale_stages(const fs::path& tmp, std::chrono::seconds min_age)
{
    std::size_t removed = 0;
    std::error_code ec;
    auto now = fs::file_time_type::clock::now();
    for (fs::directory_iterator it(tmp, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        std::size_t at = std::strlen(k_stage_prefix);
        std::size_t dash = name.find('-', at);
        if (name.rfind(k_stage_prefix, 0) != 0 || dash == std::string::npos || dash == at || dash - at > 9) continue;
        pid_t owner = 0;
        for (std::size_t i = at; i < dash && owner >= 0; ++i)
            owner = std::isdigit(static_cast<unsigned char>(name[i])) ? owner * 10 + (name[i] - '0') : -1;
        if (owner <= 0 || ::kill(owner, 0) == 0 || errno != ESRCH) continue;
        std::error_code age_ec;
        auto changed = fs::last_write_time(it->path(), age_ec);
        if (age_ec || now - changed < min_age) continue;
        if (::rmdir(it->path().c_str()) == 0) ++removed;
    }
    return removed;
}

Result<Mode> parse_mode(std::string_view s)
{
    if (s == "bwrap" || s.empty()) return Mode::bwrap;
    if (s == "none") return Mode::none;
    return fail(Errc::usage, "unknown sandbox mode " + text::quote(s), "use bwrap, or none for development");
}

Result<Sandbox> Sandbox::create(Mode mode)
{
    return create(mode, find_program("bwrap"));
}

Result<Sandbox> Sandbox::create(Mode mode, const std::string& bwrap_path)
{
    Sandbox s;
    s.m_mode = mode;
    if (mode == Mode::none) return s;
    s.m_bwrap = ::access(bwrap_path.c_str(), X_OK) == 0 ? bwrap_path : "";
    if (s.m_bwrap.empty())
        return fail(Errc::unavailable, "bubblewrap (bwrap) is not installed, so commands cannot be sandboxed",
                    "install the Debian package bubblewrap; sandboxed work never runs unsandboxed");
    // Can it create namespaces here (containers may forbid user namespaces)?
    std::string tmpl = (fs::temp_directory_path() / "infra-agent-probe-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
        return fail(Errc::unavailable, std::string("cannot create a probe directory: ") + std::strerror(errno));
    auto probe = s.run({{"/usr/bin/true"}, tmpl, {}, "", {}});
    std::error_code ec;
    fs::remove_all(tmpl, ec);
    if (!probe) return probe.error();
    if (probe->exit_code != 0)
        return fail(Errc::unavailable,
                    "bubblewrap cannot create its namespaces here: " + std::string(text::trim(probe->err)),
                    "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)");
    return s;
}

Result<Outcome> Sandbox::run(const Request& req) const
{
    if (req.argv.empty()) return fail(Errc::usage, "no command to run");
    auto ws = checked_workspace(req);
    if (!ws) return fail(ws.error());
    auto binds = checked_binds(req, *ws);
    if (!binds) return fail(binds.error());
    Stage stage(m_mode == Mode::bwrap && ::getuid() == 0, sandbox_uid(*ws), *ws, *binds);
    if (auto staged = stage.prepare(req.binds.size()); !staged) return fail(staged.error());

    std::vector<std::string> env = command_env(req);
    std::vector<std::string> args;
    auto source = [&](std::size_t i) { return stage.source(i); };
    if (m_mode == Mode::bwrap) args = bwrap_args(m_bwrap, req, *ws, *binds, source, env);
    args.insert(args.end(), req.argv.begin(), req.argv.end());
    if (m_mode == Mode::none) args[0] = on_path(args[0], env);
    Pipes p;
    if (!p.open()) return fail(Errc::unavailable, std::string("cannot create pipes: ") + std::strerror(errno));
    std::vector<char*> argv = c_strings(args);
    std::vector<char*> envp = c_strings(env);

    auto start = std::chrono::steady_clock::now();
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return fail(Errc::unavailable, std::string("cannot fork: ") + std::strerror(errno));
    if (pid == 0) {
        // The child: its own session, the limits, an unprivileged user when
        // we are root, then exec.
        set_up_child(p, req.limits);
        if (stage.as_root()) stage.enter(p.status[1]);
        if (m_mode == Mode::none && ::chdir(ws->c_str()) != 0) child_fail(p.status[1], "chdir");
        if (m_mode == Mode::bwrap) stay_as_reaper(p.status[1], parent);
        ::execve(argv[0], argv.data(), envp.data());
        child_fail(p.status[1], "cannot run " + args[0]);
    }
    return collect(req, p, pid, start, m_mode);
}

}  // namespace infra::core::sandbox
