#pragma once
// The embedded scheduler: `schedules:` from config, each a cron expression
// in a time zone that fires a signal. Ticks missed while nothing ran are
// not made up (as with cron); a tick whose task is still unfinished is
// deduplicated by the queue.

#include "core/cron.hpp"
#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace infra::core::serve {

struct Schedule {
    std::string name;
    cron::Expression cron;
    cron::TimeZone zone;
    nlohmann::json signal;
};

/// Reads and checks `schedules:` (a list of {name, cron, timezone, signal});
/// errors name the entry: "schedules[1].cron: ...".
Result<std::vector<Schedule>> load_schedules(const nlohmann::json& schedules);

class Scheduler {
public:
    using Fire = std::function<void(const Schedule&, timeutil::TimePoint at)>;
    using Now = std::function<timeutil::TimePoint()>;
    /// now reads the clock (tests shift it).
    Scheduler(std::vector<Schedule> schedules, Fire fire, Now now = timeutil::Clock::now);
    ~Scheduler();

    void start();
    void stop();

private:
    void loop();

    std::vector<Schedule> m_schedules;
    Fire m_fire;
    Now m_now;
    std::mutex m_mutex, m_join_mutex;
    std::condition_variable m_cv;
    bool m_stop = false;
    std::thread m_thread;
};

}  // namespace infra::core::serve
