#pragma once
// A schedule's tick as tasks: what `serve` admits when a schedule fires,
// and what `schedule run NAME` (the crontab's way) admits at once.

#include "core/intake.hpp"
#include "core/serve/scheduler.hpp"
#include "core/signals/signal.hpp"
#include "core/site.hpp"

#include <string>
#include <vector>

namespace infra::core::serve {

/// The tasks of one tick of the named schedule, fired at `at`. With trace,
/// the parse is recorded there as an "ingest" span and the tasks join it.
Result<signals::CollectSink> tick_tasks(const signals::Registry& parsers, const nlohmann::json& schedules,
                                        const std::string& repository_id, const std::string& name,
                                        timeutil::TimePoint at, events::EventSink* trace);

/// Fires the named schedule now: its tasks decided and queued (or parked,
/// or denied). A name that `schedules:` does not have is a usage error.
Result<std::vector<intake::Admitted>> fire_now(const Site& site, const std::string& name, const PolicySources& policies,
                                               const std::string& queue);

}  // namespace infra::core::serve
