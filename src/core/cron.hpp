#pragma once
// Schedules: five-field cron expressions (minute hour day-of-month month
// day-of-week, with lists, ranges, steps and names) plus @hourly, @daily,
// @midnight, @weekly, @monthly, @yearly and @annually, evaluated in an IANA
// time zone read from the system's zoneinfo (TZif) files.

#include "core/result.hpp"
#include "core/timeutil.hpp"

#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infra::core::cron {

/// A time zone: UTC offsets over time, from /usr/share/zoneinfo (or $TZDIR).
class TimeZone {
public:
    /// "UTC" (also "" and "Etc/UTC") needs no file; other names are read
    /// from the zoneinfo directory. Errors name the zone and the problem.
    static Result<TimeZone> load(std::string_view name);
    /// Parses TZif data (versions 1 to 4); name is used in messages.
    static Result<TimeZone> parse(std::string_view data, std::string_view name);

    const std::string& name() const { return m_name; }
    /// Seconds east of UTC at instant t. After the file's last transition
    /// the last offset holds (zoneinfo files list transitions to 2037).
    std::int32_t offset_at(std::int64_t unix_seconds) const;

private:
    std::string m_name = "UTC";
    std::vector<std::int64_t> m_transitions;  // ascending
    std::vector<std::uint8_t> m_type_of;      // per transition
    std::vector<std::int32_t> m_offsets;      // per type
    std::int32_t m_initial = 0;               // before the first transition
};

/// A parsed cron expression.
class Expression {
public:
    /// Parses "*/15 9-17 * * mon-fri" or "@daily"; errors name the field.
    static Result<Expression> parse(std::string_view text);

    /// The first minute strictly after t at which the expression fires in
    /// zone tz, or nothing when it never fires within five years.
    std::optional<timeutil::TimePoint> next_after(timeutil::TimePoint t, const TimeZone& tz) const;

    /// Whether it fires at local wall-clock fields.
    bool matches(int minute, int hour, int day, int month, int weekday) const;

    const std::string& text() const { return m_text; }

private:
    bool date_matches(int day, int month, int weekday) const;

    std::string m_text;
    std::bitset<60> m_minutes;
    std::bitset<24> m_hours;
    std::bitset<32> m_days;     // 1-31
    std::bitset<13> m_months;   // 1-12
    std::bitset<7> m_weekdays;  // 0 = Sunday
    bool m_any_day = true, m_any_weekday = true;
};

}  // namespace infra::core::cron
