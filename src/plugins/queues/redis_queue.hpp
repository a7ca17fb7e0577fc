#pragma once
// The queue on Redis Streams, for many workers against one Redis server:
// claimable tasks are entries of one stream per agent and priority, read by
// a consumer group (XREADGROUP) and acknowledged (XACK) when finished;
// delayed retries wait in a sorted set, leases in another, dead tasks go to
// a dead-letter stream, and a dedupe key is taken with SET NX. Every
// operation is one Lua script, so it is atomic like a SQLite transaction,
// and fencing tokens are checked inside it.

#include "core/queue/queue.hpp"

#include <memory>
#include <string>

namespace infra::plugins::queues {

/// The registry factory for redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?prefix=NAME].
core::Result<std::unique_ptr<core::queue::Queue>> open_redis_url(const std::string& url,
                                                                 const core::queue::OpenOptions& options);

}  // namespace infra::plugins::queues
