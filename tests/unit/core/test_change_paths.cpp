// Which files a change may touch: Terraform files of the task's root by
// default, policy's globs otherwise, CI definitions only when named.
#include "core/change/paths.hpp"
#include "core/change/validation.hpp"

#include <gtest/gtest.h>

using infra::core::Errc;
using nlohmann::json;
namespace change = infra::core::change;

namespace {

infra::core::AgentTask payload_task(json payload)
{
    infra::core::AgentTask t;
    t.id = "T";
    t.payload = std::move(payload);
    return t;
}

infra::core::AgentTask finding_task(const std::string& file)
{
    return payload_task({{"finding", {{"file", file}}}});
}

infra::core::policy::Decision decision()
{
    infra::core::policy::Decision d;
    d.allowed = true;
    d.tier = 2;
    return d;
}

infra::core::policy::Decision decision(std::vector<std::string> allowed_paths)
{
    auto d = decision();
    d.allowed_paths = std::move(allowed_paths);
    return d;
}

}  // namespace

TEST(ChangePaths, TheTaskRootIsTheFindingsDirectory)
{
    EXPECT_EQ(change::task_root(finding_task("/envs/prod/main.tf")), "envs/prod");
    EXPECT_EQ(change::task_root(finding_task("main.tf")), ".");
    EXPECT_EQ(change::task_root(payload_task({{"root", "live/eu/"}})), "live/eu");
    EXPECT_EQ(change::task_root(payload_task(json::object())), ".");
}

TEST(ChangePaths, AGroupsChangeBelongsToEachOfItsFindingsDirectories)
{
    json a = {{"file", "/regions/east/volume.tf"}, {"key", "a"}},
         b = {{"file", "regions/west/volume.tf"}, {"key", "b"}}, c = {{"file", "regions/east/main.tf"}, {"key", "c"}};
    auto t = payload_task({{"finding", a}, {"findings", {a, b, c}}});
    EXPECT_EQ(change::task_roots(t), (std::vector<std::string>{"regions/east", "regions/west"}));
    EXPECT_TRUE(change::check_changed_paths({"regions/east/volume.tf", "regions/west/volume.tf"}, t, decision()));
    auto r = change::check_changed_paths({"regions/east/volume.tf", "regions/north/volume.tf"}, t, decision());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "the change touches 'regions/north/volume.tf', and a change may touch only Terraform "
                                 "files under 'regions/east', 'regions/west'");
    // A report that names a file outside the repository opens nothing of it.
    json out = {{"file", "../../infra/main.tf"}, {"key", "o"}};
    auto hostile = payload_task({{"finding", a}, {"findings", {a, out}}});
    EXPECT_FALSE(change::check_changed_paths({"infra/main.tf"}, hostile, decision()));
    EXPECT_FALSE(change::check_changed_paths({"main.tf"}, hostile, decision()));
    // A finding without a file could be anywhere: the whole repository.
    auto anywhere = payload_task({{"finding", a}, {"findings", {a, {{"key", "d"}}}}});
    EXPECT_EQ(change::task_roots(anywhere), (std::vector<std::string>{"."}));
}

TEST(ChangePaths, GlobsStayWithinADirectoryUnlessTheySayStarStar)
{
    EXPECT_TRUE(change::path_glob_match("*.tf", "main.tf"));
    EXPECT_FALSE(change::path_glob_match("*.tf", "modules/a/main.tf"));
    EXPECT_TRUE(change::path_glob_match("modules/**/*.tf", "modules/a/b/main.tf"));
    EXPECT_TRUE(change::path_glob_match("modules/**/*.tf", "modules/main.tf"));
    EXPECT_TRUE(change::path_glob_match("**", ".github/workflows/ci.yml"));
    EXPECT_FALSE(change::path_glob_match("?ain.tf", "/ain.tf"));
}

TEST(ChangePaths, ByDefaultOnlyTerraformFilesOfTheRoot)
{
    auto t = finding_task("envs/prod/main.tf");
    EXPECT_TRUE(change::check_changed_paths({"envs/prod/main.tf", "envs/prod/variables.tf", "envs/prod/x.tfvars"}, t,
                                            decision()));
    for (std::string bad : {"envs/staging/main.tf", "envs/prod/run.sh", "main.tf", "envs/prod/.terraform.lock.hcl"}) {
        auto r = change::check_changed_paths({"envs/prod/main.tf", bad}, t, decision());
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, Errc::denied);
        EXPECT_NE(r.error().message.find("'" + bad + "'"), std::string::npos) << r.error().message;
    }
}

TEST(ChangePaths, CiDefinitionsNeedAGlobThatNamesThem)
{
    auto t = finding_task("main.tf");
    for (std::string ci :
         {".github/workflows/deploy.yml", ".gitlab-ci.yml", "sub/.gitlab-ci.yml", ".circleci/config.yml", "Jenkinsfile",
          ".gitattributes", ".GitHub/workflows/x.tf", ".github/main.tf"}) {
        EXPECT_TRUE(change::is_protected_path(ci)) << ci;
        auto r = change::check_changed_paths({ci}, t, decision());
        ASSERT_FALSE(r) << ci;
        EXPECT_NE(r.error().message.find("never change"), std::string::npos) << r.error().message;
        EXPECT_FALSE(change::check_changed_paths({ci}, t, decision({"**", "*", "**/*.yml", "**/*.tf"}))) << ci;
    }
    EXPECT_FALSE(change::is_protected_path("docs/github.md"));
    EXPECT_TRUE(
        change::check_changed_paths({".github/workflows/deploy.yml"}, t, decision({".github/workflows/*.yml"})));
    EXPECT_TRUE(change::check_changed_paths({".gitlab-ci.yml", "main.tf"}, t, decision({".gitlab-ci.yml", "*.tf"})));
}

TEST(ChangePaths, EveryTerraformFileNamesItsRoot)
{
    EXPECT_EQ(infra::core::change::terraform_roots({"prod/x.tf.json", "a/b.tfvars", "c/d.tf", "README.md"}),
              (std::vector<std::string>{"a", "c", "prod"}));
}

TEST(ChangePaths, PolicyGlobsReplaceTheDefault)
{
    auto t = finding_task("main.tf");
    EXPECT_TRUE(
        change::check_changed_paths({"docs/a.md", "modules/x/main.tf"}, t, decision({"docs/*.md", "modules/**/*.tf"})));
    auto r = change::check_changed_paths({"main.tf"}, t, decision({"docs/*.md"}));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("allowedPaths"), std::string::npos);
}
