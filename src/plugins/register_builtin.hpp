#pragma once
// The one place where built-in plugins join core's registries.

#include "core/agent/agent.hpp"
#include "core/queue/queue.hpp"
#include "core/signals/signal.hpp"

namespace infra::plugins {

/// Everything the built-in plugins provide, to be filled by register_builtin.
struct Registries {
    core::signals::Registry& signals;
    core::queue::Registry* queues = nullptr;
    core::agent::Registry* agents = nullptr;
};

/// Adds every built-in plugin to the registries.
void register_builtin(Registries r);

}  // namespace infra::plugins
