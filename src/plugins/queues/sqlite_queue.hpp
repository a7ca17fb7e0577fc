#pragma once
// The embedded queue: SQLite in WAL mode with durable commits, shared by
// every worker thread of a process through group commit, and by other
// processes through SQLite's locking.

#include "core/events/event.hpp"
#include "core/queue/queue.hpp"

#include <memory>
#include <string>

namespace infra::plugins::queues {

/// Options of the SQLite queue.
struct SqliteOptions {
    /// synchronous=FULL: every commit is on disk before it returns.
    bool durable = true;
    /// Concurrent operations of one process share a transaction (one fsync).
    bool group_commit = true;
    /// Where the queue reports what it does on its own (reclaimed leases).
    core::events::EventSink* events = nullptr;
};

/// Opens (creating and migrating) the queue in the database at path.
core::Result<std::unique_ptr<core::queue::Queue>> open_sqlite_queue(const std::string& path,
                                                                    const SqliteOptions& options = {});

/// The registry factory for sqlite://PATH URLs.
core::Result<std::unique_ptr<core::queue::Queue>> open_sqlite_url(const std::string& url,
                                                                  const core::queue::OpenOptions& options);

}  // namespace infra::plugins::queues
