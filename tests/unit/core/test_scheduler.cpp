// The embedded scheduler fires each schedule at its next minute, in its
// time zone, and reports config mistakes by entry.
#include "core/serve/scheduler.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

using namespace infra;
using core::serve::Schedule;
using nlohmann::json;

TEST(Scheduler, ConfigErrorsNameTheEntry)
{
    auto err = [](const char* yaml_as_json) {
        auto r = core::serve::load_schedules(json::parse(yaml_as_json));
        return r ? std::string() : r.error().message;
    };
    EXPECT_EQ(err(R"([{"name":"a","cron":"* * *","signal":{}}])").rfind("schedules[0].cron: ", 0), 0u);
    EXPECT_EQ(err(R"([{"name":"a","cron":"@daily","timezone":"Nowhere/Land","signal":{}}])")
                  .rfind("schedules[0].timezone: unknown time zone", 0),
              0u);
    EXPECT_EQ(err(R"([{"name":"a","cron":"@daily","signal":{}},{"name":"a","cron":"@daily","signal":{}}])"),
              "schedules[1].name: 'a' is used twice");
    EXPECT_EQ(err(R"([{"name":"a","cron":"@daily"}])").rfind("schedules[0].signal: ", 0), 0u);
    EXPECT_EQ(err(R"([{"cron":"@daily","signal":{}}])"), "schedules[0].name: missing");
    auto ok = core::serve::load_schedules(json::parse(
        R"([{"name":"nightly","cron":"0 2 * * *","timezone":"Europe/Berlin","signal":{"type":"drift-detection"}}])"));
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->front().zone.name(), "Europe/Berlin");
}

TEST(Scheduler, FiresAtTheNextMinute)
{
    auto schedules = core::serve::load_schedules(
        json::parse(R"([{"name":"every-minute","cron":"* * * * *","signal":{"type":"drift-detection"}}])"));
    ASSERT_TRUE(schedules);
    // A clock that reads 1.5 s before the next whole minute.
    auto real = core::timeutil::Clock::now();
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(real.time_since_epoch()).count();
    auto boundary = core::timeutil::TimePoint(std::chrono::seconds((secs / 60 + 1) * 60));
    auto shift = (boundary - std::chrono::milliseconds(1500)) - real;
    std::mutex m;
    std::vector<core::timeutil::TimePoint> fired;
    core::serve::Scheduler s(
        std::move(*schedules),
        [&](const Schedule& sch, core::timeutil::TimePoint at) {
            EXPECT_EQ(sch.name, "every-minute");
            std::lock_guard lock(m);
            fired.push_back(at);
        },
        [shift] { return core::timeutil::Clock::now() + shift; });
    s.start();
    for (int i = 0; i < 100; ++i) {
        {
            std::lock_guard lock(m);
            if (!fired.empty()) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    s.stop();
    std::lock_guard lock(m);
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_EQ(fired[0], boundary);
}
