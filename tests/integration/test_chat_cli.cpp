// `chat`: with no model, an error that says how to configure one; with a
// model (a loopback server speaking the OpenAI protocol) the agent reads the
// repository and its answer is printed; a chat asking for a change is denied
// by the default policy bundle (chat recommends, it does not change).
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

}  // namespace
}  // namespace infra
