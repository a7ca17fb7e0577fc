#include "cli/queue_view.hpp"

#include "core/timeutil.hpp"

namespace infra::cli {

std::string age(std::int64_t ms)
{
    auto d = core::queue::now_ms() - ms;
    if (d < 0) return "in " + core::timeutil::format_duration(std::chrono::milliseconds(-d / 1000 * 1000));
    return core::timeutil::format_duration(std::chrono::milliseconds(d / 1000 * 1000));
}

nlohmann::json entry_json(const core::queue::Entry& e, bool full)
{
    return core::queue::to_json(e, full);
}

}  // namespace infra::cli
