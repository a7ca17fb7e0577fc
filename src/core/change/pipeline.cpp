#include "core/change/pipeline.hpp"

#include "core/json_access.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <algorithm>
#include <regex>

namespace infra::core::change {

Result<PipelineSpec> pipeline_from(const json& j, const std::string& where)
{
    const std::string at = where + ".pipeline";
    if (!j.is_object())
        return fail(Errc::invalid_input,
                    at + ": expected an object such as {kind: github-actions, workflow: plan.yml}");
    static const std::vector<std::string> k_known = {"kind",   "workflow",  "project", "repository",
                                                     "inputs", "variables", "checks",  "timeout",
                                                     "poll",   "summary",   "plan"};
    for (const auto& [key, value] : j.items())
        if (std::find(k_known.begin(), k_known.end(), key) == k_known.end())
            return fail(Errc::invalid_input, at + ": unknown key " + text::quote(key),
                        "keys: kind, workflow, project, repository, inputs, checks, timeout, poll, summary, plan");
    auto str = [&](const char* key) -> Result<std::string> {
        if (!j.contains(key) || j[key].is_null()) return std::string();
        if (j[key].is_string()) return j[key].get<std::string>();
        if (j[key].is_number_integer()) return std::to_string(j[key].get<long long>());
        return fail(Errc::invalid_input, at + "." + key + ": expected a string");
    };
    PipelineSpec s;
    auto kind = str("kind");
    if (!kind) return fail(kind.error());
    s.kind = *kind;
    if (s.kind != "github-actions" && s.kind != "github-checks" && s.kind != "gitlab")
        return fail(Errc::invalid_input,
                    at + ".kind: expected github-actions, github-checks or gitlab, not " + text::quote(s.kind));
    for (auto [key, field] :
         {std::pair{"workflow", &s.workflow}, {"project", &s.project}, {"repository", &s.repository}}) {
        auto v = str(key);
        if (!v) return fail(v.error());
        *field = *v;
    }
    if (s.kind == "github-actions" && s.workflow.empty())
        return fail(Errc::invalid_input,
                    at + ": kind github-actions needs workflow: the workflow's file name (plan.yml) or id");
    for (const char* key : {"inputs", "variables"}) {
        if (!j.contains(key)) continue;
        if (!j[key].is_object())
            return fail(Errc::invalid_input, at + "." + key + ": expected a map of names to strings");
        s.inputs_given = true;
        for (const auto& [name, value] : j[key].items()) {
            if (value.is_string()) s.inputs[name] = value.get<std::string>();
            else if (value.is_number() || value.is_boolean()) s.inputs[name] = value.dump();
            else return fail(Errc::invalid_input, at + "." + key + "." + name + ": expected a string");
        }
    }
    if (j.contains("checks")) {
        if (!j["checks"].is_array())
            return fail(Errc::invalid_input, at + ".checks: expected a list of check run names");
        for (const auto& c : j["checks"]) {
            if (!c.is_string()) return fail(Errc::invalid_input, at + ".checks: every name must be a string");
            s.checks.push_back(c.get<std::string>());
        }
    }
    for (auto [key, field] : {std::pair{"timeout", &s.timeout}, {"poll", &s.poll}}) {
        auto v = str(key);
        if (!v) return fail(v.error());
        if (v->empty()) continue;
        auto d = timeutil::parse_duration(*v);
        if (!d || d->count() <= 0)
            return fail(Errc::invalid_input,
                        at + "." + key + ": expected a duration such as 30s or 15m, not " + text::quote(*v));
        *field = *d;
    }
    if (j.contains("summary")) {
        const json& sm = j["summary"];
        if (sm.is_string() && (sm == "log" || sm == "none")) s.summary = sm.get<std::string>();
        else if (sm.is_object() && sm.contains("artifact") && sm["artifact"].is_string()) {
            s.summary = "artifact";
            s.artifact = sm["artifact"].get<std::string>();
            s.artifact_file = string_member(sm, "file");
            if (s.artifact_file.empty())
                return fail(Errc::invalid_input,
                            at + ".summary: an artifact needs file: the file in it that holds the plan summary");
            if (s.kind == "github-checks")
                return fail(Errc::invalid_input, at + ".summary: check runs have no artifacts; use log or none");
        } else return fail(Errc::invalid_input, at + ".summary: expected log, none or {artifact: NAME, file: PATH}");
    }
    if (j.contains("plan")) {
        const json& p = j["plan"];
        s.plan_artifact = string_member(p, "artifact");
        s.plan_file = string_member(p, "file");
        if (!p.is_object() || s.plan_artifact.empty() || s.plan_file.empty())
            return fail(Errc::invalid_input,
                        at + ".plan: expected {artifact: NAME, file: PATH}: the artifact holding the saved plan file");
        if (s.kind == "github-checks") return fail(Errc::invalid_input, at + ".plan: check runs have no artifacts");
    }
    return s;
}

std::string expand(const std::string& s, const PipelineTarget& target)
{
    std::vector<std::pair<std::string, const std::string*>> names = {{"{branch}", &target.branch},
                                                                     {"{commit}", &target.commit},
                                                                     {"{task}", &target.task_id},
                                                                     {"{trace}", &target.trace_id}};
    for (const auto& [k, v] : target.extra) names.emplace_back("{" + k + "}", &v);
    std::string out = s;
    for (const auto& [name, value] : names)
        for (auto at = out.find(name); at != std::string::npos; at = out.find(name, at + value->size()))
            out.replace(at, name.size(), *value);
    return out;
}

std::map<std::string, std::string> inputs_for(const PipelineSpec& spec, const PipelineTarget& target)
{
    if (!spec.inputs_given) {
        std::map<std::string, std::string> out = {
            {"branch", target.branch}, {"task_id", target.task_id}, {"trace_id", target.trace_id}};
        out.insert(target.extra.begin(), target.extra.end());
        return out;
    }
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : spec.inputs) out[k] = expand(v, target);
    return out;
}

std::string plan_summary_in(const std::string& text)
{
    // Logs carry timestamps and colour codes in front of terraform's own words.
    static const std::regex k_plan(R"(Plan: (\d+) to add, (\d+) to change, (\d+) to destroy)");
    static const std::regex k_ansi("\x1b\\[[0-9;]*m");
    std::string clean = std::regex_replace(text, k_ansi, "");
    std::smatch m;
    if (std::regex_search(clean, m, k_plan))
        return m[1].str() + " to add, " + m[2].str() + " to change, " + m[3].str() + " to destroy";
    if (clean.find("No changes.") != std::string::npos) return "no changes";
    return "";
}

std::chrono::milliseconds next_poll(std::chrono::milliseconds current)
{
    return std::min<std::chrono::milliseconds>(current + current / 2, std::chrono::minutes(1));
}

}  // namespace infra::core::change
