#include "plugins/agents/builtin/fallback.hpp"

namespace infra::plugins::agents::builtin {

core::agent::Outcome hand_over(const Fallback& fallback, const core::agent::RunContext& ctx, const std::string& why)
{
    auto agent = fallback ? fallback() : core::Result<core::agent::Agent*>(nullptr);
    if (!agent) {
        std::string hint = agent.error().hint.empty() ? "" : " (" + agent.error().hint + ")";
        return core::agent::Outcome::failure(why + "; the llm agent cannot take it over: " + agent.error().message +
                                             hint);
    }
    if (!*agent)
        return core::agent::Outcome::failure(why +
                                             "; set agents.fallback: llm (with llm.model) to let the llm agent try");
    ctx.events.emit(
        {"task.fallback", ctx.task.id, "", {{"from", "builtin"}, {"to", (*agent)->name()}, {"reason", why}}});
    auto outcome = (*agent)->run(ctx);
    outcome.result["fallback"] = {{"from", "builtin"}, {"agent", (*agent)->name()}, {"reason", why}};
    return outcome;
}

}  // namespace infra::plugins::agents::builtin
