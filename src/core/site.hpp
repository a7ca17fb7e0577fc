#pragma once
// What a command runs against: the loaded configuration, the state home and
// the registries that plugins filled. The openers in core (creds/open,
// change/open_*, open_intake, recorder) build their objects from one of
// these, so that every command opens what its configuration describes the
// same way.

#include "core/agent/agent.hpp"
#include "core/change/forges.hpp"
#include "core/config.hpp"
#include "core/creds/broker.hpp"
#include "core/home.hpp"
#include "core/policy/engine.hpp"
#include "core/queue/queue.hpp"
#include "core/result.hpp"
#include "core/signals/signal.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace infra::core {

/// Where a command takes its policies from: --policies DIR (repeatable) and --no-bundle.
struct PolicySources {
    std::vector<std::string> dirs;
    bool no_bundle = false;
};

struct Site {
    const Config& config;
    const Home& home;
    const creds::Registry& credentials;
    const change::ForgeRegistry& forges;
    const queue::Registry& queues;
    const agent::Registry& agents;
    const signals::Registry& signals;

    /// The queue URL for a call: flag, else queue.url (a relative sqlite path
    /// is relative to the home), else the home's state db.
    std::string queue_url(const std::string& flag) const;
    /// Opens the queue that queue_url() names.
    Result<std::unique_ptr<queue::Queue>> open_queue(const std::string& flag, events::EventSink* events) const;

    /// The policy directories for a call: the installed bundle (unless
    /// no_bundle or policy.bundle is "none"), then the given dirs, else
    /// policy.dirs (relative to the home), else <home>/policies when it exists.
    Result<std::vector<std::filesystem::path>> policy_dirs(const PolicySources& sources) const;
    /// Loads and compiles the policies that sources and the configuration select.
    Result<std::unique_ptr<policy::Engine>> load_engine(const PolicySources& sources) const;
};

/// Where compiled policies are cached: policy.cache ("none" turns it off),
/// else $XDG_CACHE_HOME/infra-agent/policies, else ~/.cache/infra-agent/policies.
std::filesystem::path policy_cache_dir(const Config& config);

}  // namespace infra::core
