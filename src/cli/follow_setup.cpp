#include "cli/follow_setup.hpp"

#include "core/state.hpp"

namespace infra::cli {

core::Result<FollowSetup> open_follower(Context& ctx, const DeliveryFlags& flags, core::events::EventSink* events,
                                        core::Intake* admission)
{
    auto config = ctx.config();
    if (!config) return core::fail(config.error());
    FollowSetup out;
    core::change::DeliveryOptions options;
    auto opened = open_delivery(ctx, flags, nullptr);
    if (!opened) return core::fail(opened.error());
    if (*opened) {
        out.delivery = std::move(*opened);
        options = out.delivery->delivery->options();
    } else {
        // No repository named: the forge and the store alone.
        out.delivery = std::make_unique<DeliverySetup>();
        auto db = core::open_state(ctx.home());
        if (!db) return core::fail(db.error());
        out.delivery->db = std::move(*db);
        out.delivery->store = std::make_unique<core::change::PrStore>(*out.delivery->db);
        std::string forge = flags.forge.empty() ? (*config)->get_or("forge.kind", "local") : flags.forge;
        if (auto f = open_forge(ctx, forge, *out.delivery); !f) return core::fail(f.error());
        options.forge = out.delivery->forge.get();
        options.store = out.delivery->store.get();
    }
    attach_events(*out.delivery, events);
    options.events = events;
    core::change::FollowOptions fo;
    fo.delivery = std::move(options);
    fo.db = out.delivery->db.get();
    if (admission) {
        fo.task_of = [admission](const std::string& id) -> core::Result<nlohmann::json> {
            auto e = admission->queue->show(id);
            if (!e) return core::fail(e.error());
            return e->task;
        };
        fo.rebuild = [admission](core::AgentTask task) -> core::Status {
            core::intake::Options io;
            io.stage = "rebuild";
            std::vector<core::AgentTask> tasks;
            tasks.push_back(std::move(task));
            auto admitted = admission->admit(std::move(tasks), io);
            if (!admitted) return core::fail(admitted.error());
            return {};
        };
    }
    out.follower = std::make_unique<core::change::Follower>(std::move(fo));
    return out;
}

}  // namespace infra::cli
