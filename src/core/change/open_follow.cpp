#include "core/change/open_follow.hpp"

namespace infra::core::change {

Result<FollowSetup> open_follower(const Site& site, const DeliveryOverrides& overrides, events::EventSink* events,
                                  Intake* admission)
{
    FollowSetup out;
    DeliveryOptions options;
    auto opened = open_delivery(site, overrides, nullptr);
    if (!opened) return fail(opened.error());
    if (*opened) {
        out.delivery = std::move(*opened);
        options = out.delivery->delivery->options();
    } else {
        // No repository named: the forge and the store alone.
        auto forge = open_forge(site, overrides);
        if (!forge) return fail(forge.error());
        out.delivery = std::move(*forge);
        options.forge = out.delivery->forge.get();
        options.store = out.delivery->store.get();
    }
    attach_events(*out.delivery, events);
    options.events = events;
    FollowOptions fo;
    fo.delivery = std::move(options);
    fo.db = out.delivery->db.get();
    if (admission) {
        fo.task_of = [admission](const std::string& id) -> Result<nlohmann::json> {
            auto e = admission->queue->show(id);
            if (!e) return fail(e.error());
            return e->task;
        };
        fo.rebuild = [admission](AgentTask task) -> Status {
            intake::Options io;
            io.stage = "rebuild";
            std::vector<AgentTask> tasks;
            tasks.push_back(std::move(task));
            auto admitted = admission->admit(std::move(tasks), io);
            if (!admitted) return fail(admitted.error());
            return {};
        };
    }
    out.follower = std::make_unique<Follower>(std::move(fo));
    return out;
}

}  // namespace infra::core::change
