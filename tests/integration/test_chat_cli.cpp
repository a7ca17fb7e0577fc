// `chat`: with no model, an error that says how to configure one; with a
// model (a loopback server speaking the OpenAI protocol) the agent reads the
// repository and its answer is printed; a chat asking for a change is denied
// by the default policy bundle (chat recommends, it does not change); where
// a team's policy grants it, the change goes out as a pull request, or
// waits for the approvals the policy asks for.
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/model_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace infra {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

TEST(ChatCli, NoModelSaysHowToConfigureOne)
{
    test::TempDir dir;
    test::RunOptions opts;
    opts.cwd = dir.path().string();
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    auto r = run_cli({"chat", "why", "is", "the", "bucket", "public?"}, opts);
    EXPECT_EQ(r.exit_code, 64);
    EXPECT_NE(r.err.find("no model is configured for chat"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("llm.model"), std::string::npos) << r.err;
}

TEST(ChatCli, TheAgentAnswersFromTheRepository)
{
    test::ModelServer model;
    std::vector<test::Turn> turns;
    turns.push_back(test::Turn({{"read_file", {{"path", "main.tf"}}}}));
    test::Turn answer;
    answer.dynamic = [](const nlohmann::json& request) {
        // The answer quotes what the tool returned, so the test sees the file was read.
        std::string seen = request.dump();
        bool read = seen.find("aws_s3_bucket") != std::string::npos;
        return test::Turn({}, read ? "The bucket has no public access block." : "I could not read main.tf.");
    };
    turns.push_back(answer);
    model.script(turns);

    test::TempDir dir;
    test::checkout_scanned_repo(dir / "infra");
    test::RunOptions opts;
    opts.cwd = (dir / "infra").string();
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    test::write_file(dir / "home" / "config.yaml",
                     "llm:\n  provider: openai\n  base_url: " + model.openai_url() + "\n  model: test-model\n");
    auto r = run_cli({"chat", "--json", "why is the bucket public?"}, opts);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto out = test::json_lines(r.out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0]["reply"], "The bucket has no public access block.") << r.out;
    auto asked = model.received();
    ASSERT_FALSE(asked.empty());
    EXPECT_NE(asked[0].body.dump().find("why is the bucket public?"), std::string::npos);
    EXPECT_EQ(test::git(dir / "infra", "status --porcelain"), "");  // a question changes nothing

    auto change = run_cli({"chat", "--change", "make the bucket private"}, opts);
    EXPECT_EQ(change.exit_code, 3) << change.err;
    EXPECT_NE(change.err.find("chat needs tier 2"), std::string::npos) << change.err;
}

/// A checkout of the scanned repository, a model that adds a file and
/// finishes, and a team policy (an overlay of the bundle's org-chat) that
/// lets chat change the repository at tier 2, with extra rule lines.
class ChatChange : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::vector<test::Turn> turns;
        turns.push_back(test::Turn({{"write_file", {{"path", "notes.tf"}, {"content", "# owned by platform\n"}}}}));
        turns.push_back(test::Turn({{"finish", {{"summary", "Noted who owns the repository."}}}}));
        model.script(turns);
        test::checkout_scanned_repo(repo);
        opts.cwd = repo.string();
        opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
        test::write_file(dir / "home" / "config.yaml",
                         "llm:\n  provider: openai\n  base_url: " + model.openai_url() +
                             "\n  model: test-model\n"
                             "validation:\n  steps: [terraform-fmt]\n"
                             "approvals:\n  groups:\n    platform-oncall: {members: [bob]}\n");
    }

    void grant(const std::string& extra)
    {
        test::write_file(dir / "policies" / "chat.yaml",
                         "apiVersion: infra-agent/v1\nkind: Policy\nmetadata:\n  name: org-chat\n"
                         "  level: organization\nrules:\n  - name: chat-changes\n    match: {type: chat}\n"
                         "    tier: 2\n" +
                             extra);
    }

    test::ModelServer model;
    test::TempDir dir;
    fs::path repo = dir / "infra";
    test::RunOptions opts;
};

TEST_F(ChatChange, AChangeGoesOutAsAPullRequestInTheCheckout)
{
    grant("");
    auto r = run_cli(
        {"chat", "--json", "--change", "--policies", (dir / "policies").string(), "note who owns this repository"},
        opts);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto out = test::json_lines(r.out);
    ASSERT_EQ(out.size(), 1u) << r.out;
    EXPECT_EQ(out[0]["type"], "reply");
    EXPECT_EQ(out[0]["reply"], "Noted who owns the repository.");
    ASSERT_TRUE(out[0]["pullRequest"].is_object()) << r.out;
    auto prs = test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out);
    ASSERT_EQ(prs.size(), 1u);
    EXPECT_EQ(prs[0]["id"], out[0]["pullRequest"]["id"]);
    std::string branch = out[0]["pullRequest"]["branch"];
    EXPECT_EQ(test::git(repo, "show " + branch + ":notes.tf"), "# owned by platform\n");
    EXPECT_EQ(test::git(repo, "status --porcelain"), "");  // the change is on the branch, not in the checkout

    // A change the agent does not make opens nothing: the reply alone.
    auto again = run_cli({"chat", "--change", "--policies", (dir / "policies").string(), "note it again"}, opts);
    ASSERT_EQ(again.exit_code, 0) << again.err;
    auto second = test::json_lines(again.out);
    ASSERT_EQ(second.size(), 1u) << again.out;
    EXPECT_EQ(second[0]["reply"], "script over");  // the model server's finish past its script
    EXPECT_FALSE(second[0].contains("pullRequest")) << again.out;
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).size(), 1u);
}

TEST_F(ChatChange, AChangeThatNeedsApprovalWaitsForIt)
{
    grant("    requiredApprovals: [platform-oncall]\n");
    auto r = run_cli({"chat", "--change", "--policies", (dir / "policies").string(), "note who owns it"}, opts);
    EXPECT_EQ(r.exit_code, 4) << r.err;
    EXPECT_NE(r.err.find("waits for approval by platform-oncall: infra-agent approve "), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(model.received().empty());  // nothing ran
    auto queued = test::json_lines(run_cli({"queue", "ls", "--json"}, opts).out);
    ASSERT_EQ(queued.size(), 1u);
    EXPECT_EQ(queued[0]["state"], "pending-approval");
}

}  // namespace
}  // namespace infra
