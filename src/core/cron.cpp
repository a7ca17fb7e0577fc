#include "core/cron.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace infra::core::cron {
namespace {

std::int64_t be(std::string_view d, std::size_t at, int bytes)
{
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(d[at + static_cast<std::size_t>(i)]);
    if (bytes == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
}

struct Field {
    const char* name;
    int lo, hi;
    std::array<const char*, 12> names;  // names[i] stands for lo + i
};

constexpr Field k_fields[5] = {
    {"minute", 0, 59, {}},
    {"hour", 0, 23, {}},
    {"day of month", 1, 31, {}},
    {"month", 1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
    {"day of week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
};

Error field_error(int index, const std::string& what)
{
    return make_error(Errc::invalid_input,
                      "cron field " + std::to_string(index + 1) + " (" + k_fields[index].name + "): " + what,
                      "five fields: minute hour day-of-month month day-of-week, or @hourly, @daily, @weekly, "
                      "@monthly, @yearly");
}

Result<int> value(std::string_view s, int index)
{
    const Field& f = k_fields[index];
    std::string lower = text::lower(s);
    for (std::size_t i = 0; i < f.names.size() && f.names[i]; ++i)
        if (lower == f.names[i]) return f.lo + static_cast<int>(i);
    if (s.empty() || s.size() > 2 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return field_error(index, text::quote(s) + " is not a number" + (f.names[0] ? " or a name" : ""));
    int v = std::atoi(std::string(s).c_str());
    if (v < f.lo || v > f.hi)
        return field_error(index,
                           std::to_string(v) + " is out of range " + std::to_string(f.lo) + "-" + std::to_string(f.hi));
    return v;
}

/// Parses one field into the set of values it allows.
Result<std::vector<int>> parse_field(std::string_view s, int index)
{
    const Field& f = k_fields[index];
    std::vector<int> out;
    for (auto& part : text::split(s, ',')) {
        if (part.empty()) return field_error(index, "empty list element");
        int step = 1;
        if (auto slash = part.find('/'); slash != std::string_view::npos) {
            auto st = part.substr(slash + 1);
            if (st.empty() || st.size() > 2 ||
                !std::all_of(st.begin(), st.end(), [](char c) { return c >= '0' && c <= '9'; }))
                return field_error(index, "step " + text::quote(st) + " is not a number");
            step = std::atoi(std::string(st).c_str());
            if (step < 1 || step > f.hi) return field_error(index, "step " + std::to_string(step) + " is out of range");
            part = part.substr(0, slash);
        }
        int lo = f.lo, hi = f.hi;
        if (part == "*") {
        } else if (auto dash = part.find('-'); dash != std::string_view::npos) {
            auto a = value(part.substr(0, dash), index);
            if (!a) return a.error();
            auto b = value(part.substr(dash + 1), index);
            if (!b) return b.error();
            if (*a > *b) return field_error(index, "range " + text::quote(part) + " runs backwards");
            lo = *a;
            hi = *b;
        } else {
            auto a = value(part, index);
            if (!a) return a.error();
            lo = *a;
            hi = step > 1 ? f.hi : *a;  // "5/15" means 5, 20, 35, 50
        }
        for (int v = lo; v <= hi; v += step) out.push_back(v);
    }
    return out;
}

}  // namespace

Result<TimeZone> TimeZone::load(std::string_view name)
{
    if (name.empty() || name == "UTC" || name == "Etc/UTC" || name == "Z") return TimeZone{};
    bool safe = name.front() != '/' && name.find("..") == std::string_view::npos && name.size() < 128 &&
                std::all_of(name.begin(), name.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+';
                });
    if (!safe)
        return fail(Errc::invalid_input, "time zone " + text::quote(name) + " is not a zone name",
                    "use an IANA name such as Europe/Berlin");
    const char* dir = std::getenv("TZDIR");
    std::string path = std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + std::string(name);
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fail(Errc::invalid_input, "unknown time zone " + text::quote(name),
                    "use an IANA name such as Europe/Berlin (install the tzdata package for the zone files)");
    std::ostringstream data;
    data << in.rdbuf();
    return parse(data.str(), name);
}

Result<TimeZone> TimeZone::parse(std::string_view d, std::string_view name)
{
    auto bad = [&](const std::string& why) {
        return fail(Errc::invalid_input, "time zone " + text::quote(name) + ": " + why);
    };
    if (d.size() < 44 || d.substr(0, 4) != "TZif") return bad("not a TZif file");
    auto counts = [&](std::size_t at, std::array<std::int64_t, 6>& c) {
        for (int i = 0; i < 6; ++i)
            c[static_cast<std::size_t>(i)] = be(d, at + 20 + static_cast<std::size_t>(i) * 4, 4);
    };
    std::array<std::int64_t, 6> c{};  // isut, isstd, leap, time, type, char
    counts(0, c);
    for (auto v : c)
        if (v < 0 || v > 100000) return bad("implausible header counts");
    int width = 4;
    std::size_t at = 44;
    if (d[4] >= '2') {
        // Skip the 32-bit block and read the 64-bit one that follows it.
        std::size_t v1 = static_cast<std::size_t>(c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
        if (d.size() < 44 + v1 + 44 || d.substr(44 + v1, 4) != "TZif") return bad("truncated");
        counts(44 + v1, c);
        for (auto v : c)
            if (v < 0 || v > 100000) return bad("implausible header counts");
        width = 8;
        at = 44 + v1 + 44;
    }
    auto timecnt = static_cast<std::size_t>(c[3]), typecnt = static_cast<std::size_t>(c[4]);
    if (typecnt == 0) return bad("no local time types");
    if (d.size() < at + timecnt * static_cast<std::size_t>(width + 1) + typecnt * 6) return bad("truncated");
    TimeZone tz;
    tz.m_name = std::string(name);
    for (std::size_t i = 0; i < timecnt; ++i)
        tz.m_transitions.push_back(be(d, at + i * static_cast<std::size_t>(width), width));
    at += timecnt * static_cast<std::size_t>(width);
    for (std::size_t i = 0; i < timecnt; ++i) {
        auto t = static_cast<std::uint8_t>(d[at + i]);
        if (t >= typecnt) return bad("a transition names a missing type");
        tz.m_type_of.push_back(t);
    }
    at += timecnt;
    for (std::size_t i = 0; i < typecnt; ++i) {
        auto off = static_cast<std::int32_t>(be(d, at + i * 6, 4));
        if (off < -26 * 3600 || off > 26 * 3600) return bad("an offset beyond a day");
        tz.m_offsets.push_back(off);
    }
    if (!std::is_sorted(tz.m_transitions.begin(), tz.m_transitions.end())) return bad("transitions out of order");
    tz.m_initial = tz.m_offsets[0];
    return tz;
}

std::int32_t TimeZone::offset_at(std::int64_t t) const
{
    auto it = std::upper_bound(m_transitions.begin(), m_transitions.end(), t);
    if (it == m_transitions.begin()) return m_initial;
    return m_offsets[m_type_of[static_cast<std::size_t>(it - m_transitions.begin() - 1)]];
}

Result<Expression> Expression::parse(std::string_view raw)
{
    std::string_view s = text::trim(raw);
    static const std::pair<const char*, const char*> k_macros[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
        {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"},
    };
    std::string expanded(s);
    if (!s.empty() && s.front() == '@') {
        bool known = false;
        for (const auto& [m, e] : k_macros)
            if (text::lower(s) == m) {
                expanded = e;
                known = true;
            }
        if (!known)
            return fail(Errc::invalid_input, "unknown cron macro " + text::quote(s),
                        "use @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually");
    }
    std::vector<std::string> fields;
    for (auto& f : text::split(expanded, ' '))
        if (!f.empty()) fields.push_back(std::move(f));
    if (fields.size() != 5)
        return fail(Errc::invalid_input,
                    "cron expression " + text::quote(s) + " has " + std::to_string(fields.size()) +
                        " fields, expected 5",
                    "minute hour day-of-month month day-of-week, e.g. '0 2 * * *' or '@daily'");
    Expression e;
    e.m_text = std::string(s);
    for (int i = 0; i < 5; ++i) {
        auto values = parse_field(fields[static_cast<std::size_t>(i)], i);
        if (!values) return values.error();
        for (int v : *values) {
            switch (i) {
            case 0:
                e.m_minutes.set(static_cast<std::size_t>(v));
                break;
            case 1:
                e.m_hours.set(static_cast<std::size_t>(v));
                break;
            case 2:
                e.m_days.set(static_cast<std::size_t>(v));
                break;
            case 3:
                e.m_months.set(static_cast<std::size_t>(v));
                break;
            default:
                e.m_weekdays.set(static_cast<std::size_t>(v % 7));
                break;
            }
        }
    }
    e.m_any_day = fields[2].front() == '*';
    e.m_any_weekday = fields[4].front() == '*';
    return e;
}

bool Expression::date_matches(int day, int month, int weekday) const
{
    if (!m_months.test(static_cast<std::size_t>(month))) return false;
    bool d = m_days.test(static_cast<std::size_t>(day)), w = m_weekdays.test(static_cast<std::size_t>(weekday));
    // cron's rule: a field that starts with '*' (even "*/5") makes both
    // fields count; two restricted fields match when either does.
    if (m_any_day || m_any_weekday) return d && w;
    return d || w;
}

bool Expression::matches(int minute, int hour, int day, int month, int weekday) const
{
    return m_minutes.test(static_cast<std::size_t>(minute)) && m_hours.test(static_cast<std::size_t>(hour)) &&
           date_matches(day, month, weekday);
}

std::optional<timeutil::TimePoint> Expression::next_after(timeutil::TimePoint t, const TimeZone& tz) const
{
    using namespace std::chrono;
    std::int64_t s = duration_cast<seconds>(t.time_since_epoch()).count();
    s = s - ((s % 60) + 60) % 60 + 60;  // the next whole minute
    const std::int64_t end = s + std::int64_t{5} * 366 * 86400;
    // Walks forward in UTC and reads the wall clock at each step, skipping
    // whole hours that cannot match: at most about 44,000 steps in five years.
    // A wall-clock time that a DST change skips does not fire; one that it
    // repeats fires twice, as with cron.
    while (s < end) {
        std::int64_t local = s + tz.offset_at(s);
        auto day = floor<days>(sys_seconds{seconds{local}});
        year_month_day ymd{day};
        std::int64_t in_day = local - duration_cast<seconds>(day.time_since_epoch()).count();
        int hour = static_cast<int>(in_day / 3600), minute = static_cast<int>(in_day % 3600 / 60);
        int wd = static_cast<int>(weekday{day}.c_encoding());
        if (!date_matches(static_cast<int>(static_cast<unsigned>(ymd.day())),
                          static_cast<int>(static_cast<unsigned>(ymd.month())), wd) ||
            !m_hours.test(static_cast<std::size_t>(hour))) {
            s += 3600 - in_day % 3600;
            continue;
        }
        if (!m_minutes.test(static_cast<std::size_t>(minute))) {
            s += 60;
            continue;
        }
        return timeutil::TimePoint{duration_cast<timeutil::Clock::duration>(seconds{s})};
    }
    return std::nullopt;
}

}  // namespace infra::core::cron
