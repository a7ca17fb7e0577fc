#include "cli/admission.hpp"

#include "core/state.hpp"

#include <cstdlib>

namespace infra::cli {

Admission::~Admission()
{
    notifier.reset();
    queue.reset();
}

core::Result<std::vector<core::intake::Admission>> Admission::admit(std::vector<core::AgentTask> tasks,
                                                                    const core::intake::Options& options)
{
    auto out = core::intake::admit(std::move(tasks), *engine, *state, *queue, *events, options);
    events->flush();
    return out;
}

core::Result<std::unique_ptr<Admission>> open_admission(Context& ctx, const PolicyFlags& policies, const std::string& queue_url)
{
    auto a = std::make_unique<Admission>();
    auto engine = load_engine(ctx, policies);
    if (!engine) return engine.error();
    a->engine = std::move(*engine);
    auto state = core::open_state(ctx.home());
    if (!state) return state.error();
    a->state = std::move(*state);
    auto store = core::events::SqliteSink::open(ctx.home().state_db().string());
    if (!store) return store.error();
    a->store = std::move(*store);
    a->notifier = open_notifier(ctx, *a->store);
    a->events = a->notifier ? static_cast<core::events::EventSink*>(a->notifier.get()) : a->store.get();
    auto queue = ctx.open_queue(queue_url, a->events);
    if (!queue) return queue.error();
    a->queue = std::move(*queue);
    return a;
}

std::unique_ptr<core::notify::Notifier> open_notifier(Context& ctx, core::events::EventSink& sink)
{
    auto config = ctx.config();
    std::string var = config ? (*config)->get_or("notify.slack_webhook_url_env", "INFRA_AGENT_SLACK_WEBHOOK_URL")
                             : "INFRA_AGENT_SLACK_WEBHOOK_URL";
    const char* url = std::getenv(var.c_str());
    if (!url || !*url) return nullptr;
    return std::make_unique<core::notify::Notifier>(sink, url);
}

}  // namespace infra::cli
