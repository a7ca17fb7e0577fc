#pragma once
// Metrics read from the state store, so that every process's work counts,
// whichever process scrapes: task durations by type and outcome, policy
// decisions by outcome and rule, tool calls, model calls and tokens,
// credential mints, errors and events. They come from the append-only audit
// log and ledgers, so the counters only grow.

#include "core/result.hpp"
#include "core/serve/metrics.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace infra::core::store {
class Db;
}

namespace infra::core::serve {

/// The families above, kept up to date: each refresh() reads only what was
/// recorded since the one before (ledger counts are read whole: the table is
/// small). Safe to share between threads.
class StateMetrics {
public:
    StateMetrics();
    Status refresh(store::Db& db);
    std::string render() const;

private:
    Status read_since(store::Db& db);

    mutable std::mutex m_mutex;
    std::unique_ptr<Metrics> m_metrics;
    std::int64_t m_events_seq = 0;
    std::int64_t m_decisions_seq = 0;
};

}  // namespace infra::core::serve
