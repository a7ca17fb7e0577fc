// The exec agent: an external command in the sandbox, the task on its
// stdin, the workspace diff as its result, and nothing it leaves behind
// that points outside the workspace.
#include "core/events/event.hpp"
#include "core/policy/policy.hpp"
#include "core/sandbox.hpp"
#include "core/task.hpp"
#include "core/workspace.hpp"
#include "plugins/agents/exec/agent.hpp"
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace infra;
using infra::test::read_file;
using infra::test::TempDir;
using infra::test::write_file;
using nlohmann::json;

namespace {

struct ExecAgentTest : ::testing::Test {
    TempDir dir;
    std::optional<core::Workspace> ws;
    std::optional<core::sandbox::Sandbox> box;
    core::events::MemorySink events;

    void SetUp() override
    {
        write_file(dir / "ws/main.tf", "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n}\n");
        write_file(dir / "ws/old.txt", "to be removed\n");
        auto w = core::Workspace::open(dir / "ws");
        ASSERT_TRUE(w);
        ws = *w;
        auto s = core::sandbox::Sandbox::create(core::sandbox::Mode::bwrap);
        ASSERT_TRUE(s) << s.error().message;
        box = *s;
    }

    core::agent::Outcome run(const std::string& script, long long timeout_ms = 60000)
    {
        core::AgentTask task;
        task.id = "01JEXEC000000000000000000A";
        task.extra = {{"title", "fix the bucket"}};
        core::policy::Decision decision;
        decision.allowed = true;
        decision.timeout_ms = timeout_ms;
        return run(script, task, decision, json{{"policyDigest", "sha256:x"}});
    }

    core::agent::Outcome run(const std::string& script, const core::AgentTask& task,
                             const core::policy::Decision& decision, const json& digest)
    {
        auto agent = plugins::agents::make_exec([script]() -> core::Result<std::vector<std::string>> {
            return std::vector<std::string>{"sh", "-c", script};
        });
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(decision.timeout_ms);
        core::agent::RunContext ctx{task,   decision, 1,     0,      deadline, [] { return false; },
                                    events, &*ws,     &*box, digest, "",       ""};
        return agent->run(ctx);
    }
};

// The command's stdin is the contract of docs/agents.md: the task as the
// queue stores it, with the decision as stored and the policy digest. The
// agent gets them typed; what the command reads is the same bytes.
TEST_F(ExecAgentTest, TheCommandReadsTheTaskAndDecisionAsQueued)
{
    json stored_task = json::parse(R"({
      "id": "01JEXEC000000000000000000B", "type": "compliance-remediation",
      "trigger": {"source": "webhook", "provider": "checkov", "sourceId": "42", "timestamp": "2026-11-24T12:00:00.000Z"},
      "context": {"organizationId": "acme", "repositoryId": "acme/infra", "agentSlug": "exec", "priority": "high",
                  "environment": "production", "resource": "aws_s3_bucket.logs"},
      "payload": {"findings": [{"tool": "checkov", "ruleId": "CKV_AWS_18", "canonicalRuleId": "CKV_AWS_18", "file": "main.tf",
                                "startLine": 3, "key": "k1"},
                               {"tool": "checkov", "ruleId": "CKV_AWS_21", "canonicalRuleId": "CKV_AWS_21", "key": "k2"}],
                  "group": {"by": "resource", "value": "aws_s3_bucket.logs"}},
      "dedupeKey": "25e037cfc583a4f844408b6b30d8d31a",
      "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    })");
    json stored_decision = json::parse(R"({
      "allowed": true, "tier": 2, "reason": "allowed at tier 2 (draft PR) by org/fix", "requiredApprovals": [],
      "constraints": {"maxIterations": 5, "timeoutMs": 60000, "allowedTools": ["read_file"], "deniedTools": ["run_command"],
                      "allowedPaths": ["*.tf"], "requiresPR": true, "requiresValidation": false},
      "matchedRules": ["org/fix", "org/tag"], "priority": "high", "compliance": ["SOC2 CC6.1"],
      "drift": {"mode": "codify"}, "policyDigest": "sha256:abc"
    })");
    json digest = {{"policyDigest", "sha256:abc"}, {"allowed", true}};
    auto task = core::task_from_json(stored_task);
    ASSERT_TRUE(task) << task.error().message;
    auto decision = core::policy::decision_from_json(stored_decision);
    ASSERT_TRUE(decision) << decision.error().message;

    auto o = run("cat", *task, *decision, digest);
    ASSERT_TRUE(o.ok) << o.error;
    json expected = stored_task;
    expected["decision"] = stored_decision;
    expected["policyDigest"] = digest;
    EXPECT_EQ(o.result["stdout"], expected.dump() + "\n");
}

TEST_F(ExecAgentTest, TheWorkspaceDiffIsTheResultAndGitAppliesIt)
{
    // The command reads the task from stdin, changes a file, adds one, removes one.
    auto o = run("cat > /tmp/task.json; grep -q '\"title\":\"fix the bucket\"' /tmp/task.json || exit 9; "
                 "grep -q sha256:x /tmp/task.json || exit 8; "
                 "sed -i 's/bucket = \"x\"/bucket = \"y\"/' main.tf; "
                 "mkdir -p modules && printf 'variable \"a\" {}\\n' > modules/vars.tf; rm old.txt; "
                 "echo working; echo 'Renamed the bucket'");
    ASSERT_TRUE(o.ok) << o.error << o.result.dump();
    EXPECT_EQ(o.result["summary"], "Renamed the bucket");
    EXPECT_EQ(o.result["files"], json({"main.tf", "modules/vars.tf", "old.txt"}));
    std::string diff = o.result["diff"];
    EXPECT_NE(diff.find("--- /dev/null\n+++ b/modules/vars.tf\n"), std::string::npos) << diff;
    EXPECT_NE(diff.find("--- a/old.txt\n+++ /dev/null\n"), std::string::npos) << diff;

    // The diff applies with git to the tree as it was.
    TempDir orig;
    write_file(orig / "main.tf", "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n}\n");
    write_file(orig / "old.txt", "to be removed\n");
    write_file(orig / "change.diff", diff);
    auto g = test::run_program("/usr/bin/git", {"apply", "change.diff"},
                               {.stdin_data = "", .cwd = orig.path().string(), .env = {}});
    ASSERT_EQ(g.exit_code, 0) << g.err;
    EXPECT_EQ(read_file(orig / "main.tf"), read_file(dir / "ws/main.tf"));
    EXPECT_EQ(read_file(orig / "modules/vars.tf"), "variable \"a\" {}\n");
    EXPECT_FALSE(std::filesystem::exists(orig / "old.txt"));
}

TEST_F(ExecAgentTest, SymlinksOutOfTheWorkspaceFailTheRun)
{
    auto o = run("ln -s /etc/passwd leak.tf; ln -s ../../.. up");
    EXPECT_FALSE(o.ok);
    EXPECT_FALSE(o.retryable);
    EXPECT_NE(o.error.find("point outside the workspace"), std::string::npos) << o.error;
    bool audited = false;
    for (const auto& e : events.events())
        if (e.type == "task.tool-refused" && e.data.dump().find("leak.tf -> /etc/passwd") != std::string::npos)
            audited = true;
    EXPECT_TRUE(audited) << o.error;
}

TEST_F(ExecAgentTest, FailuresTimeoutsAndBrokenTerraformAreReported)
{
    auto o = run("echo partial > main.tf.bak; exit 3");
    EXPECT_FALSE(o.ok);
    EXPECT_TRUE(o.retryable);
    EXPECT_NE(o.error.find("exited with 3"), std::string::npos) << o.error;

    o = run("sleep 30", 1000);
    EXPECT_FALSE(o.ok);
    EXPECT_NE(o.error.find("time limit"), std::string::npos) << o.error;

    o = run("printf 'resource \"x\" {\\n' > main.tf");
    EXPECT_FALSE(o.ok);
    EXPECT_FALSE(o.retryable);
    EXPECT_NE(o.error.find("main.tf"), std::string::npos) << o.error;
}

TEST_F(ExecAgentTest, TheCommandSeesNoSecretsAndNoNetwork)
{
    setenv("GITHUB_TOKEN", "ghp_hostsecret000000000000000000000000", 1);
    auto o = run("env > seen.txt; (getent hosts example.com || echo no-dns) >> seen.txt; "
                 "python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 53), 2)' 2>> seen.txt || echo "
                 "no-net >> seen.txt");
    unsetenv("GITHUB_TOKEN");
    ASSERT_TRUE(o.ok) << o.error;
    std::string seen = read_file(dir / "ws/seen.txt");
    EXPECT_EQ(seen.find("ghp_hostsecret"), std::string::npos) << seen;
    EXPECT_NE(seen.find("no-dns"), std::string::npos) << seen;
    EXPECT_NE(seen.find("no-net"), std::string::npos) << seen;
}

}  // namespace
