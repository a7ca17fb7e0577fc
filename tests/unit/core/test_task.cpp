#include "core/task.hpp"
#include "core/task_json.hpp"

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

TEST(AgentTask, IsWrittenAsItsJsonDumps)
{
    auto t = task_from_json(valid_task());
    ASSERT_TRUE(t) << t.error().message;
    auto check = [](const AgentTask& task) {
        std::string out;
        append_task_json(out, task);
        EXPECT_EQ(out, to_json(task).dump(-1, ' ', false, json::error_handler_t::replace));
    };
    check(*t);

    AgentTask bare = *t;
    bare.trigger.source_id.clear();
    bare.context.environment.clear();
    bare.context.resource.clear();
    bare.extra = json::object();
    check(bare);

    // The traceparent sorts among the task's own members, between payload and trigger.
    bare.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    check(bare);
    bare.traceparent = "";
    check(bare);

    // Members added later sort among the task's own; one of the same name replaces it.
    t->traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    t->extra["aardvark"] = 1;
    t->extra["dedupeKey"] = "replaced";
    t->extra["payloadNote"] = {{"b", 2.5}, {"a", nullptr}};
    t->extra["tracer"] = "after traceparent, before trigger";
    t->extra["zz"] = json::array({true, "x"});
    check(*t);
    t->extra["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    t->context.resource = "caf\xc3\xa9 \"quoted\"\n";
    t->trigger.provider = "bad \xff byte";
    t->payload["finding"]["title"] = "ctrl \x01";
    check(*t);
}

TEST(AgentTask, ATraceparentIsATypedFieldThatRoundTrips)
{
    const std::string tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    json in = valid_task();
    in["trigger"]["timestamp"] = "2026-11-24T12:00:00.000Z";
    in["traceparent"] = tp;
    auto t = task_from_json(in);
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->traceparent, tp);
    EXPECT_FALSE(t->extra.contains("traceparent")) << "read once, into its field";
    EXPECT_EQ(to_json(*t), in);
    std::string line;
    append_task_json(line, *t);
    EXPECT_EQ(line, in.dump());
    EXPECT_LT(line.find("\"payload\""), line.find("\"traceparent\""));
    EXPECT_LT(line.find("\"traceparent\""), line.find("\"trigger\""));

    in.erase("traceparent");
    auto none = task_from_json(in);
    ASSERT_TRUE(none) << none.error().message;
    EXPECT_EQ(none->traceparent, std::nullopt);
    EXPECT_EQ(to_json(*none), in);
    line.clear();
    append_task_json(line, *none);
    EXPECT_EQ(line, in.dump());
    EXPECT_EQ(line.find("traceparent"), std::string::npos);

    in["traceparent"] = nullptr;
    auto null = task_from_json(in);
    ASSERT_TRUE(null) << null.error().message;
    EXPECT_EQ(null->traceparent, std::nullopt) << "null is no traceparent, as for every optional field";

    in["traceparent"] = 42;
    EXPECT_EQ(error_of(in), "traceparent: expected a string, got number");
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
    for (const std::string& bad :
         std::vector<std::string>{"../../etc/passwd", ".", "..", "a/b", "a.b", "a:b", std::string(129, 'x')}) {
        j["id"] = bad;
        EXPECT_NE(error_of(j).find("id: expected 1 to 128 ASCII letters, digits, '-' or '_'"), std::string::npos)
            << bad;
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

TEST(TaskFinding, AGroupListsItsFindingsAndASingleTaskItsOne)
{
    json one = {{"tool", "checkov"},
                {"ruleId", "CKV_AWS_20"},
                {"canonicalRuleId", "CKV_AWS_20"},
                {"resource", "aws_s3_bucket.logs"},
                {"file", "s3.tf"},
                {"startLine", 12},
                {"severity", "high"}};
    auto single = findings_of({{"finding", one}});
    ASSERT_EQ(single.size(), 1u);
    EXPECT_EQ(single[0].canonical_rule_id, "CKV_AWS_20");
    EXPECT_EQ(single[0].resource, "aws_s3_bucket.logs");
    EXPECT_EQ(single[0].location(), "s3.tf:12");
    EXPECT_EQ(single[0].key, "");
    EXPECT_EQ(single[0].raw["tool"], "checkov");

    json second = one;
    second["canonicalRuleId"] = "CKV_AWS_21";
    second["key"] = "k2";
    second["content"] = "c2";
    second.erase("startLine");
    auto group = findings_of({{"finding", one}, {"findings", json::array({one, second, "not a finding"})}});
    ASSERT_EQ(group.size(), 2u) << "the group's list wins over its first finding, and what is not an object is skipped";
    EXPECT_EQ(group[1].canonical_rule_id, "CKV_AWS_21");
    EXPECT_EQ(group[1].key, "k2");
    EXPECT_EQ(group[1].content, "c2");
    EXPECT_EQ(group[1].location(), "s3.tf");

    EXPECT_TRUE(findings_of({{"alertname", "HighErrorRate"}}).empty());
    auto wrong = finding_from_json({{"startLine", "12"}, {"resource", 5}});
    EXPECT_EQ(wrong.start_line, 0) << "fields of another type are empty, not an exception";
    EXPECT_EQ(wrong.resource, "");
}

TEST(TaskPayload, AGroupARootDriftAndOtherResourcesReadTyped)
{
    auto payload = json::parse(R"({
        "group": {"by": "rule", "value": "CKV_AWS_20"},
        "root": "envs/prod//",
        "drift": [{"address": "aws_s3_bucket.a", "action": "update"}, {"action": "delete"}],
        "resources": [{"address": "aws_s3_bucket.b", "kind": "changed"}],
        "otherResources": ["aws_s3_bucket.c", 7, "aws_s3_bucket.d"]
    })");
    auto g = group_of(payload);
    EXPECT_EQ(g.by, "rule");
    EXPECT_EQ(g.value, "CKV_AWS_20");
    EXPECT_EQ(root_of(payload), "envs/prod");
    EXPECT_EQ(drifted_addresses(payload), (std::vector<std::string>{"aws_s3_bucket.a", "aws_s3_bucket.b"}));
    EXPECT_EQ(other_resources(payload), (std::vector<std::string>{"aws_s3_bucket.c", "aws_s3_bucket.d"}));

    // A payload that names none of them, or names them with other types, reads as empty.
    auto odd = json::parse(R"({"group": "rule", "root": 3, "drift": {"address": "x"}, "otherResources": "y"})");
    EXPECT_TRUE(group_of(odd).by.empty());
    EXPECT_EQ(root_of(odd), "");
    EXPECT_TRUE(drifted_addresses(odd).empty());
    EXPECT_TRUE(other_resources(odd).empty());
    EXPECT_EQ(root_of(json::parse(R"({"root": "/"})")), "/");
}
