#include "cli/sandbox_flag.hpp"

namespace infra::cli {

core::Result<core::sandbox::Sandbox> open_sandbox(Context& ctx, const std::string& flag,
                                                  const core::policy::Decision* decision)
{
    std::string mode = flag;
    if (mode.empty()) {
        auto cfg = ctx.config();
        if (!cfg) return cfg.error();
        mode = (*cfg)->get_or("sandbox.mode", "bwrap");
    }
    auto m = core::sandbox::parse_mode(mode);
    if (!m) return m.error();
    if (*m == core::sandbox::Mode::none && decision && !decision->allow_unsandboxed)
        return core::fail(core::Errc::denied, "policy does not allow running this task without the sandbox",
                          "sandbox none is for development: a policy rule must set allowUnsandboxed: true");
    return core::sandbox::Sandbox::create(*m);
}

}  // namespace infra::cli
