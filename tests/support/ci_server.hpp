#pragma once
// A CI service on loopback that speaks the parts of GitHub's Actions and
// checks API and of GitLab's pipelines API that infra-agent uses, with the
// shapes their documentation gives, and with state: a dispatched workflow
// or triggered pipeline goes queued -> in progress -> completed as it is
// polled, and ends as its scenario says (pass, fail, or hang for ever).
// GitHub's side is also checked against GitHub's own OpenAPI description
// by Prism in the tests; this server adds what a static mock cannot: runs
// that change over time.

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace infra::test {

enum class Scenario { pass, fail, hang };

struct CiCall {
    std::string method, path, authorization, body;
};

class CiServer {
public:
    /// resolve gives the commit a branch points at (the pushed repository's).
    explicit CiServer(std::function<std::string(const std::string& branch)> resolve);
    ~CiServer();
    CiServer(const CiServer&) = delete;
    CiServer& operator=(const CiServer&) = delete;

    std::string url() const;  ///< GitHub's API root; GitLab's is url() + "/api/v4"

    /// How runs of a GitHub workflow (by file name) or pipelines of a GitLab
    /// project (by path) end; unknown ones pass.
    void set_scenario(const std::string& workflow_or_project, Scenario s);
    /// The check runs GitHub reports on every commit: name -> scenario.
    void set_check_runs(std::map<std::string, Scenario> runs);
    /// Polls of a run before it completes (default 2).
    void set_polls_to_finish(int n);

    std::vector<CiCall> calls();
    /// The inputs (GitHub) or variables (GitLab) each run of a workflow or project was started with.
    std::vector<nlohmann::json> dispatched_inputs(const std::string& workflow_or_project);
    /// The plan file in the artifacts of every run ("plan.tfplan").
    static std::string plan_bytes();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace infra::test
