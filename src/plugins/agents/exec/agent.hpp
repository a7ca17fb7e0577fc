#pragma once
// The exec agent: any coding-agent CLI or script, run in the sandbox with
// the task JSON on stdin and the workspace as its working directory; what
// it changed in the workspace is its result.

#include "core/agent/agent.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace infra::plugins::agents {

/// The exec agent ("exec"). command gives the argv to run, from
/// configuration (exec.command), never from a task; it is called per run.
std::shared_ptr<core::agent::Agent> make_exec(std::function<core::Result<std::vector<std::string>>()> command);

}  // namespace infra::plugins::agents
