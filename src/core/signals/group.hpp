#pragma once
// Findings grouped into one task each (`pr.group_by`): the findings of one
// resource, file, Terraform root or rule become one task, so one branch
// and one pull request, and two open bot pull requests never change the
// same lines. A group's dedupe key is stable across runs: a later report
// with more or fewer findings in it updates the same pull request.

#include "core/result.hpp"
#include "core/signals/signal.hpp"
#include "core/task.hpp"

#include <string_view>
#include <vector>

namespace infra::core::signals {

enum class GroupBy { resource, file, root, rule, finding };

/// resource, file, root, rule or finding; anything else is a usage error naming where.
Result<GroupBy> parse_group_by(std::string_view s, std::string_view where = "pr.group_by");
std::string_view to_string(GroupBy by);

/// The compliance-remediation tasks of tasks merged by group, in the order
/// each group's first finding came; other tasks pass through as they are.
/// A group's task carries payload.findings (every finding, each with its
/// own dedupe key as "key" and the hash of what it says as "content"),
/// payload.finding (the most severe), payload.group {by, value}, the
/// highest priority of its findings, and the group's dedupe key; a task
/// that is a group already passes through. With
/// GroupBy::finding each finding stays its own task, as it was.
std::vector<AgentTask> group_findings(std::vector<AgentTask> tasks, GroupBy by);

/// A sink that groups each document's tasks before passing them on.
class GroupingSink final : public Sink {
public:
    GroupingSink(Sink& inner, GroupBy by) : m_inner(inner), m_by(by) {}
    void begin() override;
    /// With GroupBy::finding a task goes straight on, so memory does not grow with the document.
    void task(AgentTask&& t) override;
    void commit() override;
    void abort() override;
    void skip(const std::string& reason) override { m_inner.skip(reason); }
    void reject(const Error& e) override { m_inner.reject(e); }

private:
    Sink& m_inner;
    GroupBy m_by;
    std::vector<AgentTask> m_batch;
};

}  // namespace infra::core::signals
