#include "core/policy/testing.hpp"
#include "core/json_access.hpp"

#include "core/text.hpp"
#include "core/yaml_docs.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace infra::core::policy {
namespace {

json yaml_json(const YAML::Node& n, int depth = 0)
{
    if (depth > 64) return nullptr;
    switch (n.Type()) {
    case YAML::NodeType::Map: {
        json o = json::object();
        for (const auto& kv : n) o[kv.first.Scalar()] = yaml_json(kv.second, depth + 1);
        return o;
    }
    case YAML::NodeType::Sequence: {
        json a = json::array();
        for (const auto& e : n) a.push_back(yaml_json(e, depth + 1));
        return a;
    }
    case YAML::NodeType::Scalar:
        return yaml_scalar(n);
    default:
        return nullptr;
    }
}

std::string show(const json& j)
{
    return j.is_string() ? text::quote(j.get<std::string>()) : j.dump();
}

std::set<std::string> as_set(const json& j)
{
    std::set<std::string> out;
    if (j.is_array())
        for (const auto& e : j)
            if (e.is_string()) out.insert(e.get<std::string>());
    return out;
}

void compare(const json& expect, const json& got, const std::string& prefix, std::vector<std::string>& failures)
{
    for (auto it = expect.begin(); it != expect.end(); ++it) {
        const std::string& key = it.key();
        std::string name = prefix + key;
        const json& want = it.value();
        if (key == "reasonContains") {
            std::string reason = core::string_member(got, "reason");
            if (!want.is_string() || reason.find(want.get<std::string>()) == std::string::npos)
                failures.push_back("reason: expected to contain " + show(want) + ", got " + show(reason));
            continue;
        }
        if (key == "matchedRulesInclude") {
            auto have = as_set(core::array_member(got, "matchedRules"));
            for (const auto& r : as_set(want))
                if (!have.count(r)) failures.push_back("matchedRules: expected to include " + text::quote(r));
            continue;
        }
        if (key == "pending") {
            bool pending = core::bool_member(got, "allowed") && !core::array_member(got, "requiredApprovals").empty();
            if (!want.is_boolean() || want.get<bool>() != pending)
                failures.push_back("pending: expected " + want.dump() + ", got " + json(pending).dump());
            continue;
        }
        auto g = got.find(key);
        if (key == "constraints" && want.is_object()) {
            compare(want, g == got.end() ? json::object() : *g, "constraints.", failures);
            continue;
        }
        if (g == got.end()) {
            if (!(want.is_array() && want.empty()))
                failures.push_back(name + ": expected " + show(want) + ", got nothing");
            continue;
        }
        // Lists are compared as sets: the decision sorts them.
        bool equal = want.is_array() && g->is_array() ? as_set(want) == as_set(*g) : want == *g;
        if (!equal) failures.push_back(name + ": expected " + show(want) + ", got " + show(*g));
    }
}

const std::set<std::string> k_expect_keys = {
    "allowed",        "tier",     "requiredApprovals", "constraints", "matchedRules", "matchedRulesInclude",
    "reasonContains", "priority", "pending",           "compliance"};

}  // namespace

Result<json> complete_test_task(const json& partial)
{
    if (!partial.is_object()) return fail(Errc::invalid_input, "task: expected a mapping");
    json t = partial;
    if (!t.contains("id")) t["id"] = "policy-test";
    if (!t.contains("trigger")) t["trigger"] = json::object();
    if (t["trigger"].is_object()) {
        if (!t["trigger"].contains("source")) t["trigger"]["source"] = "api";
        if (!t["trigger"].contains("provider")) t["trigger"]["provider"] = "policy-test";
        if (!t["trigger"].contains("timestamp")) t["trigger"]["timestamp"] = "2026-01-01T00:00:00Z";
    }
    if (!t.contains("context")) t["context"] = json::object();
    if (!t.contains("dedupeKey")) t["dedupeKey"] = "policy-test";
    auto task = task_from_json(t);
    if (!task) return task.error();
    return to_json(*task);
}

std::vector<TestCase> run_tests(const Engine& engine, const std::vector<std::filesystem::path>& files,
                                std::vector<LintFinding>& findings)
{
    std::vector<TestCase> out;
    for (const auto& path : files) {
        std::string file = path.string();
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        int offset = 0;
        auto at = [&](const YAML::Node& n) {
            auto m = n.Mark();
            return Location{file, m.line + 1 + offset, m.column + 1};
        };
        for (const auto& chunk : split_yaml_documents(ss.str())) {
            offset = chunk.first_line;
            try {
                YAML::Node doc = YAML::Load(chunk.text);
                if (!doc || doc.IsNull()) continue;
                if (!doc.IsMap() || !doc["kind"] || doc["kind"].Scalar() != "PolicyTest" || !doc["apiVersion"] ||
                    doc["apiVersion"].Scalar() != "infra-agent/v1") {
                    findings.push_back({at(doc), true, "expected apiVersion infra-agent/v1 and kind PolicyTest"});
                    continue;
                }
                std::string suite = doc["metadata"] && doc["metadata"]["name"] ? doc["metadata"]["name"].Scalar()
                                                                               : path.stem().string();
                auto tests = doc["tests"];
                if (!tests || !tests.IsSequence()) {
                    findings.push_back({at(doc), true, "tests: expected a list"});
                    continue;
                }
                for (const auto& t : tests) {
                    TestCase c;
                    c.file = file;
                    c.suite = suite;
                    c.where = at(t);
                    c.name = t["name"] && t["name"].IsScalar() ? t["name"].Scalar() : "(unnamed)";
                    if (!t["task"] || !t["expect"] || !t["expect"].IsMap()) {
                        findings.push_back({c.where, true, "test " + text::quote(c.name) + ": needs task and expect"});
                        continue;
                    }
                    bool bad_key = false;
                    for (const auto& kv : t["expect"])
                        if (!k_expect_keys.count(kv.first.Scalar())) {
                            findings.push_back(
                                {at(kv.first), true, "expect: unknown key " + text::quote(kv.first.Scalar())});
                            bad_key = true;
                        }
                    if (bad_key) continue;
                    auto task = complete_test_task(yaml_json(t["task"]));
                    if (!task) {
                        findings.push_back(
                            {at(t["task"]), true, "test " + text::quote(c.name) + ": " + task.error().message});
                        continue;
                    }
                    c.decision = to_json(engine.decide(*task));
                    compare(yaml_json(t["expect"]), c.decision, "", c.failures);
                    c.passed = c.failures.empty();
                    out.push_back(std::move(c));
                }
            } catch (const YAML::Exception& e) {
                findings.push_back({{file, e.mark.line + 1 + offset, e.mark.column + 1}, true, e.msg});
            }
        }
    }
    return out;
}

}  // namespace infra::core::policy
