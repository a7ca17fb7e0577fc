#include "support/servers.hpp"

#include "support/run.hpp"

#include <chrono>
#include <filesystem>
#include <thread>

#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace infra::test {

namespace fs = std::filesystem;

int free_port()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

namespace {

bool accepts(int port)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

// Debian installs PostgreSQL's server programs outside PATH, by version.
std::string postgres_bindir()
{
    std::string best;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec))
        if (fs::exists(e.path() / "bin" / "initdb") && e.path().string() > best) best = e.path().string();
    return best.empty() ? "" : best + "/bin";
}

}  // namespace

PostgresServer::PostgresServer()
{
    m_bin = postgres_bindir();
    if (m_bin.empty()) {
        m_error = "PostgreSQL's server is not installed (Debian package postgresql; scripts/install-deps --test)";
        return;
    }
    // PostgreSQL refuses to run as root: then its files belong to the
    // `postgres` user the package creates, who runs it.
    if (::geteuid() == 0) {
        if (passwd* pw = ::getpwnam("postgres")) {
            ::chown(m_dir.path().c_str(), pw->pw_uid, pw->pw_gid);
        } else {
            m_error = "running as root and there is no postgres user to run PostgreSQL as";
            return;
        }
    }
    std::string data = (m_dir / "data").string();
    m_error = run_as_owner(m_bin + "/initdb", {"-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"});
    if (!m_error.empty()) return;
    for (int attempt = 0; attempt < 5; ++attempt) {
        m_port = free_port();
        std::string opts = "-p " + std::to_string(m_port) + " -k " + m_dir.path().string() +
                           " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200";
        m_error = run_as_owner(m_bin + "/pg_ctl",
                               {"-D", data, "-l", (m_dir / "log").string(), "-w", "-t", "60", "-o", opts, "start"});
        if (m_error.empty()) {
            m_running = true;
            return;
        }
    }
}

PostgresServer::~PostgresServer()
{
    kill();
}

void PostgresServer::kill()
{
    if (!m_running) return;
    m_running = false;
    (void)run_as_owner(m_bin + "/pg_ctl", {"-D", (m_dir / "data").string(), "-m", "immediate", "-w", "stop"});
}

std::string PostgresServer::run_as_owner(const std::string& program, const std::vector<std::string>& args)
{
    RunResult r;
    if (::geteuid() == 0) {
        std::vector<std::string> all = {"-u", "postgres", "--", program};
        all.insert(all.end(), args.begin(), args.end());
        r = run_program("/usr/sbin/runuser", all);
    } else {
        r = run_program(program, args);
    }
    if (r.exit_code == 0) return "";
    std::string log;
    if (auto f = fs::path(m_dir / "log"); fs::exists(f)) log = read_file(f);
    return program + " failed (" + std::to_string(r.exit_code) + "): " + r.err + r.out + log;
}

std::string PostgresServer::url(const std::string& db) const
{
    return "postgres://postgres@127.0.0.1:" + std::to_string(m_port) + "/" + db;
}

RedisServer::RedisServer()
{
    const char* program = "/usr/bin/redis-server";
    if (::access(program, X_OK) != 0) {
        m_error = "redis-server is not installed (Debian package redis-server; scripts/install-deps --test)";
        return;
    }
    for (int attempt = 0; attempt < 5 && m_pid < 0; ++attempt) {
        m_port = free_port();
        std::string port = std::to_string(m_port), dir = m_dir.path().string();
        pid_t pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a test that crashes takes its server with it
            int null = ::open("/dev/null", O_RDWR);
            ::dup2(null, 0);
            ::dup2(null, 1);
            ::execl(program, program, "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--dir", dir.c_str(), "--logfile", (dir + "/log").c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            if (accepts(m_port)) {
                m_pid = pid;
                break;
            }
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) break;  // the port was taken: try another
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (m_pid < 0 && ::waitpid(pid, nullptr, WNOHANG) == 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
    if (m_pid < 0) m_error = "redis-server did not start: " + read_file(m_dir / "log");
}

RedisServer::~RedisServer()
{
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
}

std::string RedisServer::url(int db) const
{
    return "redis://127.0.0.1:" + std::to_string(m_port) + "/" + std::to_string(db);
}

}  // namespace infra::test
