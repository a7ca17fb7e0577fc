#include "core/policy/digest.hpp"
#include "core/json_access.hpp"

#include <map>

namespace infra::core::policy {
namespace {

std::string join(const std::vector<std::string>& v)
{
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
    return out;
}

}  // namespace

std::string describe(const Rule& r)
{
    if (!r.description.empty()) return r.description;
    if (r.effect == Effect::deny) return "Never do this: " + (r.reason.empty() ? r.name : r.reason);
    std::vector<std::string> parts;
    if (r.tier)
        parts.push_back("act at most at tier " + std::to_string(*r.tier) + " (" + std::string(tier_name(*r.tier)) +
                        ")");
    if (r.constraints.requires_pr.value_or(false)) parts.push_back("deliver changes as a pull request");
    if (r.constraints.requires_validation.value_or(false)) parts.push_back("pass validation before a pull request");
    if (!r.required_approvals.empty()) parts.push_back("wait for approval by " + join(r.required_approvals));
    if (!r.constraints.denied_tools.empty()) parts.push_back("never use " + join(r.constraints.denied_tools));
    if (parts.empty()) return r.name;
    std::string s = join(parts);
    s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
}

json digest(const Engine& engine, const json& task)
{
    Decision d = engine.decide(task);
    json org = json::array(), agent = json::array(), repo = json::array();
    for (const Rule* r : d.matched) {
        json item = {{"rule", r->name}, {"text", describe(*r)}};
        switch (r->level) {
        case Level::organization:
            org.push_back(item);
            break;
        case Level::agent:
            agent.push_back(item);
            break;
        default:
            repo.push_back(item);
            break;
        }
    }
    // The decision's limits are hard rules whichever level set them.
    json hard = json::array();
    hard.push_back("Act at most at tier " + std::to_string(d.tier) + " (" + std::string(tier_name(d.tier)) + ").");
    hard.push_back("Stop after " + std::to_string(d.max_iterations) + " iterations and " +
                   std::to_string(d.timeout_ms / 1000) + " seconds.");
    if (d.allowed_tools) hard.push_back("Use only these tools: " + join(*d.allowed_tools) + ".");
    if (!d.denied_tools.empty()) hard.push_back("Never use these tools: " + join(d.denied_tools) + ".");
    if (d.requires_pr) hard.push_back("Every change goes through a pull request; never apply changes directly.");
    if (d.requires_validation) hard.push_back("Every change must pass validation.");
    for (const auto& a : agent) hard.push_back(a["text"]);
    for (const auto& p : engine.policies())
        if (p.level == Level::repository && engine.applies(p, task))
            for (const auto& c : p.conventions) repo.push_back({{"rule", p.name}, {"text", c}});
    std::map<std::string, std::vector<std::string>> frameworks;
    for (const auto& c : d.compliance) {
        auto space = c.find(' ');
        frameworks[c.substr(0, space)].push_back(space == std::string::npos ? "" : c.substr(space + 1));
    }
    json fw = json::array();
    for (const auto& [name, controls] : frameworks) fw.push_back({{"framework", name}, {"controls", controls}});
    return {{"formatVersion", 1},          {"allowed", d.allowed},           {"tier", d.tier},
            {"organizationPolicies", org}, {"agentHardRules", hard},         {"repositoryConventions", repo},
            {"complianceFrameworks", fw},  {"policyDigest", d.policy_digest}};
}

std::string digest_text(const json& dg)
{
    std::string out = "Policy (" + core::string_member(dg, "policyDigest") + "):\n";
    if (!core::bool_member(dg, "allowed")) out += "- You are not allowed to act on this task; report and stop.\n";
    out += "Hard rules:\n";
    for (const auto& h : dg["agentHardRules"]) out += "- " + h.get<std::string>() + "\n";
    if (!dg["organizationPolicies"].empty()) {
        out += "Organization policies:\n";
        for (const auto& o : dg["organizationPolicies"]) out += "- " + o["text"].get<std::string>() + "\n";
    }
    if (!dg["repositoryConventions"].empty()) {
        out += "Repository conventions:\n";
        for (const auto& r : dg["repositoryConventions"]) out += "- " + r["text"].get<std::string>() + "\n";
    }
    if (!dg["complianceFrameworks"].empty()) {
        out += "Compliance frameworks:\n";
        for (const auto& f : dg["complianceFrameworks"]) {
            std::string controls;
            for (const auto& c : f["controls"]) controls += (controls.empty() ? "" : ", ") + c.get<std::string>();
            out += "- " + f["framework"].get<std::string>() + (controls.empty() ? "" : ": " + controls) + "\n";
        }
    }
    return out;
}

}  // namespace infra::core::policy
