// Drift made outside Terraform for real: the test provider (tests/support/
// tfprovider) keeps its objects in a "cloud" file, which the test changes
// behind Terraform's back. A refresh-only scan finds the changed attributes
// and the deleted bucket (resource_drift), the builtin agent codifies the
// literals, and validation (the provider from its mirror, in the sandbox,
// against the real state) plans nothing for the codified bucket.
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

TEST(DriftTestcloudCli, ChangedAttributesAreCodifiedAndADeletedBucketReported)
{
    test::TempDir dir;
    fs::path tools = fs::path(INFRA_SOURCE_DIR) / "tests/support/tfprovider";
    auto made =
        test::run_program((tools / "make-mirror").string(), {"--layout", "unpacked", (dir / "mirror").string()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    test::write_file(dir / "cli.tfrc", "provider_installation {\n  filesystem_mirror {\n    path = \"" +
                                           (dir / "mirror").string() + "\"\n  }\n}\n");
    fs::path state = dir / "state";
    fs::create_directories(state);
    test::write_file(
        dir / "seed" / "cloud" / "main.tf",
        "terraform {\n  backend \"local\" {\n    path = \"" + (state / "cloud.tfstate").string() +
            "\"\n  }\n"
            "  required_providers {\n    testcloud = {\n      source  = \"infra-agent-test/testcloud\"\n"
            "      version = \"0.1.0\"\n    }\n  }\n}\n\n"
            "provider \"testcloud\" {\n  cloud_file = \"" +
            (state / "cloud.json").string() +
            "\"\n}\n\n"
            "resource \"testcloud_bucket\" \"logs\" {\n  name       = \"acme-logs\"\n  acl        = \"private\"\n"
            "  versioning = false\n\n  tags = {\n    team = \"platform\"\n  }\n}\n\n"
            "resource \"testcloud_bucket\" \"old\" {\n  name = \"acme-old\"\n}\n");
    test::write_file(dir / "seed" / "cloud" / ".terraform.lock.hcl",
                     test::read_file(test::fixture("repos/testcloud/.terraform.lock.hcl")));
    test::git(dir / "seed", "init -q -b main");
    test::git(dir / "seed", "add -A");
    test::git(dir / "seed", "-c user.name=t -c user.email=t@example.com commit -q -m seed");
    test::git(dir.path(), "clone -q --bare seed acme.git");
    test::git(dir.path(), "clone -q acme.git live");
    std::string env = "TF_CLI_CONFIG_FILE=" + (dir / "cli.tfrc").string() + " ";
    auto boot =
        test::run_program("/bin/sh", {"-c", "cd " + (dir / "live" / "cloud").string() + " && " + env +
                                                "terraform init -input=false -no-color >/dev/null && " + env +
                                                "terraform apply -auto-approve -input=false -no-color >/dev/null"});
    ASSERT_EQ(boot.exit_code, 0) << boot.err;

    // Outside Terraform: the logs bucket made public and retagged, the old one deleted.
    json cloud = json::parse(test::read_file(state / "cloud.json"));
    cloud["testcloud_bucket/acme-logs"]["acl"] = "public-read";
    cloud["testcloud_bucket/acme-logs"]["tags"] = {{"team", "data"}};
    cloud.erase("testcloud_bucket/acme-old");
    test::write_file(state / "cloud.json", cloud.dump(2));

    test::RunOptions opts;
    opts.cwd = (dir / "live").string();
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    opts.env["TF_CLI_CONFIG_FILE"] = (dir / "cli.tfrc").string();
    ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
    test::write_file(dir / "home" / "config.yaml", "git:\n  repo: " + (dir / "acme.git").string() +
                                                       "\n"
                                                       "sandbox:\n  state_dirs: [" +
                                                       state.string() +
                                                       "]\n"
                                                       "validation:\n  provider_mirror: " +
                                                       (dir / "mirror").string() + "\n");

    auto scan = run_cli({"drift", "--refresh-only", "--json", "--repo-id", "acme/cloud"}, opts);
    auto tasks = test::json_lines(scan.out);
    ASSERT_EQ(tasks.size(), 1u) << scan.out << scan.err;
    json resources = tasks[0]["payload"]["resources"];
    ASSERT_EQ(resources.size(), 2u) << resources.dump();
    EXPECT_EQ(resources[0]["kind"], "changed");
    EXPECT_EQ(resources[1], json::parse(R"({"address": "testcloud_bucket.old", "kind": "deleted", "attributes": []})"));

    ASSERT_EQ(run_cli({"drift", "--refresh-only", "--enqueue", "--repo-id", "acme/cloud"}, opts).exit_code, 0);
    auto w = run_cli({"worker", "--drain", "--json"}, opts);
    ASSERT_EQ(test::json_lines(w.out).back()["succeeded"], 1)
        << w.out << w.err << run_cli({"queue", "ls", "--json"}, opts).out;

    auto prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
    ASSERT_EQ(prs.size(), 1u);
    auto pr = json::parse(run_cli({"pr", "show", prs[0]["id"], "--json"}, opts).out);
    std::string body = pr["body"];
    EXPECT_NE(body.find("| `testcloud_bucket.logs` | `acl` | `\"private\"` | `\"public-read\"` | codified |"),
              std::string::npos)
        << body;
    EXPECT_NE(
        body.find(
            "| `testcloud_bucket.logs` | `tags` | `{ team = \"platform\" }` | `{ team = \"data\" }` | codified |"),
        std::string::npos)
        << body;
    EXPECT_NE(body.find("- `testcloud_bucket.old`: deleted outside Terraform"), std::string::npos) << body;
    EXPECT_NE(pr["diff"].get<std::string>().find("+  acl        = \"public-read\""), std::string::npos) << pr["diff"];

    // Against the real state (refreshed from the cloud file in the sandbox),
    // the codified bucket plans nothing; only the deleted one is created again.
    auto task = json::parse(run_cli({"queue", "show", pr["taskId"], "--json"}, opts).out);
    json plan = task["result"]["change"]["validation"]["plan"]["cloud"];
    EXPECT_EQ(plan["change"], 0) << plan.dump();
    EXPECT_EQ(plan["add"], 1) << plan.dump();
    EXPECT_EQ(plan["resources"], json::parse(R"([{"address": "testcloud_bucket.old", "actions": ["create"]}])"))
        << plan.dump();
}

}  // namespace
}  // namespace infra
