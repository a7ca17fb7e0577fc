// libFuzzer target for schedules from config: a cron expression on the
// first line, and the rest read as a TZif time zone file. Neither may
// crash, and a parsed expression's next fire time must be after its start.
#include "core/cron.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace infra::core;
    std::string in(reinterpret_cast<const char*>(data), size);
    auto nl = in.find('\n');
    std::string expr = in.substr(0, nl);
    std::string zone = nl == std::string::npos ? "" : in.substr(nl + 1);
    auto tz = cron::TimeZone::parse(zone, "fuzz");
    auto e = cron::Expression::parse(expr);
    if (!e) return 0;
    auto start = timeutil::Clock::time_point{std::chrono::seconds{1795000000}};
    auto n = e->next_after(start, tz ? *tz : cron::TimeZone{});
    if (n && *n <= start) std::abort();
    return 0;
}
