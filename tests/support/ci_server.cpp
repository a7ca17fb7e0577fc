#include "support/ci_server.hpp"

#include "support/fixtures.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <zip.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace infra::test {
namespace {

using nlohmann::json;

const char* k_time = "2026-11-25T03:00:00Z";

/// A zip archive of files, as GitHub serves an artifact.
std::string zip_of(const std::map<std::string, std::string>& files)
{
    TempDir dir;
    std::string path = (dir / "a.zip").string();
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) return "";
    for (const auto& [name, content] : files) {
        zip_source_t* src = zip_source_buffer(z, content.data(), content.size(), 0);
        zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE);
    }
    zip_close(z);
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

struct CiServer::Impl {
    std::function<std::string(const std::string&)> resolve;
    httplib::Server server;
    std::thread thread;
    int port = 0;
    std::mutex m;
    std::vector<CiCall> calls;
    std::map<std::string, Scenario> scenarios;
    std::map<std::string, Scenario> check_runs;
    std::map<std::string, int> check_polls;  ///< per commit
    int polls_to_finish = 2;

    struct Run {
        std::int64_t id = 0;
        std::string key;  ///< workflow file or project
        std::string branch, sha, repo;
        Scenario scenario = Scenario::pass;
        int polls = 0;
        json inputs;
    };
    std::map<std::int64_t, Run> runs;
    std::int64_t next_id = 7001;

    std::string base() const { return "http://127.0.0.1:" + std::to_string(port); }

    Scenario scenario_of(const std::string& key)
    {
        auto it = scenarios.find(key);
        return it == scenarios.end() ? Scenario::pass : it->second;
    }

    /// status and conclusion of a run after it was polled once more (or not).
    std::pair<std::string, std::string> state(Run& r, bool poll)
    {
        if (poll) ++r.polls;
        if (r.polls == 0) return {"queued", ""};
        if (r.scenario == Scenario::hang || r.polls < polls_to_finish) return {"in_progress", ""};
        return {"completed", r.scenario == Scenario::pass ? "success" : "failure"};
    }

    json github_run(Run& r, bool poll)
    {
        auto [status, conclusion] = state(r, poll);
        std::string owner_repo = r.repo;
        return {{"id", r.id},
                {"name", "plan"},
                {"node_id", "WFR_" + std::to_string(r.id)},
                {"head_branch", r.branch},
                {"head_sha", r.sha},
                {"path", ".github/workflows/" + r.key},
                {"display_title", "plan"},
                {"run_number", r.id - 7000},
                {"event", "workflow_dispatch"},
                {"status", status},
                {"conclusion", conclusion.empty() ? json() : json(conclusion)},
                {"workflow_id", 161335},
                {"url", base() + "/repos/" + owner_repo + "/actions/runs/" + std::to_string(r.id)},
                {"html_url", "https://github.test/" + owner_repo + "/actions/runs/" + std::to_string(r.id)},
                {"created_at", k_time},
                {"updated_at", k_time},
                {"run_attempt", 1}};
    }

    std::string job_log(const Run& r) const
    {
        std::string at = "2026-11-25T03:00:01.0000000Z ";
        if (r.scenario == Scenario::pass)
            return at + "Run terraform plan -no-color\n" + at +
                   "\x1b[1mPlan:\x1b[0m 1 to add, 0 to change, 0 to destroy.\n";
        return at + "Run terraform plan -no-color\n" + at + "Error: Unsupported argument\n";
    }
};

CiServer::CiServer(std::function<std::string(const std::string&)> resolve) : m_impl(std::make_unique<Impl>())
{
    Impl& s = *m_impl;
    s.resolve = std::move(resolve);
    auto record = [this](const httplib::Request& req) {
        std::lock_guard lock(m_impl->m);
        std::string auth = req.has_header("Authorization") ? req.get_header_value("Authorization")
                                                           : req.get_header_value("PRIVATE-TOKEN");
        m_impl->calls.push_back({req.method, req.target.empty() ? req.path : req.target, auth, req.body});
    };
    auto authorized = [](const httplib::Request& req, httplib::Response& res) {
        if (req.has_header("Authorization") || req.has_header("PRIVATE-TOKEN")) return true;
        res.status = 401;
        res.set_content(R"({"message":"Requires authentication"})", "application/json");
        return false;
    };
    auto send = [](httplib::Response& res, int status, const json& j) {
        res.status = status;
        res.set_content(j.dump(), "application/json");
    };

    // GitHub: dispatch a workflow.
    s.server.Post(R"(/repos/([^/]+/[^/]+)/actions/workflows/([^/]+)/dispatches)",
                  [=, this](const httplib::Request& req, httplib::Response& res) {
                      record(req);
                      if (!authorized(req, res)) return;
                      json body = json::parse(req.body, nullptr, false);
                      if (!body.is_object() || !body.contains("ref") || !body["ref"].is_string())
                          return send(res, 422, {{"message", "Invalid request.\n\n\"ref\" wasn't supplied."}});
                      std::string sha = m_impl->resolve(body["ref"].get<std::string>());
                      if (sha.empty())
                          return send(res, 422, {{"message", "No ref found for: " + body["ref"].get<std::string>()}});
                      std::lock_guard lock(m_impl->m);
                      Impl::Run r;
                      r.id = m_impl->next_id++;
                      r.repo = req.matches[1];
                      r.key = req.matches[2];
                      r.branch = body["ref"];
                      r.sha = sha;
                      r.scenario = m_impl->scenario_of(r.key);
                      r.inputs = body.value("inputs", json::object());
                      m_impl->runs[r.id] = r;
                      res.status = 204;
                  });
    // GitHub: a workflow's runs (newest first), filtered as the API filters them.
    s.server.Get(R"(/repos/([^/]+/[^/]+)/actions/workflows/([^/]+)/runs)",
                 [=, this](const httplib::Request& req, httplib::Response& res) {
                     record(req);
                     if (!authorized(req, res)) return;
                     std::lock_guard lock(m_impl->m);
                     json list = json::array();
                     for (auto it = m_impl->runs.rbegin(); it != m_impl->runs.rend(); ++it) {
                         auto& r = it->second;
                         if (r.key != req.matches[2].str() || r.repo != req.matches[1].str()) continue;
                         if (req.has_param("branch") && req.get_param_value("branch") != r.branch) continue;
                         list.push_back(m_impl->github_run(r, false));
                     }
                     send(res, 200, {{"total_count", list.size()}, {"workflow_runs", list}});
                 });
    s.server.Get(R"(/repos/([^/]+/[^/]+)/actions/runs/(\d+))",
                 [=, this](const httplib::Request& req, httplib::Response& res) {
                     record(req);
                     if (!authorized(req, res)) return;
                     std::lock_guard lock(m_impl->m);
                     auto it = m_impl->runs.find(std::stoll(req.matches[2]));
                     if (it == m_impl->runs.end()) return send(res, 404, {{"message", "Not Found"}});
                     send(res, 200, m_impl->github_run(it->second, true));
                 });
    s.server.Get(R"(/repos/([^/]+/[^/]+)/actions/runs/(\d+)/jobs)",
                 [=, this](const httplib::Request& req, httplib::Response& res) {
                     record(req);
                     if (!authorized(req, res)) return;
                     std::lock_guard lock(m_impl->m);
                     auto it = m_impl->runs.find(std::stoll(req.matches[2]));
                     if (it == m_impl->runs.end()) return send(res, 404, {{"message", "Not Found"}});
                     auto [status, conclusion] = m_impl->state(it->second, false);
                     std::int64_t job = it->first * 10;
                     json j = {{"id", job},
                               {"run_id", it->first},
                               {"name", "terraform plan"},
                               {"status", status},
                               {"conclusion", conclusion.empty() ? json() : json(conclusion)},
                               {"head_sha", it->second.sha},
                               {"html_url", "https://github.test/" + it->second.repo + "/actions/runs/" +
                                                std::to_string(it->first) + "/job/" + std::to_string(job)},
                               {"started_at", k_time},
                               {"completed_at", conclusion.empty() ? json() : json(k_time)},
                               {"steps", json::array()},
                               {"labels", {"ubuntu-latest"}},
                               {"workflow_name", "plan"},
                               {"head_branch", it->second.branch}};
                     send(res, 200, {{"total_count", 1}, {"jobs", {j}}});
                 });
    // Logs and archives answer with a redirect to signed storage, which wants no token.
    s.server.Get(R"(/repos/([^/]+/[^/]+)/actions/jobs/(\d+)/logs)",
                 [=, this](const httplib::Request& req, httplib::Response& res) {
                     record(req);
                     if (!authorized(req, res)) return;
                     res.status = 302;
                     res.set_header("Location", m_impl->base() + "/_blobs/logs/" + req.matches[2].str() + "?sig=abc");
                 });
    s.server.Get(R"(/_blobs/logs/(\d+))", [=, this](const httplib::Request& req, httplib::Response& res) {
        record(req);
        std::lock_guard lock(m_impl->m);
        auto it = m_impl->runs.find(std::stoll(req.matches[1]) / 10);
        if (it == m_impl->runs.end()) return send(res, 404, {{"message", "Not Found"}});
        res.set_content(m_impl->job_log(it->second), "text/plain");
    });
    s.server.Get(R"(/repos/([^/]+/[^/]+)/actions/runs/(\d+)/artifacts)", [=, this](const httplib::Request& req,
                                                                                   httplib::Response& res) {
        record(req);
        if (!authorized(req, res)) return;
        std::int64_t run = std::stoll(req.matches[2]);
        std::string repo = req.matches[1];
        json a = {{"id", run + 500000},
                  {"node_id", "MDg6QXJ0aWZhY3Qx"},
                  {"name", "plan"},
                  {"size_in_bytes", 120},
                  {"url", m_impl->base() + "/repos/" + repo + "/actions/artifacts/" + std::to_string(run + 500000)},
                  {"archive_download_url",
                   m_impl->base() + "/repos/" + repo + "/actions/artifacts/" + std::to_string(run + 500000) + "/zip"},
                  {"expired", false},
                  {"created_at", k_time},
                  {"expires_at", k_time},
                  {"updated_at", k_time}};
        json list = json::array();
        if (!req.has_param("name") || req.get_param_value("name") == "plan") list.push_back(a);
        send(res, 200, {{"total_count", list.size()}, {"artifacts", list}});
    });
    s.server.Get(R"(/repos/([^/]+/[^/]+)/actions/artifacts/(\d+)/zip)", [=, this](const httplib::Request& req,
                                                                                  httplib::Response& res) {
        record(req);
        if (!authorized(req, res)) return;
        res.status = 302;
        res.set_header("Location", m_impl->base() + "/_blobs/artifacts/" + req.matches[2].str() + "?sig=abc");
    });
    s.server.Get(R"(/_blobs/artifacts/(\d+))", [=, this](const httplib::Request& req, httplib::Response& res) {
        record(req);
        res.set_content(
            zip_of({{"plan.txt",
                     "Terraform will perform the following actions:\n\nPlan: 2 to add, 1 to change, 0 to destroy.\n"},
                    {"plan.tfplan", CiServer::plan_bytes()}}),
            "application/zip");
    });
    // GitHub: the check runs on a commit; each poll moves them on.
    s.server.Get(R"(/repos/([^/]+/[^/]+)/commits/([^/]+)/check-runs)", [=, this](const httplib::Request& req,
                                                                                 httplib::Response& res) {
        record(req);
        if (!authorized(req, res)) return;
        std::lock_guard lock(m_impl->m);
        std::string sha = req.matches[2];
        int polls = ++m_impl->check_polls[sha];
        json list = json::array();
        std::int64_t id = 4000;
        for (const auto& [name, scenario] : m_impl->check_runs) {
            bool done = scenario != Scenario::hang && polls >= m_impl->polls_to_finish;
            std::string conclusion = scenario == Scenario::pass ? "success" : "failure";
            list.push_back(
                {{"id", ++id},
                 {"head_sha", sha},
                 {"node_id", "CR_" + std::to_string(id)},
                 {"name", name},
                 {"status", done ? "completed" : "in_progress"},
                 {"conclusion", done ? json(conclusion) : json()},
                 {"html_url", "https://github.test/" + req.matches[1].str() + "/runs/" + std::to_string(id)},
                 {"details_url", "https://ci.test/" + name},
                 {"started_at", k_time},
                 {"completed_at", done ? json(k_time) : json()},
                 {"output",
                  {{"title", name},
                   {"summary", done && scenario == Scenario::pass ? "Plan: 0 to add, 3 to change, 0 to destroy." : ""},
                   {"text", nullptr},
                   {"annotations_count", 0}}},
                 {"check_suite", {{"id", 5}}},
                 {"app", nullptr},
                 {"pull_requests", json::array()}});
        }
        send(res, 200, {{"total_count", list.size()}, {"check_runs", list}});
    });

    // GitLab: trigger a pipeline for a branch.
    s.server.Post(R"(/api/v4/projects/(.+)/pipeline)", [=, this](const httplib::Request& req, httplib::Response& res) {
        record(req);
        if (!authorized(req, res)) return;
        json body = json::parse(req.body, nullptr, false);
        std::string ref = req.has_param("ref") ? req.get_param_value("ref")
                          : body.is_object()   ? body.value("ref", "")
                                               : "";
        if (ref.empty()) return send(res, 400, {{"message", "400 Bad request - ref is missing"}});
        std::string sha = m_impl->resolve(ref);
        if (sha.empty()) return send(res, 400, {{"message", {{"base", {"Reference not found"}}}}});
        std::lock_guard lock(m_impl->m);
        Impl::Run r;
        r.id = m_impl->next_id++;
        r.key = httplib::detail::decode_url(req.matches[1], false);
        r.repo = r.key;
        r.branch = ref;
        r.sha = sha;
        r.scenario = m_impl->scenario_of(r.key);
        r.inputs = body.is_object() ? body.value("variables", json::array()) : json::array();
        m_impl->runs[r.id] = r;
        send(res, 201,
             {{"id", r.id},
              {"iid", r.id - 7000},
              {"project_id", 11},
              {"sha", sha},
              {"ref", ref},
              {"status", "created"},
              {"source", "api"},
              {"created_at", k_time},
              {"updated_at", k_time},
              {"web_url", "https://gitlab.test/" + r.key + "/-/pipelines/" + std::to_string(r.id)}});
    });
    s.server.Get(
        R"(/api/v4/projects/(.+)/pipelines/(\d+))", [=, this](const httplib::Request& req, httplib::Response& res) {
            record(req);
            if (!authorized(req, res)) return;
            std::lock_guard lock(m_impl->m);
            auto it = m_impl->runs.find(std::stoll(req.matches[2]));
            if (it == m_impl->runs.end()) return send(res, 404, {{"message", "404 Not found"}});
            auto [status, conclusion] = m_impl->state(it->second, true);
            std::string gl = status == "queued"        ? "pending"
                             : status == "in_progress" ? "running"
                             : conclusion == "success" ? "success"
                                                       : "failed";
            send(res, 200,
                 {{"id", it->first},
                  {"iid", it->first - 7000},
                  {"project_id", 11},
                  {"sha", it->second.sha},
                  {"ref", it->second.branch},
                  {"status", gl},
                  {"source", "api"},
                  {"created_at", k_time},
                  {"updated_at", k_time},
                  {"web_url", "https://gitlab.test/" + it->second.key + "/-/pipelines/" + std::to_string(it->first)}});
        });
    s.server.Get(R"(/api/v4/projects/(.+)/pipelines/(\d+)/jobs)", [=, this](const httplib::Request& req,
                                                                            httplib::Response& res) {
        record(req);
        if (!authorized(req, res)) return;
        std::lock_guard lock(m_impl->m);
        auto it = m_impl->runs.find(std::stoll(req.matches[2]));
        if (it == m_impl->runs.end()) return send(res, 404, {{"message", "404 Not found"}});
        auto [status, conclusion] = m_impl->state(it->second, false);
        std::string gl = status == "completed" ? (conclusion == "success" ? "success" : "failed") : "running";
        send(res, 200,
             json::array({{{"id", it->first * 10},
                           {"name", "plan"},
                           {"stage", "validate"},
                           {"status", gl},
                           {"ref", it->second.branch},
                           {"web_url",
                            "https://gitlab.test/" + it->second.key + "/-/jobs/" + std::to_string(it->first * 10)}}}));
    });
    s.server.Get(R"(/api/v4/projects/(.+)/jobs/(\d+)/trace)",
                 [=, this](const httplib::Request& req, httplib::Response& res) {
                     record(req);
                     if (!authorized(req, res)) return;
                     std::lock_guard lock(m_impl->m);
                     auto it = m_impl->runs.find(std::stoll(req.matches[2]) / 10);
                     if (it == m_impl->runs.end()) return send(res, 404, {{"message", "404 Not found"}});
                     res.set_content(m_impl->job_log(it->second), "text/plain");
                 });
    s.server.Get(R"(/api/v4/projects/(.+)/jobs/(\d+)/artifacts/(.+))",
                 [=, this](const httplib::Request& req, httplib::Response& res) {
                     record(req);
                     if (!authorized(req, res)) return;
                     if (req.matches[3] == "plan.tfplan")
                         return res.set_content(CiServer::plan_bytes(), "application/octet-stream");
                     if (req.matches[3] != "plan.txt") return send(res, 404, {{"message", "404 Not found"}});
                     res.set_content("Plan: 4 to add, 0 to change, 0 to destroy.\n", "text/plain");
                 });
    s.port = s.server.bind_to_any_port("127.0.0.1");
    s.thread = std::thread([this] { m_impl->server.listen_after_bind(); });
}

CiServer::~CiServer()
{
    m_impl->server.stop();
    if (m_impl->thread.joinable()) m_impl->thread.join();
}

std::string CiServer::plan_bytes()
{
    return std::string("PK\x03\x04 a saved plan\x00\x01\x02 made in CI", 32);
}

std::vector<nlohmann::json> CiServer::dispatched_inputs(const std::string& workflow)
{
    std::lock_guard lock(m_impl->m);
    std::vector<nlohmann::json> out;
    for (const auto& [id, r] : m_impl->runs)
        if (r.key == workflow) out.push_back(r.inputs);
    return out;
}

std::string CiServer::url() const
{
    return m_impl->base();
}

void CiServer::set_scenario(const std::string& key, Scenario s)
{
    std::lock_guard lock(m_impl->m);
    m_impl->scenarios[key] = s;
}

void CiServer::set_check_runs(std::map<std::string, Scenario> runs)
{
    std::lock_guard lock(m_impl->m);
    m_impl->check_runs = std::move(runs);
}

void CiServer::set_polls_to_finish(int n)
{
    std::lock_guard lock(m_impl->m);
    m_impl->polls_to_finish = n;
}

std::vector<CiCall> CiServer::calls()
{
    std::lock_guard lock(m_impl->m);
    return m_impl->calls;
}

}  // namespace infra::test
