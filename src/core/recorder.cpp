#include "core/recorder.hpp"

#include "core/log.hpp"
#include "core/state.hpp"
#include "core/text.hpp"

#include <cstdlib>

namespace infra::core {

Recorder::~Recorder()
{
    notifier.reset();
    exporter.reset();
}

Status open_recorder(const Site& site, Recorder& into)
{
    auto state = open_state(site.home);
    if (!state) return state.error();
    into.state = std::move(*state);
    auto store = events::StateSink::open(site.home.state_location());
    if (!store) return store.error();
    into.store = std::move(*store);
    auto exporter = open_exporter(site, *into.store);
    if (!exporter) return exporter.error();
    into.exporter = std::move(*exporter);
    events::EventSink& below = into.exporter ? static_cast<events::EventSink&>(*into.exporter) : *into.store;
    into.notifier = open_notifier(site, below);
    into.events = into.notifier ? static_cast<events::EventSink*>(into.notifier.get()) : &below;
    return {};
}

std::unique_ptr<notify::Notifier> open_notifier(const Site& site, events::EventSink& sink)
{
    std::string var = site.config.get_or("notify.slack_webhook_url_env", "INFRA_AGENT_SLACK_WEBHOOK_URL");
    const char* url = std::getenv(var.c_str());
    if (!url || !*url) return nullptr;
    return std::make_unique<notify::Notifier>(sink, url);
}

Result<std::unique_ptr<events::OtlpExporter>> open_exporter(const Site& site, events::EventSink& sink)
{
    std::string endpoint = site.config.get_or("otlp.endpoint", "");
    std::string from = "otlp.endpoint";
    for (const char* var : {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"})
        if (const char* v = std::getenv(var); endpoint.empty() && v && *v) {
            endpoint = v;
            from = var;
        }
    if (endpoint.empty()) return std::unique_ptr<events::OtlpExporter>();
    if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0)
        return fail(Errc::usage, from + ": expected an http:// or https:// URL, got " + text::quote(endpoint),
                    "the OTLP/HTTP endpoint of a collector, such as http://127.0.0.1:4318");
    events::OtlpOptions o;
    o.endpoint = endpoint;
    if (const char* h = std::getenv("OTEL_EXPORTER_OTLP_HEADERS")) {
        o.headers = events::parse_otlp_headers(h);
        for (const auto& [k, v] : o.headers) log::add_secret(v);
    }
    return std::make_unique<events::OtlpExporter>(sink, std::move(o));
}

}  // namespace infra::core
