#pragma once
// Choosing, and checking, the sandbox a run uses: --sandbox, else
// sandbox.mode, else bwrap.

#include "core/config.hpp"
#include "core/policy/policy.hpp"
#include "core/sandbox.hpp"

#include <string>

namespace infra::core::sandbox {

/// The sandbox that flag names, else sandbox.mode, else bwrap. "none" is
/// refused (denied) unless decision allows running unsandboxed; with no
/// decision, any mode is allowed.
Result<Sandbox> choose(const Config& config, const std::string& flag, const policy::Decision* decision);

}  // namespace infra::core::sandbox
