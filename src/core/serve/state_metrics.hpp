#pragma once
// Metrics read from the state store, so that every process's work counts,
// whichever process scrapes: task durations by type and outcome, policy
// decisions by outcome and rule, tool calls, model calls and tokens,
// credential mints, errors and events. They come from the append-only audit
// log and ledgers, so the counters only grow.

#include "core/result.hpp"
#include "core/serve/metrics.hpp"

namespace infra::core::store {
class Db;
}

namespace infra::core::serve {

/// Describes and fills the families into m (which should be fresh: the
/// values are totals, not increments).
Status collect_state_metrics(store::Db& db, Metrics& m);

}  // namespace infra::core::serve
