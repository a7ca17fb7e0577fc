#include "core/change/validation.hpp"
#include "core/change/paths.hpp"
#include "core/change/validation_root.hpp"
#include "core/events/trace.hpp"

#include "core/json_access.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <unistd.h>

namespace infra::core::change {
namespace {

/// type.name of an address, without module path and index: module.m.aws_s3_bucket.b["x"] -> aws_s3_bucket.b
std::string bare_address(std::string a)
{
    while (a.rfind("module.", 0) == 0) {
        auto dot = a.find('.', 7);  // module.NAME[idx].rest
        if (dot == std::string::npos) break;
        a = a.substr(dot + 1);
    }
    if (a.rfind("data.", 0) == 0) a = a.substr(5);
    auto bracket = a.find('[');
    if (bracket != std::string::npos) a.resize(bracket);
    return a;
}

std::string name_of(const std::string& address)
{
    auto dot = address.find('.');
    return dot == std::string::npos ? address : address.substr(dot + 1);
}

}  // namespace

bool terraform_on_path()
{
    const char* path = std::getenv("PATH");
    if (!path) return false;
    for (const auto& dir : text::split(path, ':'))
        if (!dir.empty() && ::access((dir + "/terraform").c_str(), X_OK) == 0) return true;
    return false;
}

bool has_pipelines(const std::vector<Step>& steps)
{
    return std::any_of(steps.begin(), steps.end(), [](const Step& s) { return s.pipeline.has_value(); });
}

std::string saved_plan_name(std::size_t index)
{
    return std::to_string(index) + ".tfplan";
}

json Report::to_json() const
{
    json steps_j = json::array();
    for (const auto& s : steps) {
        json step = {{"name", s.name},          {"dir", s.dir},       {"argv", s.argv},    {"ok", s.ok},
                     {"exitCode", s.exit_code}, {"durationMs", s.ms}, {"output", s.output}};
        if (s.remote) step["remote"] = true;
        if (!s.url.empty()) step["url"] = s.url;
        steps_j.push_back(std::move(step));
    }
    json j = {{"ok", ok}, {"ran", ran}, {"changes", changes}, {"steps", steps_j}, {"plan", plan}};
    if (!plan_summary.empty()) j["planSummary"] = plan_summary;
    if (!failure.empty()) j["failure"] = failure;
    if (!hint.empty()) j["hint"] = hint;
    if (!skipped.empty()) j["skipped"] = skipped;
    if (!providers.empty()) j["providers"] = providers;
    return j;
}

Result<PlanMode> parse_plan_mode(std::string_view s)
{
    if (s.empty() || s == "offline") return PlanMode::offline;
    if (s == "none") return PlanMode::none;
    return fail(Errc::invalid_input, "validation.plan: unknown mode " + text::quote(s),
                "use offline (a plan of the configuration, without credentials) or none; remote plans are "
                "validation.steps pipelines");
}

const std::vector<Step>& builtin_steps()
{
    static const std::vector<Step> k_steps = {{"terraform-fmt", {}, "terraform-fmt"},
                                              {"terraform-init", {}, "terraform-init"},
                                              {"terraform-validate", {}, "terraform-validate"},
                                              {"terraform-plan", {}, "terraform-plan"}};
    return k_steps;
}

Result<std::vector<Step>> steps_from(const json& config)
{
    std::vector<Step> out;
    if (config.is_null()) return out;
    if (!config.is_array()) return fail(Errc::invalid_input, "validation.steps must be a list of steps");
    for (std::size_t i = 0; i < config.size(); ++i) {
        const json& s = config[i];
        Step step;
        const json* run = nullptr;
        if (s.is_string()) {
            std::string name = s.get<std::string>();
            bool known = false;
            for (const auto& b : builtin_steps()) known = known || b.builtin == name;
            if (!known)
                return fail(Errc::invalid_input,
                            "validation.steps[" + std::to_string(i) + "]: unknown step " + text::quote(name),
                            "built-in steps: terraform-fmt, terraform-init, terraform-validate, terraform-plan; "
                            "or {name: NAME, run: [program, args...]}");
            out.push_back({name, {}, name});
            continue;
        }
        std::string where = "validation.steps[" + std::to_string(i) + "]";
        if (s.is_array()) run = &s;
        else if (s.is_object()) {
            step.name = string_member(s, "name");
            if (s.contains("pipeline")) {
                if (s.contains("run"))
                    return fail(Errc::invalid_input,
                                where + ": a step runs a command (run) or a remote pipeline, not both");
                auto spec = pipeline_from(s["pipeline"], where);
                if (!spec) return fail(spec.error());
                if (step.name.empty()) step.name = spec->kind + (spec->workflow.empty() ? "" : " " + spec->workflow);
                step.pipeline = std::move(*spec);
                out.push_back(std::move(step));
                continue;
            }
            if (s.contains("run")) run = &s["run"];
        }
        if (!run || !run->is_array() || run->empty())
            return fail(Errc::invalid_input, where + ": expected run: [program, args...]",
                        "e.g. validation: {steps: [{name: tflint, run: [tflint, --chdir, \"{dir}\"]}]}");
        for (const auto& a : *run) {
            if (!a.is_string()) return fail(Errc::invalid_input, where + ".run: every argument must be a string");
            step.argv.push_back(a.get<std::string>());
        }
        if (step.name.empty()) step.name = step.argv.front();
        out.push_back(std::move(step));
    }
    return out;
}

std::vector<std::string> terraform_roots(const std::vector<std::string>& changed_files)
{
    std::set<std::string> dirs;
    for (const auto& f : changed_files) {
        if (!is_terraform_file(f)) continue;
        auto slash = f.rfind('/');
        dirs.insert(slash == std::string::npos ? "." : f.substr(0, slash));
    }
    if (dirs.empty()) return {"."};
    return {dirs.begin(), dirs.end()};
}

std::vector<std::string> plan_scope_violations(const json& plan, const AgentTask& task,
                                               const policy::Decision& decision, json& touched)
{
    std::vector<std::string> violations;
    touched = json::array();
    bool allow_deletes = decision.allow_deletes;
    std::vector<std::string> scope;
    if (!task.context.resource.empty()) scope.push_back(bare_address(task.context.resource));
    for (const auto& f : findings_of(task.payload))
        if (!f.resource.empty()) scope.push_back(bare_address(f.resource));
    // A drift task's scope is what drifted.
    for (const auto& address : drifted_addresses(task.payload)) scope.push_back(bare_address(address));
    std::vector<std::string> globs = decision.plan_scope;
    if (!plan.contains("prior_state")) {
        // Without state every resource plans as new: only what the change
        // itself declares could be told apart, so scope is not judged.
        scope.clear();
        globs.clear();
    }
    const json& changes = member(plan, "resource_changes");
    if (!changes.is_array()) return violations;
    for (const auto& rc : changes) {
        std::string address = string_member(rc, "address");
        const json& actions = member(member(rc, "change"), "actions");
        std::vector<std::string> acts;
        if (actions.is_array())
            for (const auto& a : actions)
                if (a.is_string()) acts.push_back(a.get<std::string>());
        bool noop = acts.empty() || (acts.size() == 1 && (acts[0] == "no-op" || acts[0] == "read"));
        if (noop) continue;
        std::string joined;
        for (const auto& a : acts) joined += (joined.empty() ? "" : ",") + a;
        touched.push_back({{"address", address}, {"actions", acts}});
        bool deletes = std::find(acts.begin(), acts.end(), "delete") != acts.end();
        if (deletes && !allow_deletes)
            violations.push_back(address + " would be " + (acts.size() > 1 ? "replaced" : "deleted") +
                                 " and policy does not allow deletes");
        if (scope.empty() && globs.empty()) continue;  // a task without a resource: deletes are the only limit
        std::string bare = bare_address(address);
        bool in = false;
        for (const auto& s : scope)
            if (bare == s || name_of(bare) == name_of(s)) in = true;
        for (const auto& g : globs)
            if (text::glob_match(g, address)) in = true;
        if (!in) violations.push_back(address + " (" + joined + ") is outside the task's scope");
    }
    return violations;
}
bool runs_terraform(const ValidationOptions& opt)
{
    if (opt.steps.empty()) return true;
    for (const auto& s : opt.steps)
        if (!s.builtin.empty()) return true;
    return false;
}

Result<Report> validate(const std::filesystem::path& root, const std::vector<std::string>& dirs, const AgentTask& task,
                        const policy::Decision& decision, const ValidationOptions& opt)
{
    Report report;
    if (!opt.sandbox) return fail(Errc::unavailable, "validation runs in the sandbox, and none is available");
    // Remote pipelines run after the push (run_pipelines); only local steps run here.
    if (opt.steps.empty() && !opt.terraform) return report;  // nothing to run: ran stays false
    if (runs_terraform(opt) && !opt.terraform)
        return fail(Errc::unavailable, "validation.steps names terraform steps, and terraform is not on PATH");
    for (const auto& dir : dirs) {
        if (auto st = validate_root(root, dir, task, decision, opt, dirs.size() > 1, report); !st)
            return fail(st.error());
        if (!report.ok) break;
    }
    return report;
}

Status run_pipelines(const std::vector<Step>& steps, PipelineRunner& runner, const PipelineTarget& target,
                     Report& report, events::EventSink* events, const std::filesystem::path& plans_dir)
{
    for (const auto& step : steps) {
        if (!step.pipeline) continue;
        std::optional<events::Span> span;
        if (events)
            span.emplace(
                *events, "validation.step", target.task_id,
                json{{"step", step.name}, {"pipeline.kind", step.pipeline->kind}, {"git.commit", target.commit}});
        auto started = std::chrono::steady_clock::now();
        auto outcome = runner.run(*step.pipeline, target);
        if (!outcome) {
            if (span) span->fail(outcome.error().message);
            return fail(outcome.error());
        }
        StepResult sr;
        sr.name = step.name;
        sr.dir = ".";
        sr.remote = true;
        sr.ok = outcome->ok;
        sr.exit_code = outcome->ok ? 0 : 1;
        sr.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
        sr.url = outcome->url;
        sr.output = outcome->conclusion + (outcome->url.empty() ? "" : ": " + outcome->url) + "\n" + outcome->detail;
        if (!outcome->summary.empty()) {
            sr.output += "plan: " + outcome->summary + "\n";
            if (report.plan_summary.empty()) report.plan_summary = outcome->summary;
        }
        report.ran = true;
        if (sr.ok && !outcome->plan.empty() && !plans_dir.empty()) {
            // The pipeline's plan is the saved plan of this change: kept, hashed, and applied only by a pipeline.
            auto saved = keep_plan_bytes(outcome->plan, plans_dir, report.plan.size());
            if (!saved) return fail(saved.error());
            json& p = report.plan["pipeline:" + step.name];
            p["savedPlan"] = {{"file", saved->first},
                              {"sha256", saved->second},
                              {"pipeline",
                               {{"kind", step.pipeline->kind},
                                {"run", outcome->run_id},
                                {"url", outcome->url},
                                {"artifact", step.pipeline->plan_artifact},
                                {"file", step.pipeline->plan_file}}}};
            sr.output += "saved plan: sha256 " + saved->second + "\n";
        }
        if (span) {
            span->set("pipeline.conclusion", outcome->conclusion);
            span->set("pipeline.url", outcome->url);
            if (!sr.ok) span->fail(outcome->conclusion);
        }
        report.steps.push_back(sr);
        if (!sr.ok) {
            report.ok = false;
            report.failure = step.name + (outcome->timed_out ? " did not finish in time: " : " failed: ") +
                             outcome->conclusion + (outcome->url.empty() ? "" : " (" + outcome->url + ")");
            break;
        }
    }
    return {};
}

}  // namespace infra::core::change
