#pragma once
// A smart-HTTP git server on loopback for tests: cpp-httplib in front of the
// real `git http-backend` (CGI), with HTTP Basic authentication whose
// password is checked by a function the test gives (a credential broker).

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace infra::test {

class GitHttpServer {
public:
    /// Serves the repositories under root; check(user, password, path,
    /// is_push) decides whether a request may go through.
    using Check = std::function<bool(const std::string& user, const std::string& password, const std::string& path,
                                     bool is_push)>;
    GitHttpServer(std::filesystem::path root, Check check);
    ~GitHttpServer();
    GitHttpServer(const GitHttpServer&) = delete;
    GitHttpServer& operator=(const GitHttpServer&) = delete;

    /// http://127.0.0.1:PORT/
    std::string url() const;
    /// Requests refused for lack of (valid) credentials.
    int refused() const { return m_refused.load(); }
    /// Pushes that went through.
    int pushes() const { return m_pushes.load(); }

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    std::atomic<int> m_refused{0};
    std::atomic<int> m_pushes{0};
};

/// A git checkout at dir of the repository the bundled Checkov report
/// scanned (tests/fixtures/repos/aws-secure-terraform), in one commit on main.
void checkout_scanned_repo(const std::filesystem::path& dir);

/// Runs git with args in dir (GIT_* identity variables set); returns stdout,
/// and fails the test on a non-zero exit.
std::string git(const std::filesystem::path& dir, const std::string& args);

}  // namespace infra::test
