#include "support/git_http.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace infra::test {
namespace {

std::string base64_decode(const std::string& in)
{
    std::string out(in.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
    if (n < 0) return {};
    std::size_t pad = 0;
    for (auto it = in.rbegin(); it != in.rend() && *it == '='; ++it) ++pad;
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

/// Runs `git http-backend` as a CGI program and turns its answer into res.
void run_cgi(const std::filesystem::path& root, const httplib::Request& req, const std::string& user,
             httplib::Response& res)
{
    std::vector<std::string> env = {"GIT_PROJECT_ROOT=" + root.string(),
                                    "GIT_HTTP_EXPORT_ALL=1",
                                    "PATH_INFO=" + req.path,
                                    "REQUEST_METHOD=" + req.method,
                                    "QUERY_STRING=" + httplib::detail::params_to_query_str(req.params),
                                    "CONTENT_TYPE=" + req.get_header_value("Content-Type"),
                                    "CONTENT_LENGTH=" + std::to_string(req.body.size()),
                                    "REMOTE_USER=" + user,
                                    "REMOTE_ADDR=127.0.0.1",
                                    "PATH=/usr/bin:/bin",
                                    "GATEWAY_INTERFACE=CGI/1.1",
                                    "HOME=" + root.string()};
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
        res.status = 500;
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    char git[] = "git", backend[] = "http-backend";
    char* argv[] = {git, backend, nullptr};
    pid_t pid;
    int rc = posix_spawnp(&pid, "git", &fa, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    if (rc != 0) {
        ::close(in[1]);
        ::close(out[0]);
        res.status = 500;
        return;
    }
    std::thread writer([&] {
        std::size_t off = 0;
        while (off < req.body.size()) {
            ssize_t n = ::write(in[1], req.body.data() + off, req.body.size() - off);
            if (n <= 0) break;
            off += static_cast<std::size_t>(n);
        }
        ::close(in[1]);
    });
    std::string output;
    std::array<char, 65536> buf;
    ssize_t n;
    while ((n = ::read(out[0], buf.data(), buf.size())) > 0) output.append(buf.data(), static_cast<std::size_t>(n));
    ::close(out[0]);
    writer.join();
    int status = 0;
    ::waitpid(pid, &status, 0);
    auto split = output.find("\r\n\r\n");
    std::size_t skip = 4;
    if (split == std::string::npos) {
        split = output.find("\n\n");
        skip = 2;
    }
    if (split == std::string::npos) {
        res.status = 502;
        return;
    }
    res.status = 200;
    std::string content_type = "application/octet-stream";
    std::string head = output.substr(0, split);
    std::size_t pos = 0;
    while (pos < head.size()) {
        auto eol = head.find('\n', pos);
        std::string line = head.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        pos = eol == std::string::npos ? head.size() : eol + 1;
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string key = line.substr(0, colon), value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        if (key == "Status") res.status = std::atoi(value.c_str());
        else if (key == "Content-Type") content_type = value;
        else if (key != "Content-Length") res.set_header(key, value);
    }
    res.set_content(output.substr(split + skip), content_type);
}

}  // namespace

struct GitHttpServer::Impl {
    httplib::Server server;
    std::thread thread;
    int port = 0;
};

GitHttpServer::GitHttpServer(std::filesystem::path root, Check check) : m_impl(std::make_unique<Impl>())
{
    auto handler = [this, root, check](const httplib::Request& req, httplib::Response& res) {
        bool is_push = req.path.find("git-receive-pack") != std::string::npos ||
                       req.get_param_value("service") == "git-receive-pack";
        std::string auth = req.get_header_value("Authorization");
        std::string user, password;
        if (auth.rfind("Basic ", 0) == 0) {
            std::string decoded = base64_decode(auth.substr(6));
            auto colon = decoded.find(':');
            if (colon != std::string::npos) {
                user = decoded.substr(0, colon);
                password = decoded.substr(colon + 1);
            }
        }
        if (user.empty() || !check(user, password, req.path, is_push)) {
            ++m_refused;
            res.status = 401;
            res.set_header("WWW-Authenticate", "Basic realm=\"git\"");
            return;
        }
        run_cgi(root, req, user, res);
        if (is_push && req.method == "POST" && res.status == 200) ++m_pushes;
    };
    m_impl->server.Get(".*", handler);
    m_impl->server.Post(".*", handler);
    m_impl->server.set_payload_max_length(256u << 20);
    m_impl->port = m_impl->server.bind_to_any_port("127.0.0.1");
    m_impl->thread = std::thread([this] { m_impl->server.listen_after_bind(); });
}

GitHttpServer::~GitHttpServer()
{
    m_impl->server.stop();
    if (m_impl->thread.joinable()) m_impl->thread.join();
}

std::string GitHttpServer::url() const
{
    return "http://127.0.0.1:" + std::to_string(m_impl->port) + "/";
}

void checkout_scanned_repo(const std::filesystem::path& dir)
{
    std::filesystem::create_directories(dir);
    git(dir, "init -q");
    for (const auto& f :
         std::filesystem::directory_iterator(std::string(INFRA_TEST_FIXTURES) + "/repos/aws-secure-terraform"))
        std::filesystem::copy_file(f.path(), dir / f.path().filename());
    git(dir, "add -A");
    git(dir, "commit -q -m initial");
}

std::string git(const std::filesystem::path& dir, const std::string& args)
{
    std::string cmd =
        "cd '" + dir.string() +
        "' && GIT_AUTHOR_NAME=Person GIT_AUTHOR_EMAIL=person@example.com GIT_COMMITTER_NAME=Person "
        "GIT_COMMITTER_EMAIL=person@example.com git -c init.defaultBranch=main -c protocol.file.allow=always " +
        args + " 2>&1";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) {
        ADD_FAILURE() << "cannot run " << cmd;
        return out;
    }
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int status = ::pclose(p);
    EXPECT_EQ(status, 0) << "git " << args << ":\n" << out;
    return out;
}

}  // namespace infra::test
