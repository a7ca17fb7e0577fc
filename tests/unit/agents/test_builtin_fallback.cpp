// What the builtin agent does with a finding it has no fix for: hand it to
// the configured fallback agent, or say which setting would let one try.
#include "plugins/agents/builtin/fallback.hpp"

#include <gtest/gtest.h>

using namespace infra;
using core::agent::Outcome;
using core::agent::RunContext;

namespace {

class Recorder final : public core::agent::Agent {
public:
    std::string name() const override { return "llm"; }
    Outcome run(const RunContext& ctx) override
    {
        ran_with = &ctx.decision;
        return {true, "", {{"summary", "done by the model"}}, true};
    }
    const core::policy::Decision* ran_with = nullptr;
};

struct Fallback : ::testing::Test {
    core::AgentTask task = [] {
        core::AgentTask t;
        t.id = "t-1";
        return t;
    }();
    core::policy::Decision decision = [] {
        core::policy::Decision d;
        d.allowed = true;
        return d;
    }();
    core::events::MemorySink events;
    RunContext ctx{task, decision, 1, 0, {}, [] { return false; }, events, nullptr, nullptr, {}, "", ""};
};

}  // namespace

TEST_F(Fallback, WithoutOneTheResultNamesTheSetting)
{
    auto out = plugins::agents::builtin::hand_over(nullptr, ctx, "the builtin agent has no fix for CKV_X_1");
    EXPECT_FALSE(out.ok);
    EXPECT_FALSE(out.retryable);
    EXPECT_EQ(
        out.error,
        "the builtin agent has no fix for CKV_X_1; set agents.fallback: llm (with llm.model) to let the llm agent try");
}

TEST_F(Fallback, AFallbackThatCannotWorkSaysWhy)
{
    auto broken = []() -> core::Result<core::agent::Agent*> {
        return core::fail(core::Errc::invalid_input, "llm.model is not set",
                          "e.g. infra-agent config: llm: {model: gpt-4o}");
    };
    auto out = plugins::agents::builtin::hand_over(broken, ctx, "the builtin agent has no fix for CKV_X_1");
    EXPECT_FALSE(out.ok);
    EXPECT_NE(out.error.find("the llm agent cannot take it over: llm.model is not set (e.g. infra-agent config"),
              std::string::npos)
        << out.error;
}

TEST_F(Fallback, TheFallbackAgentRunsUnderTheSameDecision)
{
    Recorder llm;
    auto out = plugins::agents::builtin::hand_over([&]() -> core::Result<core::agent::Agent*> { return &llm; }, ctx,
                                                   "the builtin agent has no fix for CKV_X_1");
    EXPECT_TRUE(out.ok);
    EXPECT_EQ(llm.ran_with, &decision);
    EXPECT_EQ(out.result["fallback"]["agent"], "llm");
    EXPECT_EQ(out.result["summary"], "done by the model");
    auto recorded = events.events();
    ASSERT_EQ(recorded.size(), 1u);
    EXPECT_EQ(recorded[0].type, "task.fallback");
    EXPECT_EQ(recorded[0].task_id, "t-1");
}
