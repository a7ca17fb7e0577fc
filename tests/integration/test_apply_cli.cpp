// The tier-4 gated apply through the binary, with the real terraform on
// terraform_data resources and local state kept outside the repository: a
// production change waits for approval, runs, and keeps its saved plan
// (made against the real state) with the plan's hash in the pull request.
// `apply` refuses without every approval of that plan (exit 4), refuses a
// plan file that changed and a branch that moved (exit 3), applies exactly
// the approved plan once, and refuses to apply it again. Every step is in
// the audit log.
#include "support/ci_server.hpp"
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/production_change.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <csignal>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/crypto.hpp"

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

/// A production change that waits for platform-oncall (tests/support/production_change.hpp).
class ApplyCli : public test::ProductionChange {
protected:
    /// Runs the task once bob approved the run; the hash of the plan it saved.
    std::string run_to_a_saved_plan(const std::string& task)
    {
        EXPECT_EQ(run_cli({"approve", task, "--as", "bob"}, opts).exit_code, 0);
        auto w = run_cli({"worker", "--drain", "--json"}, opts);
        auto summary = test::json_lines(w.out);
        EXPECT_TRUE(!summary.empty() && summary.back()["succeeded"] == 1) << w.out << w.err;
        auto shown = json::parse(run_cli({"queue", "show", task, "--json"}, opts).out);
        return shown.value("/result/change/savedPlans/roots/infra/sha256"_json_pointer, "");
    }
};

TEST_F(ApplyCli, OnlyTheApprovedPlanIsAppliedAndOnlyOnce)
{
    std::string id = enqueue_production_change();
    ASSERT_EQ(run_cli({"approve", id, "--as", "bob"}, opts).exit_code, 0);
    auto w = run_cli({"worker", "--drain", "--json"}, opts);
    ASSERT_EQ(w.exit_code, 0) << w.err;
    ASSERT_EQ(test::json_lines(w.out).back()["succeeded"], 1)
        << w.out << w.err << run_cli({"queue", "ls", "--json"}, opts).out;

    // The run kept the plan, made against the real state: one change, in scope.
    auto shown = json::parse(run_cli({"queue", "show", id, "--json"}, opts).out);
    json change = shown["result"]["change"];
    ASSERT_TRUE(change.contains("savedPlans")) << shown.dump();
    std::string sha = change["savedPlans"]["roots"]["infra"]["sha256"];
    fs::path plan_file = fs::path(change["savedPlans"]["dir"].get<std::string>()) /
                         change["savedPlans"]["roots"]["infra"]["file"].get<std::string>();
    EXPECT_EQ(test::run_program("/usr/bin/sha256sum", {plan_file.string()}).out.substr(0, 64), sha);
    json plan = change["validation"]["plan"]["infra"];
    EXPECT_EQ(plan["change"], 1) << plan.dump();
    EXPECT_EQ(plan["scopeChecked"], true);
    // The pull request shows the hash reviewers approve.
    auto prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
    ASSERT_EQ(prs.size(), 1u);
    auto pr = json::parse(run_cli({"pr", "show", prs[0]["id"], "--json"}, opts).out);
    EXPECT_NE(pr["body"].get<std::string>().find("sha256 `" + sha + "`"), std::string::npos) << pr["body"];

    // No approval of the plan yet (bob's approval was for the run): pending, nothing applied.
    auto early = run_cli({"apply", id, "--as", "carol"}, opts);
    EXPECT_EQ(early.exit_code, 4) << early.err;
    EXPECT_NE(early.err.find("waits for approval by platform-oncall"), std::string::npos) << early.err;
    EXPECT_NE(test::read_file(dir / "state" / "terraform.tfstate").find("\"v1\""), std::string::npos);

    // The requester cannot approve, under any spelling of her name; nor can
    // someone outside the group; a reviewer who saw another plan is refused.
    EXPECT_EQ(run_cli({"approve", id, "--as", "alice"}, opts).exit_code, 3);
    auto self = run_cli({"approve", id, "--as", " Alice", "--plan", sha}, opts);
    EXPECT_EQ(self.exit_code, 3) << self.out;
    EXPECT_NE(self.err.find("Alice asked for task " + id + " and cannot approve it"), std::string::npos) << self.err;
    auto outsider = run_cli({"approve", id, "--as", "erin", "--plan", sha}, opts);
    EXPECT_EQ(outsider.exit_code, 3) << outsider.out;
    EXPECT_NE(outsider.err.find("'erin' is not a member of approval group 'platform-oncall'"), std::string::npos)
        << outsider.err;
    auto wrong = run_cli({"approve", id, "--as", "bob", "--plan", std::string(64, 'a')}, opts);
    EXPECT_EQ(wrong.exit_code, 3);
    EXPECT_NE(wrong.err.find("not the " + std::string(64, 'a') + " you reviewed"), std::string::npos) << wrong.err;
    EXPECT_EQ(run_cli({"apply", id, "--as", "carol"}, opts).exit_code, 4);

    auto ok = run_cli({"approve", id, "--as", "bob", "--plan", sha, "--json"}, opts);
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(json::parse(ok.out)["state"], "approved");
    EXPECT_EQ(json::parse(ok.out)["group"], "platform-oncall");

    // A plan file changed after approval is refused, and so is a branch that moved.
    std::string saved = test::read_file(plan_file);
    test::write_file(plan_file, saved + "x");
    auto changed = run_cli({"apply", id, "--as", "carol"}, opts);
    EXPECT_EQ(changed.exit_code, 3);
    EXPECT_NE(changed.err.find("changed since it was made and approved"), std::string::npos) << changed.err;
    test::write_file(plan_file, saved);
    std::string branch = change["branch"];
    std::string planned = change["commit"];
    test::git(dir / "acme.git", "update-ref refs/heads/" + branch + " refs/heads/main");
    auto moved = run_cli({"apply", id, "--as", "carol"}, opts);
    EXPECT_EQ(moved.exit_code, 3);
    EXPECT_NE(moved.err.find("the plan was made at " + planned.substr(0, 12)), std::string::npos) << moved.err;
    EXPECT_NE(test::read_file(dir / "state" / "terraform.tfstate").find("\"v1\""), std::string::npos);
    test::git(dir / "acme.git", "update-ref refs/heads/" + branch + " " + planned);

    // Every approval recorded, the same plan, the same commit: applied, in the sandbox, to the real state.
    auto applied = run_cli({"apply", id, "--as", "carol", "--json"}, opts);
    ASSERT_EQ(applied.exit_code, 0) << applied.err << applied.out;
    auto out = json::parse(applied.out);
    EXPECT_EQ(out["outcome"], "applied");
    EXPECT_EQ(out["planSha256"], sha);
    EXPECT_EQ(out["approvers"][0]["by"], "bob");
    std::string state = test::read_file(dir / "state" / "terraform.tfstate");
    EXPECT_NE(state.find("\"v2\""), std::string::npos) << state;
    EXPECT_EQ(state.find("\"v1\""), std::string::npos);

    // Once.
    auto again = run_cli({"apply", id, "--as", "carol"}, opts);
    EXPECT_EQ(again.exit_code, 3);
    EXPECT_NE(again.err.find("was applied already"), std::string::npos) << again.err;

    // The audit log has each approval, refusal and the apply, with the approvers and the plan hash, and verifies.
    auto events = test::json_lines(run_cli({"events", "--task", id, "--json"}, opts).out);
    int refused = 0;
    std::vector<std::string> outcomes;
    json finished;
    bool plan_approved = false;
    for (auto& e : events) {
        if (e["event"] == "apply.refused") ++refused;  // before an apply starts
        if (e["event"] == "apply.finished") {
            finished = e;
            outcomes.push_back(e["data"]["outcome"]);
        }
        if (e["event"] == "plan.approved") plan_approved = e["data"]["planSha256"] == sha;
    }
    EXPECT_EQ(refused, 4);  // twice pending, a changed plan, applied already
    EXPECT_EQ(outcomes, (std::vector<std::string>{"refused", "applied"}));  // the moved branch, then the apply
    EXPECT_TRUE(plan_approved);
    ASSERT_TRUE(finished.is_object());
    EXPECT_EQ(finished["data"]["planSha256"], sha);
    EXPECT_EQ(finished["data"]["approvers"][0]["group"], "platform-oncall");
    EXPECT_EQ(run_cli({"audit", "verify"}, opts).exit_code, 0);
}

TEST_F(ApplyCli, LowerTiersAndUnrunTasksAreNeverApplied)
{
    std::string id = enqueue_production_change();
    auto parked = run_cli({"apply", id, "--as", "carol"}, opts);
    EXPECT_EQ(parked.exit_code, 1);  // it has not run: there is no plan
    EXPECT_NE(parked.err.find("is pending-approval"), std::string::npos) << parked.err;

    auto low = run_cli({"apply", enqueue_staging_change(), "--as", "carol"}, opts);
    EXPECT_EQ(low.exit_code, 3);
    EXPECT_NE(low.err.find("is tier 2: only tier-4 tasks are applied"), std::string::npos) << low.err;
    EXPECT_EQ(run_cli({"apply", id}, opts).exit_code, 64);  // --as is required
}

TEST_F(ApplyCli, APlanMadeByTheCiIsAppliedByTheCi)
{
    // The organisation's CI plans the pushed branch and saves the plan as an
    // artifact; that plan is the one approved, and the CI's apply workflow
    // is dispatched with its hash and run to apply it.
    test::CiServer ci([this](const std::string& branch) {
        auto r = test::run_program(
            "/usr/bin/git", {"-C", (dir / "acme.git").string(), "rev-parse", "--verify", "-q", "refs/heads/" + branch});
        return r.exit_code == 0 ? std::string(r.out.substr(0, 40)) : std::string();
    });
    test::write_file(home() / "config.yaml",
                     test::read_file(home() / "config.yaml") +
                         "validation:\n  steps:\n    - name: ci-plan\n      pipeline: {kind: github-actions, workflow: "
                         "plan.yml, poll: 20ms,\n"
                         "                 plan: {artifact: plan, file: plan.tfplan}}\n"
                         "apply:\n  pipeline: {kind: github-actions, workflow: apply.yml, poll: 20ms}\n"
                         "ci:\n  github: {base_url: " +
                         ci.url() + ", token_env: CI_TOKEN}\n");
    opts.env["CI_TOKEN"] = "ghs_ci_token_for_tests_0123456789";
    std::string id = enqueue_production_change();
    ASSERT_EQ(run_cli({"approve", id, "--as", "bob"}, opts).exit_code, 0);
    auto w = run_cli({"worker", "--drain", "--json"}, opts);
    ASSERT_EQ(test::json_lines(w.out).back()["succeeded"], 1)
        << w.out << w.err << run_cli({"queue", "ls", "--json"}, opts).out;

    std::string sha = core::crypto::sha256_hex(test::CiServer::plan_bytes());
    auto shown = json::parse(run_cli({"queue", "show", id, "--json"}, opts).out);
    json saved = shown["result"]["change"]["savedPlans"]["roots"]["pipeline:ci-plan"];
    EXPECT_EQ(saved["sha256"], sha) << shown.dump();
    EXPECT_EQ(saved["pipeline"]["run"], "7001");

    EXPECT_EQ(run_cli({"apply", id, "--as", "carol"}, opts).exit_code, 4);
    ASSERT_EQ(run_cli({"approve", id, "--as", "bob", "--plan", sha}, opts).exit_code, 0);

    // A failed apply run is a failure with its link, and may be tried again; a passing one applies.
    ci.set_scenario("apply.yml", test::Scenario::fail);
    auto failed = run_cli({"apply", id, "--as", "carol"}, opts);
    EXPECT_EQ(failed.exit_code, 1);
    EXPECT_NE(failed.err.find("the apply pipeline failed: failure (https://github.test/acme/infra/actions/runs/7002)"),
              std::string::npos)
        << failed.err;
    ci.set_scenario("apply.yml", test::Scenario::pass);
    auto applied = run_cli({"apply", id, "--as", "carol", "--json"}, opts);
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    EXPECT_EQ(json::parse(applied.out)["outcome"], "applied");
    auto inputs = ci.dispatched_inputs("apply.yml");
    ASSERT_EQ(inputs.size(), 2u);
    EXPECT_EQ(inputs[1]["plan_sha256"], sha);
    EXPECT_EQ(inputs[1]["plan_run"], "7001");
    EXPECT_EQ(inputs[1]["plan_artifact"], "plan");
    EXPECT_EQ(inputs[1]["task_id"], id);
    EXPECT_EQ(run_cli({"apply", id, "--as", "carol"}, opts).exit_code, 3);  // once

    // Nothing was applied locally: the state is as production had it.
    EXPECT_NE(test::read_file(dir / "state" / "terraform.tfstate").find("\"v1\""), std::string::npos);
}

TEST_F(ApplyCli, AWorkerAppliesATaskThatAskedForItOnceItsPlanIsApproved)
{
    std::string id = enqueue_production_change(true);
    ASSERT_EQ(run_cli({"approve", id, "--as", "bob"}, opts).exit_code, 0);
    auto w = run_cli({"worker", "--drain", "--json"}, opts);
    ASSERT_EQ(test::json_lines(w.out).back()["succeeded"], 1) << w.out << w.err;
    // Proposed, not applied: the plan has no approval yet, and a worker does not wait for one.
    EXPECT_EQ(run_cli({"worker", "--drain"}, opts).exit_code, 0);
    EXPECT_NE(test::read_file(dir / "state" / "terraform.tfstate").find("\"v1\""), std::string::npos);

    auto shown = json::parse(run_cli({"queue", "show", id, "--json"}, opts).out);
    std::string sha = shown["result"]["change"]["savedPlans"]["roots"]["infra"]["sha256"];
    ASSERT_EQ(run_cli({"approve", id, "--as", "bob", "--plan", sha}, opts).exit_code, 0);
    auto applied = run_cli({"worker", "--drain"}, opts);
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    EXPECT_NE(test::read_file(dir / "state" / "terraform.tfstate").find("\"v2\""), std::string::npos) << applied.err;
    auto events = test::json_lines(run_cli({"events", "--task", id, "--type", "apply.*", "--json"}, opts).out);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1]["data"]["outcome"], "applied");
    EXPECT_EQ(events[1]["data"]["by"].get<std::string>().rfind("worker ", 0), 0u);
    // Once: the next worker leaves it.
    EXPECT_EQ(run_cli({"worker", "--drain"}, opts).exit_code, 0);
    EXPECT_EQ(test::json_lines(run_cli({"events", "--task", id, "--type", "apply.*", "--json"}, opts).out).size(), 2u);
}

TEST_F(ApplyCli, AnApplyWhoseProcessDiedIsInterruptedThenRecoveredByAnOperator)
{
    test::write_file(home() / "config.yaml", test::read_file(home() / "config.yaml") + "apply:\n  lease: 4s\n");
    std::string id = enqueue_production_change();
    std::string sha = run_to_a_saved_plan(id);
    ASSERT_FALSE(sha.empty());
    ASSERT_EQ(run_cli({"approve", id, "--as", "bob", "--plan", sha}, opts).exit_code, 0);

    // The apply's process is killed while it clones the branch (the server has stopped answering).
    std::atomic<bool> answer{false};
    {
        test::GitHttpServer server(dir.path(), [&](const std::string&, const std::string&, const std::string&, bool) {
            while (!answer) std::this_thread::sleep_for(std::chrono::milliseconds(20));
            return true;
        });
        test::Background apply({"apply", id, "--as", "carol", "--repo", server.url() + "acme.git"}, opts);
        bool started = false;
        for (int i = 0; i < 300 && !started; ++i) {
            started =
                !test::json_lines(run_cli({"events", "--task", id, "--type", "apply.started", "--json"}, opts).out)
                     .empty();
            if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        ASSERT_TRUE(started) << apply.err();
        apply.stop(SIGKILL);
        answer = true;
    }
    // While its lease lasts, the plan is being applied as far as anyone knows.
    auto held = run_cli({"apply", id, "--as", "carol"}, opts);
    EXPECT_EQ(held.exit_code, 3) << held.err;
    EXPECT_NE(held.err.find("is being applied"), std::string::npos) << held.err;
    auto early = run_cli({"apply", id, "--as", "dana", "--recover"}, opts);
    EXPECT_NE(early.exit_code, 0);
    EXPECT_NE(early.err.find("is still running"), std::string::npos) << early.err;
    // Then it is interrupted, and blocks its plan until an operator recovers it.
    std::this_thread::sleep_for(std::chrono::seconds(5));
    auto blocked = run_cli({"apply", id, "--as", "carol"}, opts);
    EXPECT_EQ(blocked.exit_code, 3) << blocked.err;
    EXPECT_NE(blocked.err.find("was interrupted"), std::string::npos) << blocked.err;
    EXPECT_NE(blocked.err.find("infra-agent apply " + id + " --as NAME --recover"), std::string::npos) << blocked.err;
    auto recovered = run_cli({"apply", id, "--as", "dana", "--recover", "--json"}, opts);
    ASSERT_EQ(recovered.exit_code, 0) << recovered.err;
    EXPECT_EQ(json::parse(recovered.out)["recovered"].size(), 1u) << recovered.out;
    EXPECT_NE(run_cli({"apply", id, "--as", "dana", "--recover"}, opts).exit_code, 0);  // nothing left to recover

    // Nothing had been applied: the approved plan applies now (terraform refuses a plan the state moved past).
    auto applied = run_cli({"apply", id, "--as", "carol", "--json"}, opts);
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    EXPECT_EQ(json::parse(applied.out)["outcome"], "applied");
    EXPECT_NE(test::read_file(dir / "state" / "terraform.tfstate").find("\"v2\""), std::string::npos);

    std::map<std::string, json> last;
    for (auto& e : test::json_lines(run_cli({"events", "--task", id, "--type", "apply.*", "--json"}, opts).out))
        last[e["event"]] = e["data"];
    EXPECT_FALSE(last["apply.interrupted"]["holder"].get<std::string>().empty()) << last["apply.interrupted"];
    EXPECT_EQ(last["apply.recovered"]["by"], "dana");
    EXPECT_EQ(last["apply.finished"]["outcome"], "applied");
    EXPECT_EQ(run_cli({"audit", "verify"}, opts).exit_code, 0);
}

TEST_F(ApplyCli, ThePlanCanBeApprovedThroughServesApi)
{
    std::string id = enqueue_production_change();
    std::string sha = run_to_a_saved_plan(id);
    ASSERT_FALSE(sha.empty());

    test::write_file(dir / "tokens", "dana tok-dana-0123456789abcdef\nAlice tok-alice-0123456789abcdef\n");
    test::write_file(home() / "config.yaml", test::read_file(home() / "config.yaml") +
                                                 "serve:\n  api_tokens_file: " + (dir / "tokens").string() + "\n");
    test::Background server({"serve", "--listen", "127.0.0.1:0"}, opts);
    auto ready = json::parse(server.read_line(20000), nullptr, false);
    ASSERT_TRUE(ready.is_object()) << server.err();
    httplib::Client http(ready["url"].get<std::string>());
    httplib::Headers auth = {{"Authorization", "Bearer tok-dana-0123456789abcdef"}};
    // alice asked for the task: her token, whatever case its name has, cannot approve its plan.
    auto self = http.Post("/v1/tasks/" + id + "/approve", {{"Authorization", "Bearer tok-alice-0123456789abcdef"}},
                          json{{"plan", sha}}.dump(), "application/json");
    ASSERT_TRUE(self);
    EXPECT_EQ(self->status, 403) << self->body;
    EXPECT_NE(self->body.find("Alice asked for task"), std::string::npos) << self->body;
    auto wrong = http.Post("/v1/tasks/" + id + "/approve", auth, json{{"plan", std::string(64, 'b')}}.dump(),
                           "application/json");
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 403) << wrong->body;
    auto ok = http.Post("/v1/tasks/" + id + "/approve", auth, json{{"plan", sha}}.dump(), "application/json");
    ASSERT_TRUE(ok);
    ASSERT_EQ(ok->status, 200) << ok->body;
    EXPECT_EQ(json::parse(ok->body)["state"], "approved");
    EXPECT_EQ(json::parse(ok->body)["by"], "dana");
    EXPECT_EQ(server.stop(SIGTERM), 0);

    auto applied = run_cli({"apply", id, "--as", "carol", "--json"}, opts);
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    EXPECT_EQ(json::parse(applied.out)["approvers"][0]["by"], "dana");
}

TEST_F(ApplyCli, OnePersonApprovesOneGroupOfAPlan)
{
    // Here production drift needs security's approval as well.
    test::write_file(
        home() / "policies" / "security.yaml",
        "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: security-signs, level: organization}\nrules:\n"
        "  - name: production-needs-security\n    match: {context.environment: production}\n"
        "    requiredApprovals: [security]\n");
    std::string id = enqueue_production_change();
    ASSERT_EQ(run_cli({"approve", id, "--as", "bob", "--group", "platform-oncall"}, opts).exit_code, 0);
    EXPECT_EQ(run_cli({"approve", id, "--as", "BOB", "--group", "security"}, opts).exit_code, 3);
    ASSERT_EQ(run_cli({"approve", id, "--as", "erin", "--group", "security"}, opts).exit_code, 0);
    auto w = run_cli({"worker", "--drain", "--json"}, opts);
    ASSERT_EQ(test::json_lines(w.out).back()["succeeded"], 1) << w.out << w.err;
    auto shown = json::parse(run_cli({"queue", "show", id, "--json"}, opts).out);
    std::string sha = shown["result"]["change"]["savedPlans"]["roots"]["infra"]["sha256"];

    auto first = run_cli({"approve", id, "--as", "bob", "--group", "platform-oncall", "--plan", sha, "--json"}, opts);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_EQ(json::parse(first.out)["waiting"], json::array({"security"}));
    auto second = run_cli({"approve", id, "--as", "Bob ", "--group", "security", "--plan", sha}, opts);
    EXPECT_EQ(second.exit_code, 3) << second.out;
    EXPECT_NE(second.err.find("Bob already approved task " + id +
                              " for 'platform-oncall', and one person counts for one group of a task"),
              std::string::npos)
        << second.err;
    EXPECT_EQ(run_cli({"apply", id, "--as", "carol"}, opts).exit_code, 4);  // security has not approved the plan
    auto other = run_cli({"approve", id, "--as", "erin", "--plan", sha, "--json"}, opts);
    ASSERT_EQ(other.exit_code, 0) << other.err;
    EXPECT_EQ(json::parse(other.out)["group"], "security");
    EXPECT_EQ(json::parse(other.out)["state"], "approved");
}

}  // namespace
}  // namespace infra
