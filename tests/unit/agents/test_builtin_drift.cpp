// The builtin agent's drift pieces: literals read from and written to HCL,
// and what a plan's JSON says differs, attribute by attribute.
#include "core/drift.hpp"
#include "plugins/agents/builtin/literal.hpp"

#include <gtest/gtest.h>

using namespace infra::plugins::agents::builtin;
using nlohmann::json;

TEST(DriftLiteral, ReadsLiteralsAndRefusesExpressions)
{
    EXPECT_EQ(*literal_value(" \"v1\" "), json("v1"));
    EXPECT_EQ(*literal_value("\"a $${b} \\\"q\\\"\""), json("a ${b} \"q\""));
    EXPECT_EQ(*literal_value("-3.5"), json(-3.5));
    EXPECT_EQ(*literal_value("true"), json(true));
    EXPECT_EQ(*literal_value("null"), json(nullptr));
    EXPECT_EQ(*literal_value("[\"a\", 2, false,]"), json::parse(R"(["a", 2, false])"));
    EXPECT_EQ(*literal_value("{\n  team = \"x\" # owner\n  \"cost-center\" = 7\n}"),
              json::parse(R"({"team": "x", "cost-center": 7})"));
    for (const char* expr : {"var.size", "\"${var.a}-b\"", "\"%{if x}y%{endif}\"", "lower(\"A\")", "[var.a]",
                             "{ a = local.b }", "<<EOT\nx\nEOT", "\"a\" + 1"})
        EXPECT_FALSE(literal_value(expr)) << expr;
}

TEST(DriftLiteral, WritesValuesThatReadBackTheSame)
{
    for (const char* v : {R"("plain")", R"("with \"quotes\" and ${dollar} %{pct}\nline")", "42", "-1.25", "true",
                          "null", R"(["a", 1, [true]])", R"({"team": "x", "cost-center": 7, "nested": {"a": [1]}})"}) {
        json value = json::parse(v);
        auto back = literal_value(hcl_literal(value));
        ASSERT_TRUE(back) << hcl_literal(value);
        EXPECT_TRUE(same_value(*back, value)) << hcl_literal(value);
    }
    EXPECT_EQ(hcl_literal(json::parse(R"({"team": "x"})")), "{ team = \"x\" }");
    EXPECT_TRUE(same_value(json(3), json(3.0)));
    EXPECT_FALSE(same_value(json("3"), json(3)));
}

TEST(DriftPlan, AttributesOfResourceDriftAndUpdatesWithoutSensitiveValues)
{
    json plan = json::parse(R"({
      "resource_drift": [
        {"address": "testcloud_bucket.logs", "change": {"actions": ["update"],
          "before": {"name": "logs", "acl": "private", "tags": {"team": "a"}, "key": "k1"},
          "after": {"name": "logs", "acl": "public-read", "tags": {"team": "b"}, "key": "k2"},
          "before_sensitive": {"key": true}, "after_sensitive": {"key": true}}},
        {"address": "testcloud_bucket.old", "change": {"actions": ["delete"], "before": {"name": "old"}, "after": null}}
      ],
      "resource_changes": [
        {"address": "testcloud_bucket.logs", "change": {"actions": ["update"],
          "before": {"name": "logs", "acl": "public-read", "versioning": true},
          "after": {"name": "logs", "acl": "private", "versioning": false}, "after_unknown": {}}},
        {"address": "testcloud_bucket.old", "change": {"actions": ["create"], "before": null, "after": {"name": "old"}}},
        {"address": "terraform_data.app", "change": {"actions": ["update"],
          "before": {"input": "v2", "output": "v2"}, "after": {"input": "v1"}, "after_unknown": {"output": true}}},
        {"address": "terraform_data.new", "change": {"actions": ["create"], "before": null, "after": {"input": "x"}}},
        {"address": "terraform_data.orphan", "change": {"actions": ["delete"], "before": {"input": "x"}, "after": null}},
        {"address": "terraform_data.same", "change": {"actions": ["no-op"], "before": {}, "after": {}}}
      ]})");
    json got = infra::core::drift::resource_details(plan);
    json want = json::parse(R"([
      {"address": "testcloud_bucket.logs", "kind": "changed", "attributes": [
        {"name": "acl", "old": "private", "new": "public-read"},
        {"name": "key", "sensitive": true},
        {"name": "tags", "old": {"team": "a"}, "new": {"team": "b"}},
        {"name": "versioning", "old": false, "new": true}]},
      {"address": "testcloud_bucket.old", "kind": "deleted", "attributes": []},
      {"address": "terraform_data.app", "kind": "changed", "attributes": [{"name": "input", "old": "v1", "new": "v2"}]},
      {"address": "terraform_data.new", "kind": "not-in-state", "attributes": []},
      {"address": "terraform_data.orphan", "kind": "not-in-code", "attributes": []}
    ])");
    EXPECT_EQ(got, want) << got.dump(2);
    EXPECT_EQ(got.dump().find("k1"), std::string::npos);
}

TEST(DriftPlan, ResourcesAreListedInAddressOrderWhateverOrderTerraformReachedThem)
{
    // terraform's UI stream reports resources as its parallel walk reaches them.
    std::string stream =
        R"({"type":"resource_drift","change":{"resource":{"addr":"aws_s3_bucket.b"},"action":"update"}})"
        "\n"
        R"({"type":"planned_change","change":{"resource":{"addr":"aws_s3_bucket.z"},"action":"create"}})"
        "\n"
        R"({"type":"resource_drift","change":{"resource":{"addr":"aws_s3_bucket.a"},"action":"delete"}})"
        "\n"
        R"({"type":"planned_change","change":{"resource":{"addr":"aws_iam_role.r"},"action":"update"}})"
        "\n"
        R"({"type":"change_summary","changes":{"add":1,"change":1,"remove":0}})"
        "\n";
    infra::core::drift::Report r;
    infra::core::drift::read_plan_stream(stream, r);
    ASSERT_EQ(r.drift.size(), 2u);
    EXPECT_EQ(r.drift[0]["address"], "aws_s3_bucket.a");
    EXPECT_EQ(r.drift[1]["address"], "aws_s3_bucket.b");
    ASSERT_EQ(r.changes.size(), 2u);
    EXPECT_EQ(r.changes[0]["address"], "aws_iam_role.r");
    EXPECT_EQ(r.changes[1]["address"], "aws_s3_bucket.z");
    EXPECT_EQ(r.add, 1);
    EXPECT_EQ(r.change, 1);
}
