// Drift becomes a pull request, through the binary with the real terraform
// on terraform_data roots whose local state (outside the repository) was
// changed behind Terraform's back: the builtin agent codifies what the code
// sets as literals (one pull request per root, the plan against the real
// state empty for them), reports what it cannot (a value from a variable, a
// resource no longer in the state, a sensitive value, never shown), a later
// scan updates the same pull request and notices a root whose drift is
// gone; with drift.mode revert the saved plan waits for approval and is
// applied once.
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

std::string backend(const fs::path& state)
{
    return "terraform {\n  backend \"local\" {\n    path = \"" + state.string() + "\"\n  }\n}\n\n";
}

/// Sets a terraform_data's input (and output, as an apply would) in a
/// state file, or removes the resource when value is null.
void change_state(const fs::path& file, const std::string& name, const json& value)
{
    json s = json::parse(test::read_file(file));
    s["serial"] = s["serial"].get<int>() + 1;
    json kept = json::array();
    for (auto& r : s["resources"]) {
        if (r["name"] == name && value.is_null()) continue;
        if (r["name"] == name)
            for (const char* k : {"input", "output"})
                r["instances"][0]["attributes"][k] = {{"value", value}, {"type", "string"}};
        kept.push_back(r);
    }
    s["resources"] = kept;
    test::write_file(file, s.dump(2));
}

class DriftFixCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        fs::create_directories(dir / "state");
        test::write_file(dir / "seed" / "infra" / "app" / "main.tf",
                         backend(state("app")) +
                             "resource \"terraform_data\" \"app\" {\n  input = \"v1\" # the release\n}\n");
        test::write_file(dir / "seed" / "infra" / "mixed" / "main.tf",
                         backend(state("mixed")) +
                             "variable \"size\" {\n  default = \"small\"\n}\n\n"
                             "variable \"token\" {\n  default   = \"first-token\"\n  sensitive = true\n}\n\n"
                             "resource \"terraform_data\" \"sized\" {\n  input = var.size\n}\n\n"
                             "resource \"terraform_data\" \"secret\" {\n  input = var.token\n}\n\n"
                             "resource \"terraform_data\" \"gone\" {\n  input = \"here\"\n}\n\n"
                             "resource \"terraform_data\" \"label\" {\n  input = \"blue\"\n}\n");
        test::git(dir / "seed", "init -q -b main");
        test::git(dir / "seed", "add -A");
        test::git(dir / "seed", "-c user.name=t -c user.email=t@example.com commit -q -m seed");
        test::git(dir.path(), "clone -q --bare seed acme.git");
        test::git(dir.path(), "clone -q acme.git live");
        for (const char* root : {"infra/app", "infra/mixed"}) {
            auto boot = test::run_program(
                "/bin/sh", {"-c", "cd " + (dir / "live" / root).string() +
                                      " && terraform init -input=false -no-color >/dev/null && "
                                      "terraform apply -auto-approve -input=false -no-color >/dev/null"});
            ASSERT_EQ(boot.exit_code, 0) << boot.err;
        }
        opts.cwd = (dir / "live").string();
        opts.env["INFRA_AGENT_HOME"] = home().string();
        ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
        test::write_file(home() / "config.yaml",
                         "git:\n  repo: " + (dir / "acme.git").string() +
                             "\n"
                             "sandbox:\n  state_dirs: [" +
                             (dir / "state").string() +
                             "]\n"
                             "approvals:\n  groups:\n    platform-oncall: {members: [alice, bob]}\n");
    }

    fs::path home() const { return dir / ".infra-agent"; }
    fs::path state(const std::string& root) const { return dir / "state" / (root + ".tfstate"); }

    /// The open pull requests, by root (from each task's payload).
    std::map<std::string, json> pull_requests()
    {
        std::map<std::string, json> out;
        for (auto& pr : test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out)) {
            auto shown = json::parse(run_cli({"pr", "show", pr["id"], "--json"}, opts).out);
            auto task = json::parse(run_cli({"queue", "show", shown["taskId"], "--json"}, opts).out);
            out[task["task"]["payload"]["root"]] = shown;
        }
        return out;
    }

    test::TempDir dir;
    test::RunOptions opts;
};

TEST_F(DriftFixCli, LiteralsAreCodifiedTheRestReportedAndALaterScanUpdatesThePullRequest)
{
    change_state(state("app"), "app", "v2");
    change_state(state("mixed"), "sized", "large");
    change_state(state("mixed"), "secret", "leaked-token-value");
    change_state(state("mixed"), "gone", nullptr);
    change_state(state("mixed"), "label", "green");

    auto scan = run_cli({"drift", "--enqueue", "--json", "--repo-id", "acme/infra"}, opts);
    ASSERT_EQ(scan.exit_code, 0) << scan.err;
    ASSERT_EQ(test::json_lines(scan.out).size(), 2u) << scan.out;
    EXPECT_EQ(scan.out.find("leaked-token-value"), std::string::npos);
    auto w = run_cli({"worker", "--drain", "--json"}, opts);
    ASSERT_EQ(w.exit_code, 0) << w.err;
    ASSERT_EQ(test::json_lines(w.out).back()["succeeded"], 2)
        << w.out << w.err << run_cli({"queue", "ls", "--json"}, opts).out;

    // One pull request per root.
    auto prs = pull_requests();
    ASSERT_EQ(prs.size(), 2u) << run_cli({"queue", "ls", "--json"}, opts).out;
    std::string app_body = prs["infra/app"]["body"];
    EXPECT_NE(app_body.find("| `terraform_data.app` | `input` | `\"v1\"` | `\"v2\"` | codified |"), std::string::npos)
        << app_body;
    EXPECT_NE(app_body.find("-  input = \"v1\" # the release\n+  input = \"v2\" # the release"), std::string::npos)
        << app_body;
    std::string mixed = prs["infra/mixed"]["body"];
    EXPECT_NE(mixed.find("- `terraform_data.sized` `input`: set from an expression (`var.size`): change the value "
                         "where it comes from"),
              std::string::npos)
        << mixed;
    EXPECT_NE(mixed.find("| `terraform_data.secret` | `input` | (sensitive) | (sensitive) | not codified |"),
              std::string::npos)
        << mixed;
    EXPECT_NE(mixed.find("- `terraform_data.gone`: in the code and not in the state"), std::string::npos) << mixed;

    // Validation planned against the real state: the codified root has nothing left to change.
    auto app_task = json::parse(run_cli({"queue", "show", prs["infra/app"]["taskId"], "--json"}, opts).out);
    json plan = app_task["result"]["change"]["validation"]["plan"]["infra/app"];
    EXPECT_EQ(plan["add"], 0) << plan.dump();
    EXPECT_EQ(plan["change"], 0) << plan.dump();
    EXPECT_EQ(plan["destroy"], 0) << plan.dump();
    EXPECT_EQ(plan["scopeChecked"], true);
    // In the other root only the literal was codified; what was not still plans as a change.
    auto mixed_task = json::parse(run_cli({"queue", "show", prs["infra/mixed"]["taskId"], "--json"}, opts).out);
    EXPECT_EQ(mixed_task["result"]["codified"].size(), 1u) << mixed_task["result"].dump();
    EXPECT_EQ(mixed_task["result"]["notCodified"].size(), 3u) << mixed_task["result"].dump();
    EXPECT_NE(mixed.find("| `terraform_data.label` | `input` | `\"blue\"` | `\"green\"` | codified |"),
              std::string::npos)
        << mixed;
    std::string touched = mixed_task["result"]["change"]["validation"]["plan"]["infra/mixed"]["resources"].dump();
    EXPECT_EQ(touched.find("terraform_data.label"), std::string::npos) << touched;
    EXPECT_NE(touched.find("terraform_data.sized"), std::string::npos) << touched;

    // The sensitive value is nowhere: not in a pull request, a task or an event.
    auto events = run_cli({"events", "--json", "--limit", "0"}, opts);
    EXPECT_EQ(events.out.find("leaked-token-value"), std::string::npos);
    EXPECT_EQ(run_cli({"queue", "ls", "--json"}, opts).out.find("leaked-token-value"), std::string::npos);
    EXPECT_EQ(mixed.find("leaked-token-value"), std::string::npos);
    EXPECT_EQ(mixed_task.dump().find("leaked-token-value"), std::string::npos);

    // A second scan finds the same drift: the same pull requests, updated.
    auto again = run_cli({"drift", "--enqueue", "--json", "--repo-id", "acme/infra"}, opts);
    ASSERT_EQ(again.exit_code, 0) << again.err;
    ASSERT_EQ(run_cli({"worker", "--drain", "--json"}, opts).exit_code, 0);
    auto later = pull_requests();
    ASSERT_EQ(later.size(), 2u);
    EXPECT_EQ(later["infra/app"]["id"], prs["infra/app"]["id"]);
    EXPECT_EQ(later["infra/app"]["updates"], 1) << later["infra/app"].dump();
    EXPECT_NE(later["infra/app"]["taskId"], prs["infra/app"]["taskId"]);

    // The app root's drift goes away: the scan closes its pull request, saying why.
    change_state(state("app"), "app", "v1");
    auto gone = run_cli({"drift", "--enqueue", "--json", "--repo-id", "acme/infra"}, opts);
    ASSERT_EQ(gone.exit_code, 0) << gone.err;
    auto resolved = test::json_lines(run_cli({"events", "--json", "--type", "drift.resolved"}, opts).out);
    ASSERT_EQ(resolved.size(), 1u);
    EXPECT_EQ(resolved[0]["data"]["root"], "infra/app");
    EXPECT_EQ(resolved[0]["data"]["pullRequest"]["id"], prs["infra/app"]["id"]);
    auto closed = json::parse(run_cli({"pr", "show", prs["infra/app"]["id"], "--json"}, opts).out);
    EXPECT_EQ(closed["state"], "closed") << closed.dump();
    EXPECT_EQ(closed["reason"], "closed: infra/app no longer drifts from its code (a drift scan found no difference)")
        << closed.dump();
    EXPECT_EQ(test::json_lines(run_cli({"events", "--json", "--type", "pr.obsolete"}, opts).out).size(), 1u);
    // The other root still drifts: its pull request stays open.
    EXPECT_EQ(json::parse(run_cli({"pr", "show", prs["infra/mixed"]["id"], "--json"}, opts).out)["state"], "open");
}

TEST_F(DriftFixCli, RevertWaitsForApprovalThenAppliesOnce)
{
    test::write_file(
        home() / "policies" / "drift.yaml",
        "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: org-tiers, level: organization}\nrules:\n"
        "  - name: app-drift-reverts\n    match: {type: drift-detection, context.resource: infra/app}\n"
        "    tier: 4\n    requiredApprovals: [platform-oncall]\n    drift: {mode: revert}\n"
        "    constraints: {requiresValidation: true}\n"
        "  - name: other-drift-codified\n    match: {type: drift-detection, context.resource: {not: infra/app}}\n"
        "    tier: 2\n    drift: {mode: codify}\n");
    change_state(state("app"), "app", "v2");
    auto scan = run_cli({"drift", "--enqueue", "--json", "--repo-id", "acme/infra", "infra/app"}, opts);
    auto admitted = test::json_lines(scan.out);
    ASSERT_EQ(admitted.size(), 1u) << scan.out << scan.err;
    EXPECT_EQ(admitted[0]["state"], "pending-approval");
    std::string id = admitted[0]["id"];
    ASSERT_EQ(run_cli({"approve", id, "--as", "bob"}, opts).exit_code, 0);
    auto w = run_cli({"worker", "--drain", "--json"}, opts);
    ASSERT_EQ(test::json_lines(w.out).back()["succeeded"], 1)
        << w.out << w.err << run_cli({"queue", "ls", "--json"}, opts).out;

    // No code changed; the plan made against the real state puts v1 back.
    auto task = json::parse(run_cli({"queue", "show", id, "--json"}, opts).out);
    json change = task["result"]["change"];
    EXPECT_EQ(change["state"], "plan-saved") << change.dump();
    EXPECT_EQ(change["validation"]["plan"]["infra/app"]["change"], 1) << change.dump();
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).size(), 0u);
    std::string sha = change["savedPlans"]["roots"]["infra/app"]["sha256"];
    EXPECT_NE(test::read_file(state("app")).find("\"v2\""), std::string::npos);

    // Waits for the plan's approval, then applies it once.
    EXPECT_EQ(run_cli({"apply", id, "--as", "carol"}, opts).exit_code, 4);
    ASSERT_EQ(run_cli({"approve", id, "--as", "alice", "--plan", sha}, opts).exit_code, 0);
    auto applied = run_cli({"apply", id, "--as", "carol", "--json"}, opts);
    ASSERT_EQ(applied.exit_code, 0) << applied.err << applied.out;
    EXPECT_EQ(json::parse(applied.out)["outcome"], "applied");
    std::string after = test::read_file(state("app"));
    EXPECT_NE(after.find("\"v1\""), std::string::npos) << after;
    EXPECT_EQ(after.find("\"v2\""), std::string::npos);
    EXPECT_EQ(run_cli({"apply", id, "--as", "carol"}, opts).exit_code, 3);
    auto clean = run_cli({"drift", "--detailed-exitcode", "infra/app"}, opts);
    EXPECT_EQ(clean.exit_code, 0) << clean.err;
}

TEST_F(DriftFixCli, ReportChangesNothing)
{
    test::write_file(
        home() / "policies" / "drift.yaml",
        "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: team-drift, level: organization}\nrules:\n"
        "  - name: drift-is-reported\n    match: {type: drift-detection}\n    drift: {mode: report}\n");
    change_state(state("app"), "app", "v2");
    ASSERT_EQ(run_cli({"drift", "--enqueue", "--repo-id", "acme/infra", "infra/app"}, opts).exit_code, 0);
    auto w = run_cli({"worker", "--drain", "--json"}, opts);
    ASSERT_EQ(test::json_lines(w.out).back()["succeeded"], 1) << w.out << w.err;
    auto tasks = test::json_lines(run_cli({"queue", "ls", "--json"}, opts).out);
    ASSERT_EQ(tasks.size(), 1u);
    auto task = json::parse(run_cli({"queue", "show", tasks[0]["id"], "--json"}, opts).out);
    EXPECT_EQ(task["decision"]["drift"]["mode"], "report");
    EXPECT_EQ(task["result"]["change"]["state"], "no-change") << task["result"].dump();
    EXPECT_EQ(task["result"]["drifted"][0],
              json::parse(R"({"address": "terraform_data.app", "attribute": "input", "old": "v1", "new": "v2"})"));
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).size(), 0u);
}

}  // namespace
}  // namespace infra
