#include "core/change/open_reviewers.hpp"

namespace infra::core::change {

Result<std::unique_ptr<ReviewersSetup>> open_reviewers(const Site& site, events::EventSink* sink)
{
    std::string kind = site.config.get_or("forge.kind", "local");
    if (!site.forges.has_reviewers(kind)) return std::unique_ptr<ReviewersSetup>();
    auto out = std::make_unique<ReviewersSetup>();
    auto creds = creds::open_broker(site, "");
    if (!creds) return fail(creds.error());
    out->creds = std::move(*creds);
    auto& handle = out->creds;
    auto broker = [&handle](const std::string& api, const std::string& variable) {
        return handle.broker_for(api, variable);
    };
    auto reviewers = site.forges.open_reviewers(kind, {site.config, broker});
    if (!reviewers) return fail(reviewers.error());
    out->reviewers = std::move(*reviewers);
    handle.set_events(sink);
    return out;
}

}  // namespace infra::core::change
