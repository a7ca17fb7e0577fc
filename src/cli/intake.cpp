#include "cli/intake.hpp"

#include "core/log.hpp"
#include "core/state.hpp"
#include "core/text.hpp"

#include <cstdlib>

namespace infra::cli {

Recorder::~Recorder()
{
    notifier.reset();
    exporter.reset();
}

Intake::~Intake()
{
    queue.reset();
}

core::Result<std::vector<core::intake::Admitted>> Intake::admit(std::vector<core::AgentTask> tasks,
                                                                const core::intake::Options& options)
{
    auto out = core::intake::admit(std::move(tasks), *engine, *state, *queue, *events, options);
    events->flush();
    return out;
}

core::Status open_recorder(Context& ctx, Recorder& into)
{
    auto state = core::open_state(ctx.home());
    if (!state) return state.error();
    into.state = std::move(*state);
    auto store = core::events::StateSink::open(ctx.home().state_location());
    if (!store) return store.error();
    into.store = std::move(*store);
    auto exporter = open_exporter(ctx, *into.store);
    if (!exporter) return exporter.error();
    into.exporter = std::move(*exporter);
    core::events::EventSink& below =
        into.exporter ? static_cast<core::events::EventSink&>(*into.exporter) : *into.store;
    into.notifier = open_notifier(ctx, below);
    into.events = into.notifier ? static_cast<core::events::EventSink*>(into.notifier.get()) : &below;
    return {};
}

core::Result<std::unique_ptr<Intake>> open_intake(Context& ctx, const PolicyFlags& policies,
                                                  const std::string& queue_url)
{
    auto a = std::make_unique<Intake>();
    auto engine = load_engine(ctx, policies);
    if (!engine) return engine.error();
    a->engine = std::move(*engine);
    if (auto st = open_recorder(ctx, *a); !st) return st.error();
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

core::Result<std::unique_ptr<core::events::OtlpExporter>> open_exporter(Context& ctx, core::events::EventSink& sink)
{
    auto config = ctx.config();
    std::string endpoint = config ? (*config)->get_or("otlp.endpoint", "") : "";
    std::string from = "otlp.endpoint";
    for (const char* var : {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"})
        if (const char* v = std::getenv(var); endpoint.empty() && v && *v) {
            endpoint = v;
            from = var;
        }
    if (endpoint.empty()) return std::unique_ptr<core::events::OtlpExporter>();
    if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0)
        return core::fail(core::Errc::usage,
                          from + ": expected an http:// or https:// URL, got " + core::text::quote(endpoint),
                          "the OTLP/HTTP endpoint of a collector, such as http://127.0.0.1:4318");
    core::events::OtlpOptions o;
    o.endpoint = endpoint;
    if (const char* h = std::getenv("OTEL_EXPORTER_OTLP_HEADERS")) {
        o.headers = core::events::parse_otlp_headers(h);
        for (const auto& [k, v] : o.headers) core::log::add_secret(v);
    }
    return std::make_unique<core::events::OtlpExporter>(sink, std::move(o));
}

}  // namespace infra::cli
