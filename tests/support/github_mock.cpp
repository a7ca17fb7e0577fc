#include "support/github_mock.hpp"

#include "support/servers.hpp"

#include <httplib.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace infra::test {

struct GitHubMock::Impl {
    pid_t prism = -1;
    int prism_port = 0;
    httplib::Server proxy;
    std::thread thread;
    int port = 0;
    std::mutex m;
    std::vector<GitHubCall> calls;
    std::map<std::string, std::string> prefer;  ///< path -> Prefer header
};

GitHubMock::GitHubMock() : m_impl(std::make_unique<Impl>())
{
    std::string script = std::string(INFRA_SOURCE_DIR) + "/tests/peers/github-mock.mjs";
    if (!std::filesystem::exists(std::string(INFRA_SOURCE_DIR) + "/tests/peers/node_modules/.bin/prism")) {
        m_why = "Prism is not installed: run scripts/test (npm ci --prefix tests/peers)";
        return;
    }
    m_impl->prism_port = free_port();
    std::string port = std::to_string(m_impl->prism_port);
    char node[] = "node";
    std::vector<char*> argv = {node, script.data(), port.data(), nullptr};
    if (posix_spawnp(&m_impl->prism, "node", nullptr, nullptr, argv.data(), environ) != 0) {
        m_why = "cannot start node";
        return;
    }
    httplib::Client probe("127.0.0.1", m_impl->prism_port);
    probe.set_connection_timeout(0, 200000);
    for (int i = 0; i < 300 && !m_ready; ++i) {
        if (auto r =
                probe.Get("/repos/o/r/pulls/1", {{"Authorization", "Bearer probe"}, {"Accept", "application/json"}}))
            m_ready = true;
        else std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!m_ready) {
        m_why = "Prism did not start within 30 s";
        return;
    }
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
        httplib::Client c("127.0.0.1", m_impl->prism_port);
        httplib::Headers h;
        for (const char* name : {"Authorization", "Accept", "Content-Type", "X-GitHub-Api-Version", "User-Agent"})
            if (req.has_header(name)) h.emplace(name, req.get_header_value(name));
        std::string target = req.target.empty() ? req.path : req.target;
        {
            std::lock_guard lock(m_impl->m);
            if (auto p = m_impl->prefer.find(target.substr(0, target.find('?'))); p != m_impl->prefer.end())
                h.emplace("Prefer", p->second);
        }
        httplib::Result r = req.method == "GET"     ? c.Get(target, h)
                            : req.method == "POST"  ? c.Post(target, h, req.body, req.get_header_value("Content-Type"))
                            : req.method == "PATCH" ? c.Patch(target, h, req.body, req.get_header_value("Content-Type"))
                            : req.method == "PUT"   ? c.Put(target, h, req.body, req.get_header_value("Content-Type"))
                                                    : c.Delete(target, h);
        GitHubCall call{req.method, target, req.get_header_value("Authorization"), req.body, 0, ""};
        if (!r) {
            res.status = 502;
        } else {
            res.status = r->status;
            call.status = r->status;
            call.violations = r->get_header_value("sl-violations");
            if (!call.violations.empty()) res.set_header("sl-violations", call.violations);
            res.set_content(r->body, r->get_header_value("Content-Type").empty() ? "application/json"
                                                                                 : r->get_header_value("Content-Type"));
        }
        std::lock_guard lock(m_impl->m);
        m_impl->calls.push_back(std::move(call));
    };
    m_impl->proxy.Get(".*", handler);
    m_impl->proxy.Post(".*", handler);
    m_impl->proxy.Patch(".*", handler);
    m_impl->proxy.Put(".*", handler);
    m_impl->proxy.Delete(".*", handler);
    m_impl->port = m_impl->proxy.bind_to_any_port("127.0.0.1");
    m_impl->thread = std::thread([this] { m_impl->proxy.listen_after_bind(); });
}

GitHubMock::~GitHubMock()
{
    if (m_impl->thread.joinable()) {
        m_impl->proxy.stop();
        m_impl->thread.join();
    }
    if (m_impl->prism > 0) {
        ::kill(m_impl->prism, SIGTERM);
        int status = 0;
        ::waitpid(m_impl->prism, &status, 0);
    }
}

std::string GitHubMock::url() const
{
    return "http://127.0.0.1:" + std::to_string(m_impl->port);
}

void GitHubMock::prefer(const std::string& path, const std::string& prefer)
{
    std::lock_guard lock(m_impl->m);
    m_impl->prefer[path] = prefer;
}

std::vector<GitHubCall> GitHubMock::calls()
{
    std::lock_guard lock(m_impl->m);
    return m_impl->calls;
}

}  // namespace infra::test
