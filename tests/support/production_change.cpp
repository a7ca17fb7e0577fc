#include "support/production_change.hpp"

#include "support/git_http.hpp"

#include <nlohmann/json.hpp>

namespace infra::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string main_tf(const fs::path& state, const std::string& input)
{
    return "terraform {\n  backend \"local\" {\n    path = \"" + (state / "terraform.tfstate").string() +
           "\"\n  }\n}\n\nresource \"terraform_data\" \"bucket\" {\n  input = \"" + input + "\"\n}\n";
}

}  // namespace

void ProductionChange::SetUp()
{
    fs::create_directories(dir / "state");
    // The state as production has it: the bucket at v1, applied outside infra-agent.
    write_file(dir / "bootstrap" / "main.tf", main_tf(dir / "state", "v1"));
    auto boot = run_program("/bin/sh", {"-c", "cd " + (dir / "bootstrap").string() +
                                                  " && terraform init -input=false -no-color >/dev/null && "
                                                  "terraform apply -auto-approve -input=false -no-color >/dev/null"});
    ASSERT_EQ(boot.exit_code, 0) << boot.err;
    ASSERT_NE(read_file(dir / "state" / "terraform.tfstate").find("\"v1\""), std::string::npos);

    write_file(dir / "seed" / "infra" / "main.tf", main_tf(dir / "state", "v1"));
    git(dir / "seed", "init -q -b main");
    git(dir / "seed", "add -A");
    git(dir / "seed", "-c user.name=t -c user.email=t@example.com commit -q -m seed");
    git(dir.path(), "clone -q --bare seed acme.git");

    opts.cwd = dir.path().string();
    opts.env["INFRA_AGENT_HOME"] = home().string();
    ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
    write_file(home() / "config.yaml",
               "git:\n  repo: " + (dir / "acme.git").string() +
                   "\n"
                   "exec:\n  command: [sh, -c, \"sed -i s/v1/v2/ infra/main.tf && echo bucket input to v2\"]\n"
                   "sandbox:\n  state_dirs: [" +
                   (dir / "state").string() +
                   "]\n"
                   "approvals:\n  groups:\n    platform-oncall: {members: [alice, bob, dana]}\n    security: {members: "
                   "[bob, erin]}\n");
    // The bundled tiers stop drift at tier 2 (a pull request); this team
    // lets production drift be applied, behind platform-oncall's approval
    // (the bundled org-production rule).
    write_file(
        home() / "policies" / "tiers.yaml",
        "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: org-tiers, level: organization}\nrules:\n"
        "  - name: production-drift-applies\n    match: {type: drift-detection, context.environment: production}\n"
        "    tier: 4\n    requiredApprovals: [platform-oncall]\n    constraints: {requiresPR: true, "
        "requiresValidation: true, maxIterations: 5,\n"
        "                  allowedTools: [list_files, read_file, write_file, apply_patch, finish]}\n"
        "  - name: other-drift-drafts-prs\n    match: {type: drift-detection, context.environment: staging}\n"
        "    tier: 2\n    constraints: {requiresPR: true, requiresValidation: true}\n");
}

std::string ProductionChange::enqueue_production_change(bool apply)
{
    json task = {{"id", "01M86TZH12FPQAZA78N10Q24A1"},
                 {"type", "drift-detection"},
                 {"trigger", {{"source", "api"}, {"provider", "test"}, {"timestamp", "2026-11-25T03:00:00Z"}}},
                 {"context",
                  {{"agentSlug", "exec"},
                   {"environment", "production"},
                   {"repositoryId", "acme/infra"},
                   {"resource", "terraform_data.bucket"}}},
                 {"payload", {{"requestedBy", "alice"}, {"apply", apply}}},
                 {"dedupeKey", "apply-test"}};
    auto o = opts;
    o.stdin_data = task.dump() + "\n";
    auto q = run_cli({"enqueue"}, o);
    EXPECT_EQ(q.exit_code, 4) << q.err;  // production waits for platform-oncall before anything runs
    return task["id"];
}

std::string ProductionChange::enqueue_staging_change()
{
    json task = {{"id", "01M86TZH12FPQAZA78N10Q24A2"},
                 {"type", "drift-detection"},
                 {"trigger", {{"source", "api"}, {"provider", "test"}, {"timestamp", "2026-11-25T03:00:00Z"}}},
                 {"context", {{"agentSlug", "exec"}, {"environment", "staging"}, {"repositoryId", "acme/infra"}}},
                 {"payload", json::object()},
                 {"dedupeKey", "apply-test-staging"}};
    auto o = opts;
    o.stdin_data = task.dump() + "\n";
    EXPECT_EQ(run_cli({"enqueue"}, o).exit_code, 0);
    return task["id"];
}

void ProductionChange::run_reviewed_change(const std::string& forge, const std::string& hook, const std::string& team,
                                           const std::string& more)
{
    write_file(home() / "config.yaml",
               "git:\n  repo: " + (dir / "acme.git").string() +
                   "\n"
                   "exec:\n  command: [sh, -c, \"sed -i s/v1/v2/ infra/main.tf && echo bucket input to v2\"]\n"
                   "sandbox:\n  state_dirs: [" +
                   (dir / "state").string() +
                   "]\n"
                   "forge: " +
                   forge + "\nwebhooks:\n  " + hook +
                   ": {secret_env: HOOK_SECRET}\n"
                   "approvals:\n  groups:\n    platform-oncall: {members: [bob], " +
                   team + "}\n" + more);
    opts.env["HOOK_SECRET"] = k_hook_secret;
    id = enqueue_production_change();
    ASSERT_EQ(run_cli({"approve", id, "--as", "bob"}, opts).exit_code, 0);
    auto w = run_cli({"worker", "--drain", "--json"}, opts);
    ASSERT_EQ(json_lines(w.out).back()["succeeded"], 1) << w.out << w.err;
    auto change = json::parse(run_cli({"queue", "show", id, "--json"}, opts).out)["result"]["change"];
    sha = change["savedPlans"]["roots"]["infra"]["sha256"];
    branch = change["branch"];
    commit = change["commit"];
    server = std::make_unique<Background>(std::vector<std::string>{"serve", "--listen", "127.0.0.1:0"}, opts);
    auto ready = json::parse(server->read_line(20000), nullptr, false);
    ASSERT_TRUE(ready.is_object()) << server->err();
    url = ready["url"];
}

}  // namespace infra::test
