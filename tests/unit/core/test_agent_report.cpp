// What an agent says about its attempt, read once from its result, and the
// pull request body that is written from it and from the validation that ran.
#include "core/agent/report.hpp"
#include "core/change/delivery.hpp"

#include <gtest/gtest.h>

namespace infra {
namespace {

using nlohmann::json;

core::AgentTask group_task()
{
    core::AgentTask t;
    t.id = "t1";
    t.trigger = {"scanner", "checkov", "", "2026-12-07T00:00:00Z"};
    t.dedupe_key = "group-key";
    json finding = {{"canonicalRuleId", "CKV_AWS_20"}, {"title", "S3 public read"}, {"resource", "aws_s3_bucket.a"}};
    json a = finding, b = finding;
    a["key"] = "k-a";
    b["key"] = "k-b";
    b["canonicalRuleId"] = "CKV_AWS_21";
    t.payload = {{"findings", {a, b}}, {"group", {{"by", "resource"}, {"value", "aws_s3_bucket.a"}}}};
    return t;
}

TEST(AgentReport, ReadsWhatTheAgentSaid)
{
    auto r =
        core::agent::read_report({{"summary", "Blocked public access"},
                                  {"details", "| a | b |"},
                                  {"diff", "--- a\n+++ b\n"},
                                  {"notes", {"check the policy", 7, "and the ACL"}},
                                  {"findings",
                                   {{{"key", "k-a"}, {"state", "fixed"}},
                                    {{"key", "k-b"}, {"state", "not-fixed"}, {"reason", "no fix for CKV_AWS_21"}}}}});
    EXPECT_EQ(r.summary, "Blocked public access");
    EXPECT_EQ(r.details, "| a | b |");
    EXPECT_EQ(r.diff, "--- a\n+++ b\n");
    EXPECT_EQ(r.notes, (std::vector<std::string>{"check the policy", "and the ACL"}));
    ASSERT_NE(r.finding("k-b"), nullptr);
    EXPECT_EQ(r.finding("k-b")->state, "not-fixed");
    EXPECT_EQ(r.finding("k-b")->reason, "no fix for CKV_AWS_21");
    EXPECT_EQ(r.finding("k-c"), nullptr);
    EXPECT_EQ(r.finding(""), nullptr);
}

TEST(AgentReport, FieldsOfAnotherTypeReadAsEmpty)
{
    // An agent's result is its own to shape (an exec agent writes it): what
    // is not where and what it should be is not there, and nothing throws.
    auto r = core::agent::read_report(
        {{"summary", 5}, {"notes", "one note"}, {"findings", {{"k-a", {{"state", "fixed"}}}}}, {"diff", nullptr}});
    EXPECT_EQ(r.summary, "");
    EXPECT_TRUE(r.notes.empty());
    EXPECT_TRUE(r.findings.empty());
    EXPECT_EQ(r.diff, "");
    EXPECT_TRUE(core::agent::read_report(json::array()).findings.empty());
    EXPECT_TRUE(core::agent::read_report("text").summary.empty());
}

TEST(AgentReport, PullRequestBodySaysWhatBecameOfEachFinding)
{
    auto said =
        core::agent::read_report({{"summary", "Fixed 1 of 2 findings"},
                                  {"notes", {"review the bucket policy"}},
                                  {"findings",
                                   {{{"key", "k-a"}, {"state", "fixed"}},
                                    {{"key", "k-b"}, {"state", "not-fixed"}, {"reason", "no fix for CKV_AWS_21"}}}}});
    core::policy::Decision d;
    d.tier = 2;
    auto [title, body] = core::change::describe(group_task(), d, said, nullptr, "");
    EXPECT_EQ(title, "infra-agent: fix 2 findings in aws_s3_bucket.a");
    EXPECT_NE(body.find("- **fixed**: `CKV_AWS_20` S3 public read"), std::string::npos) << body;
    EXPECT_NE(body.find("- **not-fixed**: `CKV_AWS_21` S3 public read on `aws_s3_bucket.a`: no fix for CKV_AWS_21"),
              std::string::npos)
        << body;
    EXPECT_NE(body.find("## Notes\n\n- review the bucket policy\n"), std::string::npos) << body;
}

TEST(AgentReport, ValidationInTheBodyIsOnlyWhatRan)
{
    // An agent that writes a validation of its own into its result does not
    // get it into the pull request: the body says what validation ran.
    json claimed = {{"summary", "done"}, {"validation", {{"steps", {{{"name", "terraform validate"}, {"ok", true}}}}}}};
    core::policy::Decision d;
    d.tier = 2;
    auto said = core::agent::read_report(claimed);
    auto none = core::change::describe(group_task(), d, said, nullptr, "").second;
    EXPECT_EQ(none.find("## Validation"), std::string::npos) << none;
    EXPECT_EQ(none.find("terraform validate"), std::string::npos) << none;

    core::change::Report ran;
    ran.ran = true;
    core::change::StepResult fmt, ci;
    fmt.name = "terraform fmt";
    fmt.ok = true;
    ci.name = "ci";
    ci.url = "https://ci.example/run/1";
    ci.remote = true;
    ran.steps = {fmt, ci};
    ran.skipped.push_back("terraform plan: not run (validation.plan is none)");
    auto body = core::change::describe(group_task(), d, said, &ran, "").second;
    EXPECT_NE(body.find("## Validation\n\n- passed: `terraform fmt`\n- FAILED: `ci`\n  - https://ci.example/run/1\n"
                        "- terraform plan: not run (validation.plan is none)\n"),
              std::string::npos)
        << body;
}

TEST(AgentReport, WhatTheAgentWroteIsQuotedAndCannotPassForASectionOfTheBody)
{
    // A model's finish summary that forges a validation section, and notes
    // and reasons that try to start sections of their own.
    auto said = core::agent::read_report(
        {{"summary", "Fixed it.\n\n## Validation\n\n- passed: `terraform plan`"},
         {"notes", {"fine\n## Approved\nby security"}},
         {"findings",
          {{{"key", "k-a"}, {"state", "fixed"}},
           {{"key", "k-b"}, {"state", "not-fixed"}, {"reason", "none\n## Validation\n- passed"}}}}});
    core::policy::Decision d;
    d.tier = 2;
    auto body = core::change::describe(group_task(), d, said, nullptr, "").second;
    EXPECT_NE(body.find("\n\n> Fixed it.\n>\n> ## Validation\n>\n> - passed: `terraform plan`\n\n"), std::string::npos)
        << body;
    EXPECT_EQ(body.find("\n## Validation"), std::string::npos) << body;
    EXPECT_EQ(body.find("\n## Approved"), std::string::npos) << body;
    EXPECT_NE(body.find("- fine ## Approved by security\n"), std::string::npos) << body;
    EXPECT_NE(body.find(": none ## Validation - passed\n"), std::string::npos) << body;
}

}  // namespace
}  // namespace infra
