#include "core/agent/report.hpp"

#include "core/json_access.hpp"

namespace infra::core::agent {

const FindingReport* Report::finding(std::string_view key) const
{
    if (key.empty()) return nullptr;
    for (auto it = findings.rbegin(); it != findings.rend(); ++it)
        if (it->key == key) return &*it;
    return nullptr;
}

Report read_report(const nlohmann::json& result)
{
    Report r;
    r.summary = string_member(result, "summary");
    r.details = string_member(result, "details");
    r.diff = string_member(result, "diff");
    r.notes = strings_member(result, "notes");
    for (const auto& f : array_member(result, "findings"))
        r.findings.push_back({string_member(f, "key"), string_member(f, "state"), string_member(f, "reason")});
    return r;
}

}  // namespace infra::core::agent
