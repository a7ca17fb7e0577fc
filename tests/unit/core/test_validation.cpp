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
        for (auto args :
             {std::vector<std::string>{"terraform", "init", "-input=false", "-no-color"},
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

    core::AgentTask task(const std::string& resource)
    {
        core::AgentTask t;
        t.id = "T1";
        t.context.resource = resource;
        return t;
    }
    core::policy::Decision decision(bool allow_deletes = false, std::vector<std::string> plan_scope = {})
    {
        core::policy::Decision d;
        d.tier = 2;
        d.requires_validation = true;
        d.allow_deletes = allow_deletes;
        d.plan_scope = std::move(plan_scope);
        return d;
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
    auto r =
        validate(dir.path(), {"."}, task("terraform_data.bucket"), decision(false, {"terraform_data.bucket_*"}), opt);
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
    EXPECT_NE(r->failure.find("terraform_data.other (update) is outside the task's scope"), std::string::npos)
        << r->failure;
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
    EXPECT_NE(r->failure.find("terraform validate failed: Error: Reference to undeclared input variable"),
              std::string::npos)
        << r->failure;
}

TEST_F(Validation, ConfiguredStepsReplaceTheDefaults)
{
    auto steps = core::change::steps_from(
        json::parse(R"([{"name": "has bucket", "run": ["grep", "-q", "bucket", "{dir}/main.tf"]},
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
    core::AgentTask task;
    task.context.resource = "aws_s3_bucket.logs";
    core::policy::Decision decision;
    auto v = core::change::plan_scope_violations(plan, task, decision, touched);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0], "aws_instance.web would be replaced and policy does not allow deletes");
    EXPECT_EQ(v[1], "aws_instance.web (delete,create) is outside the task's scope");
    EXPECT_EQ(touched.size(), 3u);
    decision.allow_deletes = true;
    decision.plan_scope = {"aws_instance.*"};
    v = core::change::plan_scope_violations(plan, task, decision, touched);
    EXPECT_TRUE(v.empty());
}

TEST(PlanScope, AGroupsScopeIsEachOfItsFindingsResources)
{
    json plan = json::parse(R"({"prior_state": {}, "resource_changes": [
        {"address": "aws_ebs_volume.east", "change": {"actions": ["update"]}},
        {"address": "aws_ebs_volume.west", "change": {"actions": ["update"]}},
        {"address": "aws_ebs_volume.north", "change": {"actions": ["update"]}}]})");
    json east = {{"resource", "aws_ebs_volume.east"}, {"key", "e"}}, west = {{"resource", "aws_ebs_volume.west"}};
    core::AgentTask task;
    task.payload = {{"finding", east}, {"findings", {east, west}}};
    json touched;
    auto v = core::change::plan_scope_violations(plan, task, core::policy::Decision{}, touched);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0], "aws_ebs_volume.north (update) is outside the task's scope");
}

}  // namespace
}  // namespace infra

namespace infra {
namespace {

using core::change::pipeline_from;

TEST(PipelineSteps, ParseWithDefaultsAndNameTheirErrors)
{
    auto steps = core::change::steps_from(nlohmann::json::parse(R"([
        "terraform-fmt",
        {"name": "ci-plan", "pipeline": {"kind": "github-actions", "workflow": "plan.yml", "timeout": "10m",
                                         "summary": {"artifact": "plan", "file": "plan.txt"}}},
        {"pipeline": {"kind": "gitlab", "variables": {"TASK": "{task}", "N": 3}}}])"));
    ASSERT_TRUE(steps) << steps.error().message;
    ASSERT_EQ(steps->size(), 3u);
    EXPECT_TRUE(core::change::has_pipelines(*steps));
    const auto& gha = *(*steps)[1].pipeline;
    EXPECT_EQ(gha.timeout, std::chrono::minutes(10));
    EXPECT_EQ(gha.poll, std::chrono::seconds(5));
    EXPECT_EQ(gha.summary, "artifact");
    EXPECT_EQ(gha.artifact_file, "plan.txt");
    EXPECT_EQ((*steps)[2].name, "gitlab");
    core::change::PipelineTarget t{"acme/infra", "infra-agent/x", "abc", "01TASK", "0af7"};
    auto vars = core::change::inputs_for(*(*steps)[2].pipeline, t);
    EXPECT_EQ(vars["TASK"], "01TASK");
    EXPECT_EQ(vars["N"], "3");
    // Without inputs the run is told the branch, the task and the trace.
    auto defaults = core::change::inputs_for(gha, t);
    EXPECT_EQ(defaults.size(), 3u);
    EXPECT_EQ(defaults["branch"], "infra-agent/x");
    EXPECT_EQ(core::change::expand("{branch}@{commit}/{trace}", t), "infra-agent/x@abc/0af7");

    for (auto [bad, says] : std::vector<std::pair<const char*, const char*>>{
             {R"({"kind": "jenkins"})", "s.pipeline.kind: expected github-actions"},
             {R"({"kind": "github-actions"})", "needs workflow"},
             {R"({"kind": "gitlab", "poll": "0s"})", "s.pipeline.poll: expected a duration"},
             {R"({"kind": "gitlab", "summary": {"artifact": "plan"}})", "needs file"},
             {R"({"kind": "github-checks", "summary": {"artifact": "a", "file": "f"}})",
              "check runs have no artifacts"},
             {R"({"kind": "gitlab", "inputs": {"a": [1]}})", "s.pipeline.inputs.a: expected a string"},
             {R"({"kind": "gitlab", "workflw": "x"})", "unknown key 'workflw'"},
             {R"("gitlab")", "expected an object"}}) {
        auto r = pipeline_from(nlohmann::json::parse(bad), "s");
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, core::Errc::invalid_input);
        EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
    }
    auto both =
        core::change::steps_from(nlohmann::json::parse(R"([{"run": ["true"], "pipeline": {"kind": "gitlab"}}])"));
    ASSERT_FALSE(both);
    EXPECT_NE(both.error().message.find("not both"), std::string::npos);
}

TEST(PipelineSteps, FindTerraformsPlanSummaryInLogs)
{
    using core::change::plan_summary_in;
    EXPECT_EQ(
        plan_summary_in("2026-11-25T03:00:01.0000000Z \x1b[1mPlan:\x1b[0m 3 to add, 1 to change, 2 to destroy.\n"),
        "3 to add, 1 to change, 2 to destroy");
    EXPECT_EQ(plan_summary_in("...\nNo changes. Your infrastructure matches the configuration.\n"), "no changes");
    EXPECT_EQ(plan_summary_in("Error: Unsupported argument"), "");
    EXPECT_EQ(core::change::next_poll(std::chrono::seconds(4)), std::chrono::seconds(6));
    EXPECT_EQ(core::change::next_poll(std::chrono::seconds(50)), std::chrono::minutes(1));
}

}  // namespace
}  // namespace infra
