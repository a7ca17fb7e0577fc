#include "support/run.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

extern "C" char** environ;

namespace infra::test {

namespace {

/// The test's environment without INFRA_AGENT_* variables, with opt.env applied.
std::vector<std::string> child_env(const RunOptions& opt)
{
    std::map<std::string, std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        std::string k = kv.substr(0, eq);
        if (k.rfind("INFRA_AGENT_", 0) == 0) continue;
        env[k] = kv.substr(eq + 1);
    }
    for (const auto& [k, v] : opt.env) {
        if (v) env[k] = *v;
        else env.erase(k);
    }
    std::vector<std::string> out;
    for (const auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
}

}  // namespace

std::vector<nlohmann::json> json_lines(const std::string& out)
{
    std::vector<nlohmann::json> v;
    std::size_t pos = 0;
    while (pos < out.size()) {
        auto eol = out.find('\n', pos);
        std::string line = out.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
        if (!line.empty()) {
            auto j = nlohmann::json::parse(line, nullptr, false);
            EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
            v.push_back(std::move(j));
        }
        pos = eol == std::string::npos ? out.size() : eol + 1;
    }
    return v;
}

RunResult run_cli(const std::vector<std::string>& args, const RunOptions& opt)
{
    return run_program(INFRA_AGENT_BIN, args, opt);
}

RunResult run_program(const std::string& program, const std::vector<std::string>& args, const RunOptions& opt)
{
    ::signal(SIGPIPE, SIG_IGN);  // a child that exits early must not kill the test
    std::vector<std::string> env_strings = child_env(opt);

    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC))
        throw std::runtime_error("pipe failed");
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        if (!opt.cwd.empty() && chdir(opt.cwd.c_str()) != 0) _exit(127);
        std::vector<char*> argv;
        std::string p = program;
        argv.push_back(p.data());
        std::vector<std::string> a = args;
        for (auto& s : a) argv.push_back(s.data());
        argv.push_back(nullptr);
        std::vector<char*> envp;
        for (auto& s : env_strings) envp.push_back(s.data());
        envp.push_back(nullptr);
        execve(program.c_str(), argv.data(), envp.data());
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);

    RunResult r;
    std::size_t written = 0;
    int in_fd = in_pipe[1];
    if (opt.stdin_data.empty()) {
        close(in_fd);
        in_fd = -1;
    } else {
        fcntl(in_fd, F_SETFL, O_NONBLOCK);
    }
    bool out_open = true, err_open = true;
    char buf[65536];
    while (out_open || err_open || in_fd >= 0) {
        pollfd fds[3];
        int n = 0;
        if (out_open) fds[n++] = {out_pipe[0], POLLIN, 0};
        if (err_open) fds[n++] = {err_pipe[0], POLLIN, 0};
        if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
        if (poll(fds, static_cast<nfds_t>(n), -1) < 0 && errno != EINTR) break;
        for (int i = 0; i < n; ++i) {
            if (!fds[i].revents) continue;
            if (fds[i].fd == in_fd) {
                ssize_t w = write(in_fd, opt.stdin_data.data() + written, opt.stdin_data.size() - written);
                if (w > 0) written += static_cast<std::size_t>(w);
                if (w < 0 && errno != EAGAIN) written = opt.stdin_data.size();
                if (written >= opt.stdin_data.size()) {
                    close(in_fd);
                    in_fd = -1;
                }
                continue;
            }
            ssize_t got = read(fds[i].fd, buf, sizeof buf);
            bool is_out = fds[i].fd == out_pipe[0];
            if (got <= 0) {
                (is_out ? out_open : err_open) = false;
            } else {
                (is_out ? r.out : r.err).append(buf, static_cast<std::size_t>(got));
            }
        }
    }
    close(out_pipe[0]);
    close(err_pipe[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

}  // namespace infra::test

namespace infra::test {

Background::Background(const std::vector<std::string>& args, const RunOptions& opt)
{
    std::vector<std::string> env_strings = child_env(opt);
    char tmpl[] = "/tmp/infra-bg-err-XXXXXX";
    int err_fd = mkstemp(tmpl);
    m_err_path = tmpl;
    int out_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) || err_fd < 0) throw std::runtime_error("pipe failed");
    m_pid = fork();
    if (m_pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(out_pipe[1], 1);
        dup2(err_fd, 2);
        if (!opt.cwd.empty() && chdir(opt.cwd.c_str()) != 0) _exit(127);
        std::vector<std::string> a = args;
        std::string p = INFRA_AGENT_BIN;
        std::vector<char*> argv{p.data()};
        for (auto& s : a) argv.push_back(s.data());
        argv.push_back(nullptr);
        std::vector<char*> envp;
        for (auto& s : env_strings) envp.push_back(s.data());
        envp.push_back(nullptr);
        execve(p.c_str(), argv.data(), envp.data());
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_fd);
    m_out = out_pipe[0];
}

Background::~Background()
{
    if (m_pid > 0) {
        kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
    }
    if (m_out >= 0) close(m_out);
    unlink(m_err_path.c_str());
}

std::string Background::read_line(int timeout_ms)
{
    for (;;) {
        if (auto eol = m_buf.find('\n'); eol != std::string::npos) {
            std::string line = m_buf.substr(0, eol);
            m_buf.erase(0, eol + 1);
            return line;
        }
        pollfd p{m_out, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0) return "";
        char buf[4096];
        ssize_t n = read(m_out, buf, sizeof buf);
        if (n <= 0) return "";
        m_buf.append(buf, static_cast<std::size_t>(n));
    }
}

int Background::stop(int sig, int timeout_ms)
{
    if (m_pid <= 0) return -1;
    kill(m_pid, sig);
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        int status = 0;
        if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_pid = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        usleep(10000);
    }
    return -1;
}

std::string Background::err() const
{
    std::ifstream in(m_err_path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace infra::test
