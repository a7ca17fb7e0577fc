// `drift` with the real terraform binary on terraform_data roots: roots are
// found (a local module is not one), a changed root is one task, a second
// scan finds the open task instead of adding one, --detailed-exitcode and
// --refresh-only behave as terraform's, and a broken root is named.
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace infra {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

void terraform(const fs::path& dir, const std::string& args)
{
    std::string cmd = "cd '" + dir.string() + "' && terraform " + args + " -input=false >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(DriftCli, OneTaskPerDriftedRootAndNoDuplicates)
{
    test::TempDir dir;
    test::write_file(dir / "modules" / "m" / "main.tf",
                     "variable \"v\" {}\nresource \"terraform_data\" \"inner\" {\n  input = var.v\n}\n");
    test::write_file(dir / "live" / "app" / "main.tf",
                     "module \"m\" {\n  source = \"../../modules/m\"\n  v      = \"one\"\n}\n"
                     "resource \"terraform_data\" \"app\" {\n  input = \"v1\"\n}\n");
    test::write_file(dir / "live" / "db" / "main.tf",
                     "resource \"terraform_data\" \"db\" {\n  input = \"stable\"\n}\n");
    for (const char* root : {"live/app", "live/db"}) {
        terraform(dir / root, "init");
        terraform(dir / root, "apply -auto-approve");
    }
    test::RunOptions opts;
    opts.cwd = dir.path().string();
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);

    // Applied and unchanged: no drift.
    auto clean = run_cli({"drift", "--detailed-exitcode", "--repo-id", "acme/live"}, opts);
    EXPECT_EQ(clean.exit_code, 0) << clean.err;
    EXPECT_TRUE(clean.out.empty()) << clean.out;

    // The app root's configuration no longer matches what was applied.
    test::write_file(dir / "live" / "app" / "main.tf",
                     "module \"m\" {\n  source = \"../../modules/m\"\n  v      = \"one\"\n}\n"
                     "resource \"terraform_data\" \"app\" {\n  input = \"v2\"\n}\n");
    auto r = run_cli({"drift", "--detailed-exitcode", "--repo-id", "acme/live"}, opts);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    auto tasks = test::json_lines(r.out);
    ASSERT_EQ(tasks.size(), 1u) << r.out;
    EXPECT_EQ(tasks[0]["type"], "drift-detection");
    EXPECT_EQ(tasks[0]["context"]["resource"], "live/app");
    EXPECT_EQ(tasks[0]["payload"]["summary"]["change"], 1);
    EXPECT_EQ(tasks[0]["payload"]["changes"][0]["address"], "terraform_data.app");
    // Without --detailed-exitcode drift is not a failure.
    EXPECT_EQ(run_cli({"drift", "--repo-id", "acme/live"}, opts).exit_code, 0);
    // Refresh-only plans ignore configuration changes: nothing changed outside Terraform.
    auto refresh = run_cli({"drift", "--refresh-only", "--detailed-exitcode"}, opts);
    EXPECT_EQ(refresh.exit_code, 0) << refresh.err;

    // Queued twice: one open task for the root.
    auto first = test::json_lines(run_cli({"drift", "--enqueue", "--json", "--repo-id", "acme/live"}, opts).out);
    auto second = test::json_lines(run_cli({"drift", "--enqueue", "--json", "--repo-id", "acme/live"}, opts).out);
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(first[0]["duplicate"], false);
    EXPECT_EQ(second[0]["duplicate"], true);
    EXPECT_EQ(second[0]["id"], first[0]["id"]);
    EXPECT_EQ(test::json_lines(run_cli({"queue", "ls", "--json"}, opts).out).size(), 1u);

    // A broken root fails the run and is named; the others are still planned.
    test::write_file(dir / "live" / "broken" / "main.tf", "resource \"terraform_data\" \"x\" {\n  input = \n}\n");
    auto broken = run_cli({"drift", "--detailed-exitcode"}, opts);
    EXPECT_EQ(broken.exit_code, 1);
    EXPECT_NE(broken.err.find("live/broken: terraform init failed: Error: Invalid expression: Expected the start of "
                              "an expression, but found an invalid expression token. (main.tf:2)\n"),
              std::string::npos)
        << broken.err;
    EXPECT_EQ(test::json_lines(broken.out).size(), 1u);

    EXPECT_EQ(run_cli({"drift", "nowhere"}, opts).exit_code, 64);
}

}  // namespace
}  // namespace infra
