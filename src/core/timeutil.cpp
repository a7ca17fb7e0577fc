#include "core/timeutil.hpp"

#include <cctype>

namespace infra::core::timeutil {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out)
{
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

// Days from 1970-01-01 to the given civil date (Howard Hinnant's algorithm).
long long days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return static_cast<long long>(era) * 146097 + static_cast<long long>(doe) - 719468;
}

struct Civil {
    long long year;
    unsigned month;
    unsigned day;
};

// The civil date of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
Civil civil_from_days(long long z)
{
    z += 719468;
    const long long era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<long long>(yoe) + era * 400 + (m <= 2), m, d};
}

}  // namespace

std::string format_rfc3339(TimePoint t)
{
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    long long secs = ms / 1000;
    int frac = static_cast<int>(ms % 1000);
    if (frac < 0) {
        frac += 1000;
        --secs;
    }
    long long days = secs / 86400;
    long long of_day = secs % 86400;
    if (of_day < 0) {
        of_day += 86400;
        --days;
    }
    auto [y, m, d] = civil_from_days(days);
    // Written digit by digit: the clock's years (1678 to 2261) have four.
    std::string out = "0000-00-00T00:00:00.000Z";
    auto put = [&out](std::size_t at, std::size_t width, long long v) {
        for (std::size_t i = at + width; i-- > at; v /= 10) out[i] = static_cast<char>('0' + v % 10);
    };
    put(0, 4, y);
    put(5, 2, m);
    put(8, 2, d);
    put(11, 2, of_day / 3600);
    put(14, 2, of_day / 60 % 60);
    put(17, 2, of_day % 60);
    put(20, 3, frac);
    return out;
}

std::string now_rfc3339()
{
    return format_rfc3339(Clock::now());
}

std::optional<TimePoint> parse_rfc3339(std::string_view s)
{
    int y, mo, d, h, mi, se;
    if (s.size() < 19 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
        !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) || s[13] != ':' ||
        !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
    // The clock counts nanoseconds in 64 bits: 1678 to 2262. Signals use
    // 0001-01-01 for "never"; that is not a time a task can carry.
    if (y < 1970 || y > 2261) return std::nullopt;
    std::size_t pos = 19;
    long long nanos = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int n = 0;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
            if (n < 9) {
                nanos = nanos * 10 + (s[pos] - '0');
                ++n;
            }
            ++pos;
        }
        if (n == 0) return std::nullopt;
        for (; n < 9; ++n) nanos *= 10;
    }
    long long offset_s = 0;
    if (pos < s.size()) {
        char c = s[pos];
        if (c == 'Z' || c == 'z') {
            ++pos;
        } else if (c == '+' || c == '-') {
            int oh, om;
            if (!digits(s, pos + 1, 2, oh)) return std::nullopt;
            std::size_t mpos = pos + 3;
            if (mpos < s.size() && s[mpos] == ':') ++mpos;
            if (!digits(s, mpos, 2, om)) return std::nullopt;
            offset_s = (oh * 3600 + om * 60) * (c == '+' ? 1 : -1);
            pos = mpos + 2;
        } else {
            return std::nullopt;
        }
    }
    if (pos != s.size()) return std::nullopt;
    long long days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    long long secs = days * 86400 + h * 3600 + mi * 60 + se - offset_s;
    return TimePoint(
        std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos)));
}

std::optional<std::string> normalize(std::string_view s)
{
    auto t = parse_rfc3339(s);
    if (!t) return std::nullopt;
    return format_rfc3339(*t);
}

Result<std::chrono::milliseconds> parse_duration(std::string_view s)
{
    if (s.empty()) return fail(Errc::invalid_input, "empty duration");
    std::chrono::milliseconds total{0};
    std::size_t i = 0;
    while (i < s.size()) {
        if (!std::isdigit(static_cast<unsigned char>(s[i])))
            return fail(Errc::invalid_input, "invalid duration '" + std::string(s) + "'",
                        "use a number and a unit: 500ms, 30s, 15m, 2h, 7d");
        long long v = 0;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
            v = v * 10 + (s[i] - '0');
            if (v > 1'000'000'000LL) return fail(Errc::invalid_input, "duration '" + std::string(s) + "' is too long");
            ++i;
        }
        std::size_t u = i;
        while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
        std::string_view unit = s.substr(u, i - u);
        long long mult;
        if (unit == "ms") mult = 1;
        else if (unit == "s") mult = 1000;
        else if (unit == "m") mult = 60'000;
        else if (unit == "h") mult = 3'600'000;
        else if (unit == "d") mult = 86'400'000;
        else
            return fail(Errc::invalid_input, "invalid duration '" + std::string(s) + "'",
                        "use a number and a unit: 500ms, 30s, 15m, 2h, 7d");
        total += std::chrono::milliseconds(v * mult);
    }
    return total;
}

std::string format_duration(std::chrono::milliseconds d)
{
    long long ms = d.count();
    if (ms < 1000) return std::to_string(ms) + "ms";
    std::string out;
    long long s = ms / 1000;
    if (s >= 86400) {
        out += std::to_string(s / 86400) + "d";
        s %= 86400;
    }
    if (s >= 3600) {
        out += std::to_string(s / 3600) + "h";
        s %= 3600;
    }
    if (s >= 60) {
        out += std::to_string(s / 60) + "m";
        s %= 60;
    }
    if (s > 0 || out.empty()) {
        if (out.empty() && ms % 1000) return std::to_string(ms / 1000) + "." + std::to_string((ms % 1000) / 100) + "s";
        out += std::to_string(s) + "s";
    }
    return out;
}

std::string format_rfc3339_ms(std::int64_t unix_ms)
{
    return format_rfc3339(TimePoint(std::chrono::milliseconds(unix_ms)));
}

}  // namespace infra::core::timeutil
