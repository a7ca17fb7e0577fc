#pragma once
// The one place where built-in plugins join core's registries.

#include "core/agent/agent.hpp"
#include "core/change/forges.hpp"
#include "core/config.hpp"
#include "core/creds/broker.hpp"
#include "core/queue/queue.hpp"
#include "core/signals/signal.hpp"

#include <functional>

namespace infra::plugins {

/// Everything the built-in plugins provide, to be filled by register_builtin.
struct Registries {
    core::signals::Registry& signals;
    core::queue::Registry* queues = nullptr;
    core::agent::Registry* agents = nullptr;
    /// The configuration, read when an agent first needs it (llm, exec).
    std::function<core::Result<const core::Config*>()> config;
    core::creds::Registry* credentials = nullptr;
    core::change::ForgeRegistry* forges = nullptr;
};

/// Adds every built-in plugin to the registries.
void register_builtin(Registries r);

}  // namespace infra::plugins
