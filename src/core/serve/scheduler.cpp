#include "core/serve/scheduler.hpp"

#include "core/json_access.hpp"
#include "core/text.hpp"

#include <set>

namespace infra::core::serve {

Result<std::vector<Schedule>> load_schedules(const nlohmann::json& list)
{
    std::vector<Schedule> out;
    if (list.is_null()) return out;
    if (!list.is_array())
        return fail(Errc::invalid_input, "schedules: expected a list of {name, cron, timezone, signal}");
    std::set<std::string> names;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& s = list[i];
        std::string at = "schedules[" + std::to_string(i) + "]";
        if (!s.is_object()) return fail(Errc::invalid_input, at + ": expected {name, cron, timezone, signal}");
        std::string name = string_member(s, "name");
        if (name.empty()) return fail(Errc::invalid_input, at + ".name: missing");
        if (!names.insert(name).second)
            return fail(Errc::invalid_input, at + ".name: " + text::quote(name) + " is used twice");
        auto expr = cron::Expression::parse(string_member(s, "cron"));
        if (!expr) return fail(Errc::invalid_input, at + ".cron: " + expr.error().message, expr.error().hint);
        auto zone = cron::TimeZone::load(string_member(s, "timezone", "UTC"));
        if (!zone) return fail(Errc::invalid_input, at + ".timezone: " + zone.error().message, zone.error().hint);
        const auto& signal = member(s, "signal");
        if (!signal.is_object())
            return fail(Errc::invalid_input, at + ".signal: expected the task to make, e.g. {type: drift-detection}");
        out.push_back({name, std::move(*expr), std::move(*zone), signal});
    }
    return out;
}

Scheduler::Scheduler(std::vector<Schedule> schedules, Fire fire, Now now)
    : m_schedules(std::move(schedules)), m_fire(std::move(fire)), m_now(std::move(now))
{
}

Scheduler::~Scheduler()
{
    stop();
}

void Scheduler::start()
{
    if (m_schedules.empty() || m_thread.joinable()) return;
    m_thread = std::thread([this] { loop(); });
}

void Scheduler::stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    // A signal-watching thread and the main thread may both stop it.
    std::lock_guard join(m_join_mutex);
    if (m_thread.joinable()) m_thread.join();
}

void Scheduler::loop()
{
    std::vector<std::optional<timeutil::TimePoint>> next(m_schedules.size());
    auto now = m_now();
    for (std::size_t i = 0; i < m_schedules.size(); ++i)
        next[i] = m_schedules[i].cron.next_after(now, m_schedules[i].zone);
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        std::optional<timeutil::TimePoint> soonest;
        for (const auto& n : next)
            if (n && (!soonest || *n < *soonest)) soonest = n;
        if (!soonest) {
            m_cv.wait(lock, [this] { return m_stop; });
            break;
        }
        // The system clock may jump; wake at least every minute and look again.
        auto wait = std::min<timeutil::Clock::duration>(*soonest - m_now(), std::chrono::minutes(1));
        m_cv.wait_for(lock, wait, [this] { return m_stop; });
        if (m_stop) break;
        now = m_now();
        for (std::size_t i = 0; i < m_schedules.size(); ++i) {
            if (!next[i] || *next[i] > now) continue;
            auto at = *next[i];
            next[i] = m_schedules[i].cron.next_after(now, m_schedules[i].zone);
            lock.unlock();
            m_fire(m_schedules[i], at);
            lock.lock();
        }
    }
}

}  // namespace infra::core::serve
