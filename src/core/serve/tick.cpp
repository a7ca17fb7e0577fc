#include "core/serve/tick.hpp"

#include "core/change/delivery.hpp"
#include "core/events/trace.hpp"
#include "core/open_intake.hpp"
#include "core/text.hpp"

namespace infra::core::serve {

Result<signals::CollectSink> tick_tasks(const signals::Registry& parsers, const nlohmann::json& schedules,
                                        const std::string& repository_id, const std::string& name,
                                        timeutil::TimePoint at, events::EventSink* trace)
{
    nlohmann::json tick = {{"schedule", name}, {"firedAt", timeutil::format_rfc3339(at)}};
    signals::IngestOptions in;
    in.schedules = schedules;
    in.repository_id = repository_id;
    return signals::parse_text(*parsers.find("schedule"), tick.dump(), "schedule " + name, in, trace);
}

Result<std::vector<intake::Admitted>> fire_now(const Site& site, const std::string& name, const PolicySources& policies,
                                               const std::string& queue)
{
    auto raw = site.config.get_json("schedules");
    auto all = load_schedules(raw);
    if (!all) return fail(all.error());
    bool known = false;
    for (const auto& s : *all) known = known || s.name == name;
    if (!known)
        return fail(Errc::usage, "no schedule named " + text::quote(name), "'infra-agent schedule ls' lists them");
    auto intake = open_intake(site, policies, queue);
    if (!intake) return fail(intake.error());
    events::ContextScope in_trace(events::process_root_context());
    auto found = tick_tasks(site.signals, raw, change::repository_id(site.config, ""), name, timeutil::Clock::now(),
                            (*intake)->events);
    if (!found) return fail(found.error());
    intake::Options io;
    io.stage = "schedule";
    return (*intake)->admit(std::move(found->tasks), io);
}

}  // namespace infra::core::serve
