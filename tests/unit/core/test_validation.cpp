// The validation pipeline with the real terraform binary, in the sandbox,
// on built-in terraform_data resources (init, plan and show run offline).
#include "core/change/validation.hpp"
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

namespace infra {
namespace {

namespace fs = std::filesystem;
using core::change::validate;
using nlohmann::json;

const char* k_main = R"(resource "terraform_data" "bucket" {
  input = "v1"
}

resource "terraform_data" "bucket_policy" {
  input = "p1"
}

resource "terraform_data" "other" {
  input = "x"
}
)";

class Validation : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto sb = core::sandbox::Sandbox::create(core::sandbox::Mode::bwrap);
        ASSERT_TRUE(sb) << sb.error().message;
        sandbox = std::make_unique<core::sandbox::Sandbox>(std::move(*sb));
        ASSERT_TRUE(core::change::terraform_on_path()) << "terraform must be on PATH for these tests";
        // Applied once, so the plans below compare with real state.
        test::write_file(dir / "main.tf", k_main);
        test::RunOptions o;
        o.cwd = dir.path().string();
        o.env["TF_CLI_CONFIG_FILE"] = std::nullopt;
        o.env["CHECKPOINT_DISABLE"] = "1";
        for (auto args : {std::vector<std::string>{"terraform", "init", "-input=false", "-no-color"},
                          std::vector<std::string>{"terraform", "apply", "-auto-approve", "-input=false", "-no-color"}}) {
            auto r = test::run_program("/usr/bin/env", args, o);
            ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
        }
        fs::remove_all(dir / ".terraform");
        opt.sandbox = sandbox.get();
        opt.changed = {"main.tf"};
        opt.base_content = [](const std::string& path) -> std::optional<std::string> {
            if (path == "main.tf") return std::string(k_main);
            return std::nullopt;
        };
    }

    json task(const std::string& resource)
    {
        return {{"id", "T1"}, {"type", "compliance-remediation"}, {"context", {{"resource", resource}}}};
    }
    json decision(bool allow_deletes = false, json plan_scope = json::array())
    {
        return {{"tier", 2},
                {"constraints", {{"requiresValidation", true}, {"allowDeletes", allow_deletes}, {"planScope", plan_scope}}}};
    }
    void edit(const std::string& from, const std::string& to)
    {
        std::string text = test::read_file(dir / "main.tf");
        auto at = text.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        text.replace(at, from.size(), to);
        test::write_file(dir / "main.tf", text);
    }

    test::TempDir dir;
    std::unique_ptr<core::sandbox::Sandbox> sandbox;
    core::change::ValidationOptions opt;
};

TEST_F(Validation, AChangeInScopePassesAndLeavesNoWorkingData)
{
    edit("\"v1\"", "\"v2\"");
    edit("\"p1\"", "\"p2\"");  // in scope through policy's planScope
    auto r = validate(dir.path(), {"."}, task("terraform_data.bucket"), decision(false, {"terraform_data.bucket_*"}), opt);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->ok) << r->to_json().dump(2);
    EXPECT_TRUE(r->changes);
    EXPECT_EQ(r->plan_summary, "0 to add, 2 to change, 0 to destroy");
    ASSERT_EQ(r->steps.size(), 5u);
    EXPECT_EQ(r->steps[3].exit_code, 2);  // plan -detailed-exitcode: changes
    EXPECT_TRUE(r->plan["."]["scopeChecked"].get<bool>());
    EXPECT_FALSE(fs::exists(dir / ".terraform"));
    EXPECT_FALSE(fs::exists(dir / ".infra-agent.tfplan"));
}

TEST_F(Validation, APlanOutsideTheTasksScopeFails)
{
    edit("\"x\"", "\"y\"");
    auto r = validate(dir.path(), {"."}, task("terraform_data.bucket"), decision(), opt);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_NE(r->failure.find("terraform_data.other (update) is outside the task's scope"), std::string::npos) << r->failure;
    EXPECT_EQ(r->steps.back().name, "plan scope");
}

TEST_F(Validation, DeletesFailUnlessPolicyAllowsThem)
{
    edit("resource \"terraform_data\" \"bucket_policy\" {\n  input = \"p1\"\n}\n", "");
    auto r = validate(dir.path(), {"."}, task("terraform_data.bucket"), decision(), opt);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_NE(r->failure.find("terraform_data.bucket_policy would be deleted"), std::string::npos) << r->failure;
    auto allowed = validate(dir.path(), {"."}, task("terraform_data.bucket_policy"), decision(true), opt);
    ASSERT_TRUE(allowed);
    EXPECT_TRUE(allowed->ok) << allowed->failure;
    EXPECT_EQ(allowed->plan_summary, "0 to add, 0 to change, 1 to destroy");
}

TEST_F(Validation, FormattingTheChangeBrokeFailsButOldFormattingIsTolerated)
{
    edit("  input = \"v1\"", "  input    =    \"v2\"");
    auto r = validate(dir.path(), {"."}, task("terraform_data.bucket"), decision(), opt);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_NE(r->failure.find("main.tf: the change leaves it unformatted"), std::string::npos) << r->failure;

    // The same file, already unformatted before the change: not this change's doing.
    std::string before = test::read_file(dir / "main.tf");
    opt.base_content = [before](const std::string&) -> std::optional<std::string> { return before; };
    edit("\"v2\"", "\"v3\"");
    r = validate(dir.path(), {"."}, task("terraform_data.bucket"), decision(), opt);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->ok) << r->failure;
    EXPECT_NE(r->steps[0].output.find("already off"), std::string::npos) << r->steps[0].output;
}

TEST_F(Validation, BrokenTerraformFailsWithTerraformsError)
{
    edit("input = \"v1\"", "input = var.missing");
    auto r = validate(dir.path(), {"."}, task("terraform_data.bucket"), decision(), opt);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_NE(r->failure.find("terraform validate failed: Error: Reference to undeclared input variable"), std::string::npos)
        << r->failure;
}

TEST_F(Validation, ConfiguredStepsReplaceTheDefaults)
{
    auto steps = core::change::steps_from(json::parse(R"([{"name": "has bucket", "run": ["grep", "-q", "bucket", "{dir}/main.tf"]},
                                                          ["grep", "-q", "nothing-like-this", "{dir}/main.tf"]])"));
    ASSERT_TRUE(steps) << steps.error().message;
    opt.steps = *steps;
    auto r = validate(dir.path(), {"."}, task(""), decision(), opt);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    ASSERT_EQ(r->steps.size(), 2u);
    EXPECT_TRUE(r->steps[0].ok);
    EXPECT_EQ(r->steps[1].name, "grep");
    EXPECT_EQ(r->steps[1].argv[3], "./main.tf");
    auto bad = core::change::steps_from(json::parse(R"([{"name": "x"}])"));
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("validation.steps[0]"), std::string::npos);
}

TEST(PlanScope, ReadsShowJson)
{
    json plan = json::parse(R"({"prior_state": {}, "resource_changes": [
        {"address": "module.net.aws_s3_bucket.logs[\"a\"]", "change": {"actions": ["update"]}},
        {"address": "aws_s3_bucket_public_access_block.logs", "change": {"actions": ["create"]}},
        {"address": "aws_iam_role.x", "change": {"actions": ["no-op"]}},
        {"address": "aws_instance.web", "change": {"actions": ["delete", "create"]}}]})");
    json touched;
    auto v = core::change::plan_scope_violations(plan, {{"context", {{"resource", "aws_s3_bucket.logs"}}}},
                                                 {{"constraints", json::object()}}, touched);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0], "aws_instance.web would be replaced and policy does not allow deletes");
    EXPECT_EQ(v[1], "aws_instance.web (delete,create) is outside the task's scope");
    EXPECT_EQ(touched.size(), 3u);
    v = core::change::plan_scope_violations(plan, {{"context", {{"resource", "aws_s3_bucket.logs"}}}},
                                            {{"constraints", {{"allowDeletes", true}, {"planScope", {"aws_instance.*"}}}}}, touched);
    EXPECT_TRUE(v.empty());
}

}  // namespace
}  // namespace infra
