// Every builtin fix on a small failing resource: the detector fails it
// before and passes it after, the edit keeps the rest of the file, and the
// result is what terraform fmt accepts.
#include "core/agent/tools.hpp"
#include "core/events/event.hpp"
#include "core/sandbox.hpp"
#include "plugins/agents/builtin/agent.hpp"
#include "plugins/agents/builtin/checks.hpp"
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace infra;
using infra::test::read_file;
using infra::test::TempDir;
using infra::test::write_file;

namespace {

struct FixCase {
    std::string check;
    std::string resource;  // type.name
    std::string tf;        // main.tf before
    std::string must_contain;
};

bool terraform_available()
{
    return std::filesystem::exists("/usr/local/bin/terraform") || std::filesystem::exists("/usr/bin/terraform");
}

std::string terraform()
{
    return std::filesystem::exists("/usr/local/bin/terraform") ? "/usr/local/bin/terraform" : "/usr/bin/terraform";
}

core::agent::Outcome run_builtin(const std::filesystem::path& ws_dir, const std::string& check,
                                 const std::string& resource, const core::sandbox::Sandbox* sandbox,
                                 core::events::MemorySink& events)
{
    core::AgentTask task;
    task.id = "T1";
    task.context.agent_slug = "builtin";
    task.context.resource = resource;
    task.payload = {{"finding", {{"canonicalRuleId", check}, {"file", "main.tf"}, {"resource", resource}}}};
    core::policy::Decision decision;
    decision.allowed = true;
    decision.max_iterations = 3;
    auto ws = core::Workspace::open(ws_dir);
    auto agent = plugins::agents::make_builtin();
    core::agent::RunContext ctx{task,
                                decision,
                                1,
                                0,
                                std::chrono::steady_clock::now() + std::chrono::minutes(1),
                                [] { return false; },
                                events,
                                &*ws,
                                sandbox,
                                nlohmann::json(),
                                "",
                                ""};
    return agent->run(ctx);
}

}  // namespace

class BuiltinFix : public ::testing::TestWithParam<FixCase> {};

TEST_P(BuiltinFix, FixesAndKeepsTerraformFmtHappy)
{
    const auto& c = GetParam();
    TempDir dir;
    write_file(dir / "ws/main.tf", c.tf);
    core::events::MemorySink events;
    auto out = run_builtin(dir / "ws", c.check, c.resource, nullptr, events);
    ASSERT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.result["changed"], true);
    std::string after = read_file(dir / "ws/main.tf");
    EXPECT_NE(after.find(c.must_contain), std::string::npos) << after;
    EXPECT_NE(out.result["diff"].get<std::string>().find("+"), std::string::npos);
    // Running again finds nothing to do.
    auto again = run_builtin(dir / "ws", c.check, c.resource, nullptr, events);
    ASSERT_TRUE(again.ok) << again.error;
    EXPECT_EQ(again.result["changed"], false);
    if (terraform_available()) {
        infra::test::RunOptions o;
        o.cwd = (dir / "ws").string();
        o.env["TF_CLI_CONFIG_FILE"] = "/dev/null";
        auto fmt = infra::test::run_program(terraform(), {"fmt", "-check", "-diff"}, o);
        EXPECT_EQ(fmt.exit_code, 0) << fmt.out << after;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Checks, BuiltinFix,
    ::testing::Values(
        FixCase{
            "CKV_AWS_19", "aws_s3_bucket.b",
            "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"b\" {\n  bucket = aws_s3_bucket.b.id\n\n"
            "  rule {\n    apply_server_side_encryption_by_default {\n      sse_algorithm = \"none\"\n    }\n  }\n}\n\n"
            "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n",
            "sse_algorithm = \"aws:kms\""},
        FixCase{"CKV_AWS_145", "aws_s3_bucket.b", "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n",
                "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"b\""},
        FixCase{"CKV_AWS_21", "aws_s3_bucket.b", "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n",
                "status = \"Enabled\""},
        FixCase{"CKV_AWS_18", "aws_s3_bucket.b", "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n",
                "target_bucket = var.s3_access_log_bucket"},
        FixCase{"CKV2_AWS_6", "aws_s3_bucket.b", "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n",
                "restrict_public_buckets = true"},
        FixCase{"CKV2_AWS_61", "aws_s3_bucket.b", "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n",
                "abort_incomplete_multipart_upload"},
        FixCase{"CKV_AWS_53", "aws_s3_bucket_public_access_block.p",
                "resource \"aws_s3_bucket_public_access_block\" \"p\" {\n  bucket = \"b\"\n}\n",
                "block_public_acls = true"},
        FixCase{"CKV_AWS_56", "aws_s3_bucket_public_access_block.p",
                "resource \"aws_s3_bucket_public_access_block\" \"p\" {\n  bucket                  = \"b\"\n"
                "  restrict_public_buckets = false\n}\n",
                "restrict_public_buckets = true"},
        FixCase{"CKV_AWS_20", "aws_s3_bucket.b",
                "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n  acl    = \"public-read\"\n}\n",
                "acl    = \"private\""},
        FixCase{"CKV_AWS_24", "aws_security_group.s",
                "resource \"aws_security_group\" \"s\" {\n  name = \"s\"\n\n  ingress {\n    from_port   = 22\n    "
                "to_port     = 22\n"
                "    protocol    = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n",
                "cidr_blocks = var.allowed_ssh_cidr_blocks"},
        FixCase{"CKV_AWS_25", "aws_security_group_rule.r",
                "resource \"aws_security_group_rule\" \"r\" {\n  type              = \"ingress\"\n  from_port         "
                "= 3389\n"
                "  to_port           = 3389\n  protocol          = \"tcp\"\n  cidr_blocks       = [\"10.0.0.0/8\", "
                "\"0.0.0.0/0\"]\n"
                "  security_group_id = \"sg-1\"\n}\n",
                "concat([\"10.0.0.0/8\"], var.allowed_rdp_cidr_blocks)"},
        FixCase{"CKV_AWS_260", "aws_vpc_security_group_ingress_rule.r",
                "resource \"aws_vpc_security_group_ingress_rule\" \"r\" {\n  security_group_id = \"sg-1\"\n  from_port "
                "        = 80\n"
                "  to_port           = 80\n  ip_protocol       = \"tcp\"\n  cidr_ipv4         = \"0.0.0.0/0\"\n}\n",
                "cidr_ipv4         = var.allowed_http_cidr_blocks_cidr"},
        FixCase{"CKV_AWS_277", "aws_security_group.s",
                "resource \"aws_security_group\" \"s\" {\n  ingress {\n    from_port   = 0\n    to_port     = 0\n    "
                "protocol    = \"-1\"\n"
                "    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n",
                "var.allowed_ingress_cidr_blocks"},
        FixCase{"CKV_AWS_23", "aws_security_group.s",
                "resource \"aws_security_group\" \"s\" {\n  name = \"s\"\n\n  egress {\n    from_port   = 0\n    "
                "to_port     = 0\n"
                "    protocol    = \"-1\"\n    cidr_blocks = [\"10.0.0.0/8\"]\n  }\n}\n",
                "description = \"egress 0\""},
        FixCase{"CKV_AWS_16", "aws_db_instance.d", "resource \"aws_db_instance\" \"d\" {\n  engine = \"postgres\"\n}\n",
                "storage_encrypted = true"},
        FixCase{"CKV_AWS_17", "aws_db_instance.d",
                "resource \"aws_db_instance\" \"d\" {\n  engine              = \"postgres\"\n  publicly_accessible = "
                "true\n}\n",
                "publicly_accessible = false"},
        FixCase{"CKV_AWS_133", "aws_db_instance.d",
                "resource \"aws_db_instance\" \"d\" {\n  engine                  = \"postgres\"\n  "
                "backup_retention_period = 0\n}\n",
                "backup_retention_period = 7"},
        FixCase{"CKV_AWS_293", "aws_db_instance.d",
                "resource \"aws_db_instance\" \"d\" {\n  engine = \"postgres\"\n}\n", "deletion_protection = true"},
        FixCase{"CKV_AWS_157", "aws_db_instance.d",
                "resource \"aws_db_instance\" \"d\" {\n  engine = \"postgres\"\n}\n", "multi_az = true"},
        FixCase{"CKV_AWS_226", "aws_db_instance.d",
                "resource \"aws_db_instance\" \"d\" {\n  engine                     = \"postgres\"\n"
                "  auto_minor_version_upgrade = false\n}\n",
                "auto_minor_version_upgrade = true"},
        FixCase{
            "CKV_AWS_3", "aws_ebs_volume.v",
            "resource \"aws_ebs_volume\" \"v\" {\n  availability_zone = \"us-west-2a\"\n  size              = 20\n}\n",
            "encrypted         = true"},
        FixCase{"CKV_AWS_8", "aws_instance.i", "resource \"aws_instance\" \"i\" {\n  ami = \"ami-1\"\n}\n",
                "root_block_device {\n    encrypted = true\n  }"},
        FixCase{"CKV_AWS_79", "aws_instance.i", "resource \"aws_instance\" \"i\" {\n  ami = \"ami-1\"\n}\n",
                "http_tokens   = \"required\""},
        FixCase{"CKV_AWS_126", "aws_instance.i", "resource \"aws_instance\" \"i\" {\n  ami = \"ami-1\"\n}\n",
                "monitoring = true"},
        FixCase{"CKV_AWS_135", "aws_instance.i", "resource \"aws_instance\" \"i\" {\n  ami = \"ami-1\"\n}\n",
                "ebs_optimized = true"},
        FixCase{"CKV_AWS_7", "aws_kms_key.k", "resource \"aws_kms_key\" \"k\" {\n  description = \"k\"\n}\n",
                "enable_key_rotation = true"},
        FixCase{"CKV_AWS_36", "aws_cloudtrail.t", "resource \"aws_cloudtrail\" \"t\" {\n  name = \"t\"\n}\n",
                "enable_log_file_validation = true"},
        FixCase{"CKV_AWS_35", "aws_cloudtrail.t", "resource \"aws_cloudtrail\" \"t\" {\n  name = \"t\"\n}\n",
                "kms_key_id = var.cloudtrail_kms_key_arn"}),
    [](const ::testing::TestParamInfo<FixCase>& info) { return info.param.check; });

TEST(BuiltinAgent, CoversAtLeastTwentyChecks)
{
    EXPECT_GE(plugins::agents::builtin::code_checks().size(), 10u);
}

TEST(BuiltinAgent, RefusesWhatItCannotFixWithoutRetrying)
{
    TempDir dir;
    write_file(dir / "ws/main.tf", "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n");
    core::events::MemorySink events;
    auto unknown = run_builtin(dir / "ws", "CKV_AWS_144", "aws_s3_bucket.b", nullptr, events);
    EXPECT_FALSE(unknown.ok);
    EXPECT_FALSE(unknown.retryable);
    EXPECT_NE(unknown.error.find("no fix for CKV_AWS_144"), std::string::npos);
    auto module = run_builtin(dir / "ws", "CKV_AWS_21", "module.x.aws_s3_bucket.b", nullptr, events);
    EXPECT_FALSE(module.ok);
    EXPECT_NE(module.error.find("inside a module"), std::string::npos);
    auto missing = run_builtin(dir / "ws", "CKV_AWS_21", "aws_s3_bucket.nope", nullptr, events);
    EXPECT_FALSE(missing.ok);
    // Every file access went through the tools and was recorded.
    int tool_events = 0;
    for (const auto& e : events.events()) tool_events += e.type == "task.tool";
    EXPECT_GT(tool_events, 0);
}

TEST(BuiltinAgent, RunsTerraformFmtInTheSandbox)
{
    if (!terraform_available()) GTEST_SKIP() << "terraform is not installed";
    auto sandbox = core::sandbox::Sandbox::create(core::sandbox::Mode::bwrap);
    ASSERT_TRUE(sandbox) << sandbox.error().message;
    TempDir dir;
    write_file(dir / "ws/main.tf", "resource \"aws_ebs_volume\" \"v\" {\n  size = 20\n}\n");
    core::events::MemorySink events;
    auto out = run_builtin(dir / "ws", "CKV_AWS_3", "aws_ebs_volume.v", &*sandbox, events);
    ASSERT_TRUE(out.ok) << out.error;
    EXPECT_EQ(out.result["terraformFmt"], "ok");
    bool ran = false;
    for (const auto& e : events.events())
        if (e.type == "task.tool" && e.data["tool"] == "run_command") ran = true;
    EXPECT_TRUE(ran);
}
