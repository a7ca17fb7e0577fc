#include "core/signals/group.hpp"

#include "core/json_access.hpp"
#include "core/signals/tasks.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace infra::core::signals {
namespace {

int severity_rank(const std::string& s)
{
    static const char* k_order[] = {"critical", "high", "medium", "low", "info"};
    for (int i = 0; i < 5; ++i)
        if (s == k_order[i]) return i;
    return 5;
}

std::string directory_of(const std::string& file)
{
    auto slash = file.rfind('/');
    return slash == std::string::npos ? "." : file.substr(0, slash);
}

/// What the findings of one group share; empty when the finding has
/// nothing to group on (it is then a group of its own).
std::string group_value(const AgentTask& t, GroupBy by)
{
    TaskFinding f = finding_from_json(member(t.payload, "finding"));
    const std::string& file = f.file;
    std::string resource = t.context.resource.empty() ? f.resource : t.context.resource;
    switch (by) {
    case GroupBy::resource:
        return resource.empty() ? "" : (file.empty() ? "" : directory_of(file) + ":") + resource;
    case GroupBy::file:
        return file;
    case GroupBy::root:
        return file.empty() ? "" : directory_of(file);
    case GroupBy::rule:
        return f.canonical_rule_id;
    case GroupBy::finding:
        return "";
    }
    return "";
}

/// The hash of what a finding says: a finding declined is proposed again
/// only once this changes.
std::string content_of(const TaskFinding& f)
{
    return dedupe_key(
        {f.canonical_rule_id, f.resource, f.file, std::to_string(f.start_line), std::to_string(f.end_line), f.message});
}

AgentTask merge(std::vector<AgentTask> members, GroupBy by, const std::string& value)
{
    auto order = [](const AgentTask& t) {
        TaskFinding f = finding_from_json(member(t.payload, "finding"));
        return std::make_tuple(severity_rank(f.severity), f.file, f.start_line, f.canonical_rule_id);
    };
    std::stable_sort(members.begin(), members.end(),
                     [&order](const AgentTask& a, const AgentTask& b) { return order(a) < order(b); });
    AgentTask group = members.front();
    json findings = json::array();
    for (const auto& m : members) {
        TaskFinding f = finding_from_json(member(m.payload, "finding"));
        f.raw["key"] = m.dedupe_key;
        f.raw["content"] = content_of(f);
        findings.push_back(std::move(f.raw));
        group.context.priority = std::max(group.context.priority, m.context.priority);
        if (m.context.resource != group.context.resource) group.context.resource.clear();
    }
    group.payload["finding"] = findings.front();
    group.payload["findings"] = std::move(findings);
    group.payload["group"] = {{"by", std::string(to_string(by))}, {"value", value}};
    group.dedupe_key = dedupe_key(
        {"group", text::lower(group.context.repository_id), to_string(by), group.context.environment, value});
    if (members.size() > 1) group.trigger.source_id = std::string(to_string(by)) + ":" + value;
    return group;
}

}  // namespace

Result<GroupBy> parse_group_by(std::string_view s, std::string_view where)
{
    for (GroupBy by : {GroupBy::resource, GroupBy::file, GroupBy::root, GroupBy::rule, GroupBy::finding})
        if (s == to_string(by)) return by;
    return fail(Errc::usage,
                std::string(where) + ": expected resource, file, root, rule or finding, got " + text::quote(s));
}

std::string_view to_string(GroupBy by)
{
    switch (by) {
    case GroupBy::resource:
        return "resource";
    case GroupBy::file:
        return "file";
    case GroupBy::root:
        return "root";
    case GroupBy::rule:
        return "rule";
    case GroupBy::finding:
        return "finding";
    }
    return "resource";
}

/// Each resource's group lists the resources that other groups of its
/// repository and directory fix (payload.otherResources): a fix of one
/// resource that would also edit another (an S3 bucket's public access
/// block, say) leaves that one to its own pull request, so that no two
/// pull requests change the same lines.
void note_other_resources(std::vector<AgentTask>& tasks)
{
    auto place = [](const AgentTask& t) {
        TaskFinding f = finding_from_json(member(t.payload, "finding"));
        std::string resource = t.context.resource.empty() ? f.resource : t.context.resource;
        return std::make_pair(text::lower(t.context.repository_id) + "\n" + t.context.environment + "\n" +
                                  directory_of(f.file),
                              resource);
    };
    std::map<std::string, std::set<std::string>> by_directory;
    for (const auto& t : tasks)
        if (member(t.payload, "group").is_object())
            if (auto [dir, resource] = place(t); !resource.empty()) by_directory[dir].insert(resource);
    for (auto& t : tasks) {
        if (!member(t.payload, "group").is_object()) continue;
        auto [dir, resource] = place(t);
        json others = json::array();
        for (const auto& r : by_directory[dir])
            if (r != resource) others.push_back(r);
        if (!others.empty()) t.payload["otherResources"] = std::move(others);
    }
}

std::vector<AgentTask> group_findings(std::vector<AgentTask> tasks, GroupBy by)
{
    if (by == GroupBy::finding) return tasks;
    // Findings of different repositories or environments never share a
    // pull request, whatever else they share.
    std::map<std::tuple<std::string, std::string, std::string>, std::size_t> index;
    std::vector<std::vector<AgentTask>> groups;
    std::vector<std::string> values;
    std::vector<AgentTask> out;
    std::vector<std::pair<bool, std::size_t>> order;  // (is a group, index)
    for (auto& t : tasks) {
        if (t.type != TaskType::compliance_remediation || !member(t.payload, "finding").is_object() ||
            member(t.payload, "group").is_object()) {  // grouped already
            order.emplace_back(false, out.size());
            out.push_back(std::move(t));
            continue;
        }
        std::string value = group_value(t, by);
        if (value.empty()) value = "finding:" + t.dedupe_key;
        auto key = std::make_tuple(text::lower(t.context.repository_id), t.context.environment, value);
        auto [it, added] = index.emplace(key, groups.size());
        if (added) {
            groups.emplace_back();
            values.push_back(value);
            order.emplace_back(true, it->second);
        }
        groups[it->second].push_back(std::move(t));
    }
    std::vector<AgentTask> merged;
    for (const auto& [is_group, i] : order)
        merged.push_back(is_group ? merge(std::move(groups[i]), by, values[i]) : std::move(out[i]));
    if (by == GroupBy::resource) note_other_resources(merged);
    return merged;
}

void GroupingSink::begin()
{
    m_batch.clear();
    m_inner.begin();
}

void GroupingSink::task(AgentTask&& t)
{
    if (m_by == GroupBy::finding) m_inner.task(std::move(t));
    else m_batch.push_back(std::move(t));
}

void GroupingSink::commit()
{
    for (auto& t : group_findings(std::move(m_batch), m_by)) m_inner.task(std::move(t));
    m_batch.clear();
    m_inner.commit();
}

void GroupingSink::abort()
{
    m_batch.clear();
    m_inner.abort();
}

}  // namespace infra::core::signals
