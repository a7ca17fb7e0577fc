#include "core/task.hpp"

#include <gtest/gtest.h>

using namespace infra::core;

namespace {

json valid_task()
{
    return json::parse(R"({
      "id": "01M86TZH12FPQAZA78N10Q24F2",
      "type": "compliance-remediation",
      "trigger": {"source": "webhook", "provider": "github", "sourceId": "42", "timestamp": "2026-11-24T12:00:00Z"},
      "context": {"organizationId": "acme", "repositoryId": "acme/infra", "agentSlug": "builtin",
                  "priority": "high", "environment": "production", "resource": "aws_s3_bucket.logs"},
      "payload": {"finding": {"ruleId": "CKV_AWS_18"}},
      "dedupeKey": "25e037cfc583a4f844408b6b30d8d31a",
      "decision": {"allowed": true}
    })");
}

std::string error_of(json j, bool complete = true)
{
    auto t = task_from_json(j, complete);
    return t ? std::string() : t.error().message;
}

}  // namespace

TEST(AgentTask, RoundTripsThroughJson)
{
    json in = valid_task();
    auto t = task_from_json(in);
    ASSERT_TRUE(t) << t.error().message;
    json out = to_json(*t);
    in["trigger"]["timestamp"] = "2026-11-24T12:00:00.000Z";  // normalized to milliseconds
    EXPECT_EQ(out, in);
    auto again = task_from_json(out);
    ASSERT_TRUE(again);
    EXPECT_EQ(to_json(*again), out);
}

TEST(AgentTask, KeepsFieldsAddedByLaterSteps)
{
    auto t = task_from_json(valid_task());
    ASSERT_TRUE(t);
    EXPECT_EQ(t->extra["decision"]["allowed"], true);
}

TEST(AgentTask, ErrorsNameTheField)
{
    json j = valid_task();
    j["context"]["priority"] = "urgent";
    EXPECT_EQ(error_of(j), "context.priority: expected one of low, normal, high or critical, got 'urgent'");

    j = valid_task();
    j["type"] = "deploy";
    EXPECT_NE(error_of(j).find("type: expected one of compliance-remediation"), std::string::npos);

    j = valid_task();
    j["trigger"].erase("provider");
    EXPECT_EQ(error_of(j), "trigger.provider: missing");

    j = valid_task();
    j["trigger"]["timestamp"] = "soon";
    EXPECT_NE(error_of(j).find("trigger.timestamp: expected an RFC 3339 time"), std::string::npos);

    j = valid_task();
    j["context"] = "acme";
    EXPECT_EQ(error_of(j), "context: expected an object, got string");

    j = valid_task();
    j["payload"] = json::array();
    EXPECT_EQ(error_of(j), "payload: expected an object, got array");

    j = valid_task();
    for (const std::string& bad : std::vector<std::string>{"../../etc/passwd", ".", "..", "a/b", "a.b", "a:b", std::string(129, 'x')}) {
        j["id"] = bad;
        EXPECT_NE(error_of(j).find("id: expected 1 to 128 ASCII letters, digits, '-' or '_'"), std::string::npos) << bad;
    }
    j["id"] = std::string(128, 'x');
    EXPECT_EQ(error_of(j), "");

    EXPECT_EQ(error_of(json::array()), "task: expected an object, got array");
}

TEST(AgentTask, IncompleteTasksMayLackIdsUntilIngestFillsThem)
{
    json j = valid_task();
    j.erase("id");
    j.erase("dedupeKey");
    j["trigger"].erase("timestamp");
    EXPECT_EQ(error_of(j), "id: missing");
    EXPECT_EQ(error_of(j, false), "");
}

TEST(AgentTask, NumericSourceIdsBecomeStrings)
{
    json j = valid_task();
    j["trigger"]["sourceId"] = 7;
    auto t = task_from_json(j);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->trigger.source_id, "7");
}
