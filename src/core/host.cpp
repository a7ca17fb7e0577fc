#include "core/host.hpp"

#include "core/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern "C" char** environ;

namespace infra::core::host {

Result<Outcome> run(const Request& req)
{
    if (req.argv.empty()) return fail(Errc::internal, "exec: no program");
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string kv(*e);
        if (req.env.count(kv.substr(0, kv.find('=')))) continue;
        env.push_back(std::move(kv));
    }
    for (const auto& [k, v] : req.env) env.push_back(k + "=" + v);
    std::vector<char*> envp, argv;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = req.argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC))
        return fail(Errc::unavailable, std::string("cannot create pipes: ") + std::strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
    if (!req.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, req.cwd.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    pid_t pid = -1;
    int rc = ::posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        return fail(Errc::unavailable, "cannot run " + req.argv[0] + ": " + std::strerror(rc),
                    rc == ENOENT ? "install it, or put it on PATH" : "");
    }

    Outcome o;
    auto deadline = std::chrono::steady_clock::now() + req.timeout;
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            o.timed_out = true;
            ::kill(-pid, SIGKILL);
            break;
        }
        pollfd fds[2];
        int n = 0;
        if (out_open) fds[n++] = {out_pipe[0], POLLIN, 0};
        if (err_open) fds[n++] = {err_pipe[0], POLLIN, 0};
        if (::poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::min<long long>(left, 1000))) < 0 &&
            errno != EINTR)
            break;
        for (int i = 0; i < n; ++i) {
            if (!fds[i].revents) continue;
            bool is_out = fds[i].fd == out_pipe[0];
            if (!process::read_capped(fds[i].fd, is_out ? o.out : o.err, req.max_output))
                (is_out ? out_open : err_open) = false;
        }
    }
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return o;
}

}  // namespace infra::core::host
