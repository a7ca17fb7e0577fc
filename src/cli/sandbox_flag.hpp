#pragma once
// The --sandbox flag and sandbox.mode: choosing, and checking, the sandbox.

#include "cli/context.hpp"
#include "core/policy/policy.hpp"
#include "core/sandbox.hpp"

namespace infra::cli {

/// The sandbox for a run: --sandbox, else sandbox.mode, else bwrap. "none"
/// is refused (denied) unless the decision allows running unsandboxed.
core::Result<core::sandbox::Sandbox> open_sandbox(Context& ctx, const std::string& flag,
                                                  const core::policy::Decision* decision);

inline core::Result<core::sandbox::Sandbox> open_sandbox(Context& ctx, const std::string& flag,
                                                         const core::policy::Decision& decision)
{
    return open_sandbox(ctx, flag, &decision);
}

}  // namespace infra::cli
