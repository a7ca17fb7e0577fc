// A claimed lease read once at the worker boundary: the queue's JSON becomes
// a typed task and decision, and JSON that does not read says which field.
#include "core/claimed_task.hpp"

#include <gtest/gtest.h>

using namespace infra::core;

namespace {

queue::Lease lease_of(json task, json decision)
{
    queue::Lease l;
    l.id = "t1";
    l.task = std::move(task);
    l.decision = std::move(decision);
    return l;
}

json stored_task()
{
    return json::parse(R"({
      "id": "t1", "type": "compliance-remediation",
      "trigger": {"source": "webhook", "provider": "checkov", "timestamp": "2026-11-24T12:00:00.000Z"},
      "context": {"organizationId": "acme", "repositoryId": "acme/infra", "agentSlug": "builtin", "priority": "high", "resource": "aws_s3_bucket.logs"},
      "payload": {"finding": {"canonicalRuleId": "CKV_AWS_18", "file": "main.tf", "startLine": 3}},
      "dedupeKey": "k-t1", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    })");
}

json stored_decision()
{
    return json::parse(R"({
      "allowed": true, "tier": 2, "reason": "allowed", "requiredApprovals": ["platform"],
      "constraints": {"maxIterations": 5, "timeoutMs": 1000, "allowedTools": ["read_file"], "deniedTools": ["run_command"],
                      "allowedPaths": ["*.tf"], "requiresPR": true, "requiresValidation": true, "allowUnsandboxed": true,
                      "allowDeletes": true, "planScope": ["module.*"]},
      "matchedRules": ["org/fix"], "priority": "critical", "compliance": ["SOC2 CC6.1"], "drift": {"mode": "report"},
      "policyDigest": "sha256:abc"
    })");
}

std::string task_error(json task)
{
    auto t = read_claimed_task(lease_of(std::move(task), stored_decision()));
    return t ? std::string() : t.error().message;
}

std::string decision_error(json decision)
{
    auto d = read_claimed_decision(lease_of(stored_task(), std::move(decision)));
    return d ? std::string() : d.error().message;
}

}  // namespace

TEST(ClaimedTask, AStoredTaskAndDecisionReadToTypedFields)
{
    auto lease = lease_of(stored_task(), stored_decision());
    auto task = read_claimed_task(lease);
    ASSERT_TRUE(task) << task.error().message;
    EXPECT_EQ(task->id, "t1");
    EXPECT_EQ(task->type, TaskType::compliance_remediation);
    EXPECT_EQ(task->context.repository_id, "acme/infra");
    EXPECT_EQ(task->context.priority, Priority::high);
    EXPECT_EQ(task->dedupe_key, "k-t1");
    EXPECT_EQ(task->traceparent, stored_task()["traceparent"].get<std::string>());
    EXPECT_EQ(to_json(*task), stored_task()) << "what the queue stores is what the task writes back";

    auto d = read_claimed_decision(lease);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_TRUE(d->allowed);
    EXPECT_EQ(d->tier, 2);
    EXPECT_EQ(d->max_iterations, 5);
    EXPECT_EQ(d->timeout_ms, 1000);
    EXPECT_EQ(d->allowed_tools, std::vector<std::string>{"read_file"});
    EXPECT_EQ(d->denied_tools, std::vector<std::string>{"run_command"});
    EXPECT_EQ(d->allowed_paths, std::vector<std::string>{"*.tf"});
    EXPECT_TRUE(d->requires_validation);
    EXPECT_TRUE(d->allow_unsandboxed);
    EXPECT_TRUE(d->allow_deletes);
    EXPECT_EQ(d->plan_scope, std::vector<std::string>{"module.*"});
    EXPECT_EQ(d->required_approvals, std::vector<std::string>{"platform"});
    EXPECT_EQ(d->priority, Priority::critical);
    EXPECT_EQ(d->drift_mode, "report");
    EXPECT_EQ(d->rule_names(), std::vector<std::string>{"org/fix"});
    EXPECT_EQ(policy::to_json(*d), stored_decision()) << "what the queue stores is what the decision writes back";
}

TEST(ClaimedTask, AGroupKeepsEachFinding)
{
    json t = stored_task();
    t["payload"] =
        json::parse(R"({"findings": [{"canonicalRuleId": "CKV_AWS_18", "key": "a", "file": "main.tf", "startLine": 3},
                                                {"canonicalRuleId": "CKV_AWS_21", "key": "b", "resource": "aws_s3_bucket.x"}]})");
    auto task = read_claimed_task(lease_of(t, stored_decision()));
    ASSERT_TRUE(task) << task.error().message;
    auto findings = findings_of(task->payload);
    ASSERT_EQ(findings.size(), 2u);
    EXPECT_EQ(findings[0].canonical_rule_id, "CKV_AWS_18");
    EXPECT_EQ(findings[0].location(), "main.tf:3");
    EXPECT_EQ(findings[1].key, "b");
    EXPECT_EQ(findings[1].resource, "aws_s3_bucket.x");
}

TEST(ClaimedTask, ATaskThatDoesNotReadNamesTheTaskAndTheField)
{
    json t = stored_task();
    t.erase("context");
    EXPECT_EQ(task_error(t), "task 't1' in the queue cannot be read: context: missing");
    t = stored_task();
    t["context"]["priority"] = 3;
    EXPECT_EQ(task_error(t), "task 't1' in the queue cannot be read: context.priority: expected a string, got number");
    t = stored_task();
    t["trigger"]["provider"] = "";
    EXPECT_EQ(task_error(t), "task 't1' in the queue cannot be read: trigger.provider: empty");
    t = stored_task();
    t["payload"] = json::array();
    EXPECT_EQ(task_error(t), "task 't1' in the queue cannot be read: payload: expected an object, got array");
}

TEST(ClaimedTask, ADecisionThatDoesNotReadNamesTheField)
{
    const std::string at = "task 't1' in the queue cannot be read: ";
    json d = stored_decision();
    d.erase("tier");
    EXPECT_EQ(decision_error(d), at + "decision.tier: missing");
    d = stored_decision();
    d["allowed"] = "yes";
    EXPECT_EQ(decision_error(d), at + "decision.allowed: expected a boolean, got string");
    d = stored_decision();
    d["constraints"]["timeoutMs"] = "soon";
    EXPECT_EQ(decision_error(d), at + "decision.constraints.timeoutMs: expected a number, got string");
    d = stored_decision();
    d["constraints"]["allowedTools"] = json::array({1});
    EXPECT_EQ(decision_error(d), at + "decision.constraints.allowedTools: expected an array of strings, got array");
    d = stored_decision();
    d["constraints"] = json::array();
    EXPECT_EQ(decision_error(d), at + "decision.constraints: expected an object");
    d = stored_decision();
    d["drift"] = json::object();
    EXPECT_EQ(decision_error(d), at + "decision.drift.mode: missing");
    d = stored_decision();
    d["priority"] = "urgent";
    EXPECT_EQ(decision_error(d), at + "decision.priority: expected low, normal, high or critical, got 'urgent'");
    EXPECT_EQ(decision_error(json::array()), at + "decision: expected an object");
}
