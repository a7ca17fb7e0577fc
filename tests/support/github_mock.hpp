#pragma once
// GitHub's REST API on loopback for tests: Prism (npm @stoplight/prism-cli)
// serving GitHub's own OpenAPI description (npm @octokit/openapi), which
// answers with the description's examples and refuses requests its schema
// does not allow, behind a small proxy that records what was asked and can
// ask Prism for another of the description's responses for one path.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace infra::test {

struct GitHubCall {
    std::string method, path, authorization, body;
    int status = 0;
    std::string violations;  ///< Prism's sl-violations header, when it found any
};

class GitHubMock {
public:
    GitHubMock();
    ~GitHubMock();
    GitHubMock(const GitHubMock&) = delete;
    GitHubMock& operator=(const GitHubMock&) = delete;

    /// False (with why()) when Prism could not be started.
    bool ready() const { return m_ready; }
    const std::string& why() const { return m_why; }
    /// The base URL to give the client (the recording proxy).
    std::string url() const;
    std::vector<GitHubCall> calls();
    /// Requests of path (without its query) ask Prism for the response
    /// prefer names, as its Prefer header does: "code=404" is the
    /// description's 404 (e.g. no team membership).
    void prefer(const std::string& path, const std::string& prefer);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    bool m_ready = false;
    std::string m_why;
};

}  // namespace infra::test
