// The fix rules format (share/fixes/<family>.yaml): what the loader refuses,
// and what the engine writes for nested blocks, companions and variables.
#include "core/hcl/hcl.hpp"
#include "plugins/agents/builtin/rule_checks.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>

using namespace infra;
using infra::plugins::agents::builtin::Check;
using infra::plugins::agents::builtin::FixContext;
using infra::plugins::agents::builtin::Module;
using infra::plugins::agents::builtin::parse_rules;

namespace {

Module module_of(const std::string& text)
{
    Module m;
    auto f = core::hcl::parse(text, "main.tf");
    EXPECT_TRUE(f) << f.error().message;
    m.files.emplace("main.tf", std::move(*f));
    return m;
}

// Fixes type.name with the check; returns the fixed main.tf.
std::string fixed(const Check& check, const std::string& text, const std::string& type, const std::string& name,
                  std::vector<std::pair<std::string, std::string>>* variables = nullptr)
{
    Module m = module_of(text);
    auto [file, block] = m.find(type, name);
    EXPECT_TRUE(check.fails(m, *file, *block));
    FixContext fc{m, *file, *block, {}, {}, nullptr, {}};
    check.fix(fc);
    if (variables) *variables = fc.variables;
    auto out = m.editor("main.tf").apply("main.tf");
    EXPECT_TRUE(out) << out.error().message;
    Module after = module_of(*out);
    auto [f2, b2] = after.find(type, name);
    EXPECT_FALSE(check.fails(after, *f2, *b2)) << *out;
    return *out;
}

std::string error_of(const std::string& yaml)
{
    auto r = parse_rules(yaml, "fixes/test.yaml");
    EXPECT_FALSE(r);
    return r ? std::string() : r.error().message;
}

}  // namespace

TEST(FixRules, RefuseUnknownKeysNamingFileAndCheck)
{
    auto e = error_of("checks:\n  - id: CKV_X_1\n    title: t\n    types: [aws_x]\n    requires: []\n");
    EXPECT_NE(e.find("fixes/test.yaml: CKV_X_1"), std::string::npos) << e;
    EXPECT_NE(e.find("unknown key 'requires'"), std::string::npos) << e;
}

TEST(FixRules, RefuseAConditionWithNothingToWrite)
{
    auto e = error_of("checks:\n  - id: CKV_X_2\n    title: t\n    types: [aws_x]\n    require:\n"
                      "      - attribute: kms_key_id\n        present: true\n");
    EXPECT_NE(e.find("'kms_key_id' has no value to write"), std::string::npos) << e;
}

TEST(FixRules, RefuseTwoTestsInOneCondition)
{
    auto e = error_of("checks:\n  - id: CKV_X_3\n    title: t\n    types: [aws_x]\n    require:\n"
                      "      - attribute: a\n        equals: true\n        in: [x]\n");
    EXPECT_NE(e.find("needs exactly one of"), std::string::npos) << e;
}

TEST(FixRules, RefuseAnIdDefinedTwiceAcrossFiles)
{
    test::TempDir dir;
    std::string rule = "checks:\n  - id: CKV_X_4\n    title: t\n    types: [aws_x]\n    require:\n"
                       "      - attribute: a\n        equals: true\n";
    test::write_file(dir / "a.yaml", rule);
    test::write_file(dir / "b.yaml", rule);
    auto r = plugins::agents::builtin::load_rules(dir.path());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("CKV_X_4 is already defined in another file"), std::string::npos)
        << r.error().message;
}

TEST(FixRules, NestedConditionsCreateOneBlock)
{
    auto checks = parse_rules("checks:\n  - id: CKV_X_5\n    title: t\n    types: [aws_instance]\n    require:\n"
                              "      - attribute: metadata_options.http_tokens\n        equals: required\n"
                              "      - attribute: metadata_options.http_endpoint\n        equals: enabled\n",
                              "t.yaml");
    ASSERT_TRUE(checks) << checks.error().message;
    std::string out =
        fixed(checks->front(), "resource \"aws_instance\" \"i\" {\n  ami = \"x\"\n}\n", "aws_instance", "i");
    EXPECT_EQ(
        out,
        "resource \"aws_instance\" \"i\" {\n  ami = \"x\"\n  metadata_options {\n    http_tokens   = \"required\"\n"
        "    http_endpoint = \"enabled\"\n  }\n}\n");
}

TEST(FixRules, AMissingCompanionIsAddedAfterTheResource)
{
    auto checks = parse_rules(R"(checks:
  - id: CKV_X_6
    title: versioning
    types: [aws_s3_bucket]
    companion:
      type: aws_s3_bucket_versioning
      reference: bucket
      require:
        - attribute: versioning_configuration.status
          equals: Enabled
      add: |
        resource "aws_s3_bucket_versioning" "${name}" {
          bucket = aws_s3_bucket.${name}.id
          versioning_configuration {
            status = "Enabled"
          }
        }
)",
                              "t.yaml");
    ASSERT_TRUE(checks) << checks.error().message;
    std::string out =
        fixed(checks->front(), "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n", "aws_s3_bucket", "b");
    EXPECT_NE(out.find("resource \"aws_s3_bucket_versioning\" \"b\" {\n  bucket = aws_s3_bucket.b.id"),
              std::string::npos)
        << out;
    // An existing companion is fixed in place instead.
    std::string suspended = "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n\n"
                            "resource \"aws_s3_bucket_versioning\" \"v\" {\n  bucket = aws_s3_bucket.b.id\n"
                            "  versioning_configuration {\n    status = \"Suspended\"\n  }\n}\n";
    out = fixed(checks->front(), suspended, "aws_s3_bucket", "b");
    EXPECT_EQ(out.find("\"aws_s3_bucket_versioning\" \"b\""), std::string::npos) << out;
    EXPECT_NE(out.find("status = \"Enabled\""), std::string::npos) << out;
}

TEST(FixRules, OwnerOnlyValuesAreVariablesWithoutDefault)
{
    auto checks =
        parse_rules("checks:\n  - id: CKV_X_7\n    title: t\n    types: [aws_cloudwatch_log_group]\n    require:\n"
                    "      - attribute: kms_key_id\n        present: true\n        fix: var.k\n"
                    "    variables:\n      - name: k\n        description: The key.\n",
                    "t.yaml");
    ASSERT_TRUE(checks) << checks.error().message;
    std::vector<std::pair<std::string, std::string>> vars;
    std::string out = fixed(checks->front(), "resource \"aws_cloudwatch_log_group\" \"g\" {\n  name = \"g\"\n}\n",
                            "aws_cloudwatch_log_group", "g", &vars);
    EXPECT_NE(out.find("kms_key_id = var.k"), std::string::npos) << out;
    ASSERT_EQ(vars.size(), 1u);
    EXPECT_EQ(vars[0].second, "variable \"k\" {\n  description = \"The key.\"\n  type        = string\n}\n");
}

TEST(FixRules, ValuesDecidedAtPlanTimeAreNotJudged)
{
    auto checks = parse_rules("checks:\n  - id: CKV_X_8\n    title: t\n    types: [aws_ecr_repository]\n    require:\n"
                              "      - attribute: image_tag_mutability\n        equals: IMMUTABLE\n",
                              "t.yaml");
    ASSERT_TRUE(checks) << checks.error().message;
    Module m = module_of("variable \"m\" {\n  default = \"MUTABLE\"\n}\nvariable \"n\" {}\n"
                         "resource \"aws_ecr_repository\" \"a\" {\n  image_tag_mutability = var.m\n}\n"
                         "resource \"aws_ecr_repository\" \"b\" {\n  image_tag_mutability = var.n\n}\n");
    auto [fa, a] = m.find("aws_ecr_repository", "a");
    auto [fb, b] = m.find("aws_ecr_repository", "b");
    EXPECT_TRUE(checks->front().fails(m, *fa, *a));   // the default is known, and wrong
    EXPECT_FALSE(checks->front().fails(m, *fb, *b));  // the owner sets it
}

TEST(FixRules, AListThatLacksItemsKeepsItsItemsAndItsLayout)
{
    auto checks =
        parse_rules("checks:\n  - id: CKV_X_9\n    title: t\n    types: [aws_eks_cluster]\n    require:\n"
                    "      - attribute: enabled_cluster_log_types\n        contains: [api, audit, scheduler]\n",
                    "t.yaml");
    ASSERT_TRUE(checks) << checks.error().message;
    std::string out =
        fixed(checks->front(),
              "resource \"aws_eks_cluster\" \"c\" {\n  enabled_cluster_log_types = [\n    \"api\",\n  ]\n}\n",
              "aws_eks_cluster", "c");
    EXPECT_EQ(out,
              "resource \"aws_eks_cluster\" \"c\" {\n  enabled_cluster_log_types = [\n    \"api\",\n    \"audit\",\n"
              "    \"scheduler\",\n  ]\n}\n");
    out = fixed(checks->front(), "resource \"aws_eks_cluster\" \"c\" {\n  enabled_cluster_log_types = [\"audit\"]\n}\n",
                "aws_eks_cluster", "c");
    EXPECT_NE(out.find("enabled_cluster_log_types = [\"audit\", \"api\", \"scheduler\"]"), std::string::npos) << out;
}

TEST(FixRules, AlternativesConditionsAndCompanionAttributes)
{
    auto checks = parse_rules(R"(checks:
  - id: CKV_X_10
    title: t
    types: [aws_sqs_queue]
    require:
      - any:
          - attribute: kms_master_key_id
            present: true
            fix: '"alias/aws/sqs"'
          - attribute: sqs_managed_sse_enabled
            equals: true
      - attribute: kms_data_key_reuse_period_seconds
        at_most: 3600
        fix: "300"
        when:
          - attribute: kms_master_key_id
            present: true
    also:
      - attribute: kms_data_key_reuse_period_seconds
        fix: "300"
)",
                              "t.yaml");
    ASSERT_TRUE(checks) << checks.error().message;
    const Check& c = checks->front();
    Module m = module_of("resource \"aws_sqs_queue\" \"sse\" {\n  sqs_managed_sse_enabled = true\n}\n"
                         "resource \"aws_sqs_queue\" \"long\" {\n  kms_master_key_id = \"k\"\n  "
                         "kms_data_key_reuse_period_seconds = 86400\n}\n");
    auto [f1, sse] = m.find("aws_sqs_queue", "sse");
    auto [f2, long_reuse] = m.find("aws_sqs_queue", "long");
    EXPECT_FALSE(c.fails(m, *f1, *sse));        // the second alternative is enough
    EXPECT_TRUE(c.fails(m, *f2, *long_reuse));  // the condition holds where a key is set
    // The first alternative is written, with the attribute that goes with it.
    std::string out = fixed(c, "resource \"aws_sqs_queue\" \"q\" {\n  name = \"q\"\n}\n", "aws_sqs_queue", "q");
    EXPECT_EQ(
        out, "resource \"aws_sqs_queue\" \"q\" {\n  name                              = \"q\"\n"
             "  kms_master_key_id                 = \"alias/aws/sqs\"\n  kms_data_key_reuse_period_seconds = 300\n}\n");
}
