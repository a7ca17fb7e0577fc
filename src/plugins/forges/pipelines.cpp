// Remote pipelines through the forges' REST APIs: a GitHub Actions workflow
// dispatched for the pushed branch and its run followed to its conclusion,
// the check runs GitHub reports on the pushed commit, or a GitLab pipeline
// triggered for the branch. Each is polled with a growing wait until it
// finishes or the step's timeout passes; the plan summary is read from the
// jobs' logs or from a file in an artifact.
#include "core/json_access.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"
#include "plugins/forges/api.hpp"
#include "plugins/forges/forges.hpp"

#include <optional>
#include <set>
#include <thread>

namespace infra::plugins::forges {
namespace {

using core::change::PipelineOutcome;
using core::change::PipelineSpec;
using core::change::PipelineTarget;
using Clock = std::chrono::steady_clock;

/// The plan summary in a file an artifact holds: terraform's own line, else
/// the file's first line.
std::string summary_of_file(const std::string& content)
{
    std::string s = core::change::plan_summary_in(content);
    if (!s.empty()) return s;
    for (const auto& line : core::text::split(content, '\n')) {
        auto t = core::text::trim(line);
        if (!t.empty()) return std::string(t.substr(0, 200));
    }
    return "";
}

bool passed(const std::string& conclusion)
{
    return conclusion == "success" || conclusion == "neutral" || conclusion == "skipped";
}

class Runner final : public core::change::PipelineRunner {
public:
    explicit Runner(PipelineSettings s) : m_s(std::move(s))
    {
        for (auto* u : {&m_s.github_url, &m_s.gitlab_url}) *u = base_url(std::move(*u));
    }

    core::Result<PipelineOutcome> run(const PipelineSpec& spec, const PipelineTarget& target) override
    {
        if (spec.kind == "github-actions") return github_actions(spec, target);
        if (spec.kind == "github-checks") return github_checks(spec, target);
        if (spec.kind == "gitlab") return gitlab(spec, target);
        return core::fail(Errc::invalid_input, "unknown pipeline kind " + core::text::quote(spec.kind));
    }

private:
    /// Polls step() with a growing wait until it says done or the timeout passes.
    template <class Step>
    core::Status poll(const PipelineSpec& spec, PipelineOutcome& out, Step step)
    {
        auto deadline = Clock::now() + spec.timeout;
        auto wait = spec.poll;
        for (;;) {
            ++out.polls;
            auto done = step();
            if (!done) return core::fail(done.error());
            if (*done) return {};
            auto left = deadline - Clock::now();
            if (left <= Clock::duration::zero()) {
                out.ok = false;
                out.timed_out = true;
                out.conclusion = "no conclusion after " + core::timeutil::format_duration(spec.timeout);
                return {};
            }
            std::this_thread::sleep_for(std::min<Clock::duration>(wait, left));
            wait = core::change::next_poll(wait);
        }
    }

    ApiCall github(const std::string& token) const
    {
        return {"GitHub",
                m_s.github_url,
                token,
                {{"Accept", m_s.github_accept}, {"X-GitHub-Api-Version", "2022-11-28"}, {"User-Agent", "infra-agent"}}};
    }

    core::Result<std::string> token(const decltype(PipelineSettings::github_token)& fn, const std::string& scope,
                                    const std::string& task, const char* forge) const
    {
        if (!fn) return core::fail(Errc::usage, "no credential for " + std::string(forge) + "'s CI API is configured");
        return fn(scope, task);
    }

    core::Result<PipelineOutcome> github_actions(const PipelineSpec& spec, const PipelineTarget& t)
    {
        std::string repo = spec.repository.empty() ? t.repository : spec.repository;
        std::string scope = "ci:dispatch:repo=" + repo + ",workflow=" + spec.workflow;
        auto tok = token(m_s.github_token, scope, t.task_id, "GitHub");
        if (!tok) return core::fail(tok.error());
        std::string workflow = "/repos/" + repo + "/actions/workflows/" + url_encode(spec.workflow);
        std::string runs_path = workflow + "/runs?event=workflow_dispatch&per_page=50&branch=" + url_encode(t.branch);
        // Runs that were there before the dispatch are not ours.
        auto before = call_api(github(*tok), "GET", runs_path, json());
        if (!before) return core::fail(before.error());
        std::set<std::int64_t> seen;
        for (const auto& r : core::array_member(*before, "workflow_runs")) seen.insert(core::int_member(r, "id"));
        json inputs = json::object();
        for (const auto& [k, v] : core::change::inputs_for(spec, t)) inputs[k] = v;
        auto dispatched =
            call_api(github(*tok), "POST", workflow + "/dispatches", {{"ref", t.branch}, {"inputs", inputs}});
        if (!dispatched) return core::fail(dispatched.error());

        PipelineOutcome out;
        std::int64_t run_id = 0;
        json run;
        auto done = poll(spec, out, [&]() -> core::Result<bool> {
            auto fresh = token(m_s.github_token, scope, t.task_id, "GitHub");
            if (!fresh) return core::fail(fresh.error());
            if (!run_id) {
                // The dispatch answers without the run: it is the new run of this workflow on the pushed commit.
                auto runs = call_api(github(*fresh), "GET", runs_path, json());
                if (!runs) return core::fail(runs.error());
                for (const auto& r : core::array_member(*runs, "workflow_runs")) {
                    std::int64_t id = core::int_member(r, "id");
                    if (id && !seen.count(id) && core::string_member(r, "head_sha") == t.commit) {
                        run_id = id;
                        break;
                    }
                }
                if (!run_id) return false;
            }
            auto r =
                call_api(github(*fresh), "GET", "/repos/" + repo + "/actions/runs/" + std::to_string(run_id), json());
            if (!r) return core::fail(r.error());
            run = *r;
            out.url = core::string_member(run, "html_url");
            return core::string_member(run, "status") == "completed";
        });
        if (!done) return core::fail(done.error());
        if (out.timed_out) {
            if (!run_id)
                out.conclusion += " (no run of " + spec.workflow + " started for " + t.commit.substr(0, 12) + ")";
            return out;
        }
        out.conclusion = core::string_member(run, "conclusion", "unknown");
        out.ok = passed(out.conclusion);
        // The jobs, for the report and the logs.
        auto jobs = call_api(github(*tok), "GET",
                             "/repos/" + repo + "/actions/runs/" + std::to_string(run_id) + "/jobs", json());
        if (!jobs) return core::fail(jobs.error());
        for (const auto& j : core::array_member(*jobs, "jobs"))
            out.detail += "job " + core::string_member(j, "name") + ": " +
                          core::string_member(j, "conclusion", core::string_member(j, "status")) + "\n";
        if (spec.summary == "log") {
            for (const auto& j : core::array_member(*jobs, "jobs")) {
                auto log = get_raw(github(*tok), "/repos/" + repo + "/actions/jobs/" +
                                                     std::to_string(core::int_member(j, "id")) + "/logs");
                if (!log) return core::fail(log.error());
                out.summary = core::change::plan_summary_in(*log);
                if (!out.summary.empty()) break;
            }
        } else if (spec.summary == "artifact") {
            auto content = github_artifact_file(*tok, repo, run_id, spec.artifact, spec.artifact_file);
            if (!content) return core::fail(content.error());
            if (!*content) out.detail += "no artifact " + spec.artifact + " to read the plan summary from\n";
            else out.summary = summary_of_file(**content);
        }
        out.run_id = std::to_string(run_id);
        if (out.ok && !spec.plan_artifact.empty()) {
            auto plan = github_artifact_file(*tok, repo, run_id, spec.plan_artifact, spec.plan_file);
            if (!plan) return core::fail(plan.error());
            if (!*plan) {
                out.ok = false;
                out.conclusion = "success, but the run saved no artifact " + spec.plan_artifact + " with the plan";
            } else out.plan = std::move(**plan);
        }
        return out;
    }

    /// A file of a run's artifact; nullopt when the run has no artifact of that name.
    core::Result<std::optional<std::string>> github_artifact_file(const std::string& token, const std::string& repo,
                                                                  std::int64_t run_id, const std::string& name,
                                                                  const std::string& file)
    {
        auto list = call_api(github(token), "GET",
                             "/repos/" + repo + "/actions/runs/" + std::to_string(run_id) +
                                 "/artifacts?name=" + url_encode(name),
                             json());
        if (!list) return core::fail(list.error());
        std::int64_t artifact = 0;
        for (const auto& a : core::array_member(*list, "artifacts"))
            if (core::string_member(a, "name") == name) artifact = core::int_member(a, "id");
        if (!artifact) return std::optional<std::string>();
        auto zip = get_raw(github(token), "/repos/" + repo + "/actions/artifacts/" + std::to_string(artifact) + "/zip");
        if (!zip) return core::fail(zip.error());
        auto content = file_in_zip(*zip, file);
        if (!content) return core::fail(Errc::unavailable, "artifact " + name + ": " + content.error().message);
        return std::optional<std::string>(std::move(*content));
    }

    core::Result<PipelineOutcome> github_checks(const PipelineSpec& spec, const PipelineTarget& t)
    {
        std::string repo = spec.repository.empty() ? t.repository : spec.repository;
        std::string scope = "ci:read:repo=" + repo;
        PipelineOutcome out;
        json runs;
        auto done = poll(spec, out, [&]() -> core::Result<bool> {
            auto tok = token(m_s.github_token, scope, t.task_id, "GitHub");
            if (!tok) return core::fail(tok.error());
            auto r = call_api(github(*tok), "GET",
                              "/repos/" + repo + "/commits/" + t.commit + "/check-runs?per_page=100", json());
            if (!r) return core::fail(r.error());
            runs = json::array();
            for (const auto& c : core::array_member(*r, "check_runs"))
                if (spec.checks.empty() || std::find(spec.checks.begin(), spec.checks.end(),
                                                     core::string_member(c, "name")) != spec.checks.end())
                    runs.push_back(c);
            std::set<std::string> names;
            bool all_done = !runs.empty();
            for (const auto& c : runs) {
                names.insert(core::string_member(c, "name"));
                if (core::string_member(c, "status") != "completed") all_done = false;
            }
            for (const auto& wanted : spec.checks)
                if (!names.count(wanted)) all_done = false;  // not reported yet
            return all_done;
        });
        if (!done) return core::fail(done.error());
        std::string failed;
        for (const auto& c : runs) {
            std::string conclusion = core::string_member(c, "conclusion", core::string_member(c, "status"));
            out.detail += "check " + core::string_member(c, "name") + ": " + conclusion + "\n";
            if (out.url.empty()) out.url = core::string_member(c, "html_url");
            if (!passed(conclusion) && failed.empty()) {
                failed = core::string_member(c, "name") + " " + conclusion;
                out.url = core::string_member(c, "html_url");
            }
            if (spec.summary == "log" && out.summary.empty()) {
                const json& output = core::object_member(c, "output");
                out.summary = core::change::plan_summary_in(core::string_member(output, "summary") + "\n" +
                                                            core::string_member(output, "text"));
            }
        }
        if (out.timed_out) {
            if (runs.empty()) out.conclusion += " (no check runs reported for " + t.commit.substr(0, 12) + ")";
            return out;
        }
        out.ok = failed.empty();
        out.conclusion = failed.empty() ? "success" : failed;
        return out;
    }

    core::Result<PipelineOutcome> gitlab(const PipelineSpec& spec, const PipelineTarget& t)
    {
        std::string project = spec.project.empty() ? t.repository : spec.project;
        std::string scope = "ci:pipeline:project=" + project;
        auto tok = token(m_s.gitlab_token, scope, t.task_id, "GitLab");
        if (!tok) return core::fail(tok.error());
        auto api = [&](const std::string& token) { return ApiCall{"GitLab", m_s.gitlab_url, token, {}}; };
        std::string base = "/projects/" + url_encode(project);
        json variables = json::array();
        for (const auto& [k, v] : core::change::inputs_for(spec, t)) variables.push_back({{"key", k}, {"value", v}});
        auto made = call_api(api(*tok), "POST", base + "/pipeline", {{"ref", t.branch}, {"variables", variables}});
        if (!made) return core::fail(made.error());
        std::int64_t id = core::int_member(*made, "id");
        if (!id) return core::fail(Errc::unavailable, "GitLab answered the pipeline trigger without an id");
        PipelineOutcome out;
        out.url = core::string_member(*made, "web_url");
        std::string status;
        auto done = poll(spec, out, [&]() -> core::Result<bool> {
            auto fresh = token(m_s.gitlab_token, scope, t.task_id, "GitLab");
            if (!fresh) return core::fail(fresh.error());
            auto p = call_api(api(*fresh), "GET", base + "/pipelines/" + std::to_string(id), json());
            if (!p) return core::fail(p.error());
            status = core::string_member(*p, "status");
            if (out.url.empty()) out.url = core::string_member(*p, "web_url");
            // manual: the pipeline waits for a person to start a job, which is not a verdict either.
            return status == "success" || status == "failed" || status == "canceled" || status == "skipped" ||
                   status == "manual";
        });
        if (!done) return core::fail(done.error());
        if (out.timed_out) {
            out.conclusion += " (last status " + (status.empty() ? std::string("unknown") : status) + ")";
            return out;
        }
        out.conclusion = status;
        out.ok = status == "success";
        auto jobs =
            call_api(api(*tok), "GET", base + "/pipelines/" + std::to_string(id) + "/jobs?per_page=100", json());
        if (!jobs) return core::fail(jobs.error());
        if (!jobs->is_array()) return core::fail(Errc::unavailable, "GitLab answered the pipeline's jobs with no list");
        for (const auto& j : *jobs)
            out.detail += "job " + core::string_member(j, "name") + ": " + core::string_member(j, "status") + "\n";
        for (const auto& j : *jobs) {
            std::string job = base + "/jobs/" + std::to_string(core::int_member(j, "id"));
            if (spec.summary == "log") {
                auto trace = get_raw(api(*tok), job + "/trace");
                if (!trace) return core::fail(trace.error());
                out.summary = core::change::plan_summary_in(*trace);
            } else if (spec.summary == "artifact" && core::string_member(j, "name") == spec.artifact) {
                // GitLab hands out one file of a job's artifacts by its path.
                auto file = get_raw(api(*tok), job + "/artifacts/" + spec.artifact_file);
                if (!file)
                    return core::fail(Errc::unavailable,
                                      "artifact of job " + spec.artifact + ": " + file.error().message);
                out.summary = summary_of_file(*file);
            }
            if (!out.summary.empty()) break;
        }
        out.run_id = std::to_string(id);
        if (out.ok && !spec.plan_artifact.empty()) {
            for (const auto& j : *jobs)
                if (core::string_member(j, "name") == spec.plan_artifact) {
                    auto file = get_raw(api(*tok), base + "/jobs/" + std::to_string(core::int_member(j, "id")) +
                                                       "/artifacts/" + spec.plan_file);
                    if (!file)
                        return core::fail(Errc::unavailable, "the plan in job " + spec.plan_artifact +
                                                                 "'s artifacts: " + file.error().message);
                    out.plan = std::move(*file);
                }
            if (out.plan.empty()) {
                out.ok = false;
                out.conclusion = "success, but no job " + spec.plan_artifact + " saved the plan " + spec.plan_file;
            }
        }
        return out;
    }

    PipelineSettings m_s;
};

}  // namespace

std::unique_ptr<core::change::PipelineRunner> make_pipeline_runner(PipelineSettings settings)
{
    return std::make_unique<Runner>(std::move(settings));
}

}  // namespace infra::plugins::forges
