#include "core/creds/open.hpp"

#include "core/creds/env.hpp"
#include "core/state.hpp"

namespace infra::core::creds {

Result<BrokerHandle> open_ledger(const Home& home)
{
    BrokerHandle h;
    auto db = open_state(home);
    if (!db) return fail(db.error());
    h.db = std::move(*db);
    if (auto r = Ledger::relax_sync(*h.db); !r) return fail(r.error());
    h.ledger = std::make_unique<Ledger>(*h.db);
    return h;
}

Result<BrokerHandle> open_broker(const Site& site, const std::string& provider_flag)
{
    std::string name = provider_flag.empty() ? site.config.get_or("creds.provider", "local") : provider_flag;
    auto h = open_ledger(site.home);
    if (!h) return fail(h.error());
    auto provider = site.credentials.open(name, site.config, site.home);
    if (!provider) return fail(provider.error());
    h->provider = std::move(*provider);
    h->broker = std::make_unique<Broker>(*h->ledger, *h->provider);
    return h;
}

Broker* BrokerHandle::broker_for(const std::string& api, const std::string& variable)
{
    if (provider && provider->mints_for(api)) return broker.get();
    env_providers.push_back(env_provider(variable));
    env_brokers.push_back(std::make_unique<Broker>(*ledger, *env_providers.back()));
    return env_brokers.back().get();
}

void BrokerHandle::set_events(events::EventSink* sink)
{
    if (broker) broker->set_events(sink);
    for (auto& b : env_brokers) b->set_events(sink);
}

}  // namespace infra::core::creds
