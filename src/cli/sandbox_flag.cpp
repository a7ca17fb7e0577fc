#include "cli/sandbox_flag.hpp"

#include "core/sandbox_choice.hpp"

namespace infra::cli {

core::Result<core::sandbox::Sandbox> open_sandbox(Context& ctx, const std::string& flag,
                                                  const core::policy::Decision* decision)
{
    // A flag needs no configuration, not even a readable one.
    if (!flag.empty()) return core::sandbox::choose(core::Config(), flag, decision);
    auto cfg = ctx.config();
    if (!cfg) return cfg.error();
    return core::sandbox::choose(**cfg, flag, decision);
}

}  // namespace infra::cli
