#pragma once
// The queue on PostgreSQL, for many workers on many machines: claims take
// rows with FOR UPDATE SKIP LOCKED (claimers never wait for each other),
// idle workers wake on LISTEN/NOTIFY, and every state change is one
// transaction, so the SQLite queue's guarantees hold (fencing tokens
// included).

#include "core/queue/queue.hpp"

#include <memory>
#include <string>

namespace infra::plugins::queues {

/// The registry factory for postgres:// and postgresql:// URLs (libpq's
/// syntax; credentials may also come from PGPASSWORD or ~/.pgpass).
core::Result<std::unique_ptr<core::queue::Queue>> open_postgres_url(const std::string& url,
                                                                    const core::queue::OpenOptions& options);

}  // namespace infra::plugins::queues
