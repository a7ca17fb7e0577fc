#include "core/sandbox_choice.hpp"

namespace infra::core::sandbox {

Result<Sandbox> choose(const Config& config, const std::string& flag, const policy::Decision* decision)
{
    auto m = parse_mode(flag.empty() ? config.get_or("sandbox.mode", "bwrap") : flag);
    if (!m) return m.error();
    if (*m == Mode::none && decision && !decision->allow_unsandboxed)
        return fail(Errc::denied, "policy does not allow running this task without the sandbox",
                    "sandbox none is for development: a policy rule must set allowUnsandboxed: true");
    return Sandbox::create(*m);
}

}  // namespace infra::core::sandbox
