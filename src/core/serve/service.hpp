#pragma once
// `serve` as one call: opens what the configuration describes (the intake,
// reviewers on the forge, the broker of distributed workers, the follower of
// bot pull requests, in-process workers, the scheduler), listens, and on
// SIGTERM or SIGINT stops accepting, answers what is in flight, lets the
// workers finish or release their tasks, and returns.

#include "core/change/open_delivery.hpp"
#include "core/serve/config.hpp"
#include "core/site.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace infra::core::serve {

struct ServiceOptions {
    Flags flags;                             ///< --listen and --max-body, over serve.*
    int workers = 0;                         ///< tasks run at once in this process (0: workers run apart)
    std::string queue;                       ///< the queue URL, over queue.url
    std::string sandbox;                     ///< the workers' sandbox: bwrap or none; empty: sandbox.mode, else bwrap
    std::chrono::milliseconds grace{30000};  ///< how long workers may finish their tasks after a stop signal
    change::DeliveryOverrides delivery;
    PolicySources policies;
    /// Called once, with the URL it listens on, before it serves.
    std::function<void(const std::string& url)> listening;
};

/// Serves until SIGTERM or SIGINT (a second one exits at once). Call it
/// before any other thread starts: it blocks those signals in this thread,
/// and every thread inherits the mask, so that one thread takes them.
Status run(const Site& site, const ServiceOptions& options);

}  // namespace infra::core::serve
