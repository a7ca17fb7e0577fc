// Output other tools read, through the binary with the real terraform:
// SARIF 2.1.0 from drift and validate (each finding at the line that
// declares it), markdown tables, and inside GitHub Actions the job summary
// and workflow-command annotations, with stdout left as data.
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

class FormatsCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        // A root whose state has the bucket at v1, and whose code now says v2.
        test::write_file(dir / "envs" / "prod" / "main.tf",
                         "# production\n\nresource \"terraform_data\" \"bucket\" {\n  input = \"v1\"\n}\n");
        auto boot = test::run_program("/bin/sh", {"-c", "cd " + (dir / "envs" / "prod").string() +
                                                            " && terraform init -input=false >/dev/null && terraform "
                                                            "apply -auto-approve -input=false >/dev/null"});
        ASSERT_EQ(boot.exit_code, 0) << boot.err;
        test::write_file(dir / "envs" / "prod" / "main.tf",
                         "# production\n\nresource \"terraform_data\" \"bucket\" {\n  input = \"v2\"\n}\n");
        opts.cwd = dir.path().string();
        opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
        opts.env["GITHUB_ACTIONS"] = std::nullopt;
        opts.env["GITHUB_STEP_SUMMARY"] = std::nullopt;
    }
    test::TempDir dir;
    test::RunOptions opts;
};

TEST_F(FormatsCli, DriftAsSarifPointsAtTheResourcesCode)
{
    auto r = run_cli({"drift", "--format", "sarif", "envs"}, opts);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto log = json::parse(r.out);
    EXPECT_EQ(log["version"], "2.1.0");
    EXPECT_EQ(log["$schema"], "https://json.schemastore.org/sarif-2.1.0.json");
    const auto& run = log["runs"][0];
    EXPECT_EQ(run["tool"]["driver"]["name"], "infra-agent");
    ASSERT_EQ(run["results"].size(), 1u) << r.out;
    const auto& result = run["results"][0];
    EXPECT_EQ(result["ruleId"], "infra-agent/drift");
    EXPECT_EQ(run["tool"]["driver"]["rules"][result["ruleIndex"].get<int>()]["id"], "infra-agent/drift");
    EXPECT_EQ(result["level"], "warning");
    const auto& loc = result["locations"][0];
    EXPECT_EQ(loc["physicalLocation"]["artifactLocation"]["uri"], "envs/prod/main.tf");
    EXPECT_EQ(loc["physicalLocation"]["region"]["startLine"], 3);
    EXPECT_EQ(loc["logicalLocations"][0]["fullyQualifiedName"], "terraform_data.bucket");
    EXPECT_NE(result["message"]["text"].get<std::string>().find("terraform_data.bucket would be updated"),
              std::string::npos);

    auto md = run_cli({"drift", "--format", "markdown", "envs"}, opts);
    ASSERT_EQ(md.exit_code, 0) << md.err;
    EXPECT_NE(md.out.find("| root | status | add | change | destroy |"), std::string::npos) << md.out;
    EXPECT_NE(md.out.find("| envs/prod | drift | 0 | 1 | 0 |"), std::string::npos) << md.out;
}

TEST_F(FormatsCli, InsideGitHubActionsTheSummaryAndAnnotationsAreWrittenAndStdoutStaysData)
{
    auto o = opts;
    o.env["GITHUB_ACTIONS"] = "true";
    o.env["GITHUB_STEP_SUMMARY"] = (dir / "summary.md").string();
    test::write_file(dir / "summary.md", "earlier step\n");
    auto r = run_cli({"drift", "--json", "--detailed-exitcode", "envs"}, o);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    auto tasks = test::json_lines(r.out);  // the drift task, and nothing else, on stdout
    ASSERT_EQ(tasks.size(), 1u);
    EXPECT_EQ(tasks[0]["type"], "drift-detection");
    EXPECT_NE(
        r.err.find("::warning file=envs/prod/main.tf,line=3,title=Infrastructure differs from its Terraform code::"
                   "terraform_data.bucket would be updated by terraform apply in envs/prod"),
        std::string::npos)
        << r.err;
    std::string summary = test::read_file(dir / "summary.md");
    EXPECT_EQ(summary.rfind("earlier step\n", 0), 0u);  // appended to
    EXPECT_NE(summary.find("| envs/prod | drift | 0 | 1 | 0 |"), std::string::npos) << summary;

    // Outside Actions, neither.
    auto plain = run_cli({"drift", "--json", "envs"}, opts);
    EXPECT_EQ(plain.err.find("::warning"), std::string::npos);
}

TEST_F(FormatsCli, ValidationFailuresAsSarifAndMarkdown)
{
    test::write_file(dir / "tf" / "main.tf", "resource \"terraform_data\" \"a\" {\n  input = \"v1\"\n}\n");
    test::write_file(dir / "tf" / "more.tf", "resource \"terraform_data\" \"b\" {\ninput = 1\n}\n");
    auto r = run_cli({"validate", "--format", "sarif", "tf"}, opts);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    auto log = json::parse(r.out);
    ASSERT_EQ(log["runs"][0]["results"].size(), 1u) << r.out;
    const auto& result = log["runs"][0]["results"][0];
    EXPECT_EQ(result["ruleId"], "infra-agent/validation/terraform-fmt");
    EXPECT_EQ(result["level"], "error");
    EXPECT_EQ(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "tf/more.tf");

    auto md = run_cli({"validate", "--format", "markdown", "tf"}, opts);
    EXPECT_EQ(md.exit_code, 3);
    EXPECT_NE(md.out.find("| terraform fmt | **failed** |"), std::string::npos) << md.out;

    // A passing validation is an empty SARIF run, not an absent one.
    fs::remove(dir / "tf" / "more.tf");
    auto ok = run_cli({"validate", "--format", "sarif", "tf"}, opts);
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_TRUE(json::parse(ok.out)["runs"][0]["results"].empty());
}

}  // namespace
}  // namespace infra
