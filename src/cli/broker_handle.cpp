#include "cli/broker_handle.hpp"

#include "core/state.hpp"

namespace infra::cli {

core::Result<BrokerHandle> open_ledger(Context& ctx)
{
    BrokerHandle h;
    auto db = core::open_state(ctx.home());
    if (!db) return core::fail(db.error());
    h.db = std::move(*db);
    if (auto r = core::creds::Ledger::relax_sync(*h.db); !r) return core::fail(r.error());
    h.ledger = std::make_unique<core::creds::Ledger>(*h.db);
    return h;
}

core::Result<BrokerHandle> open_broker(Context& ctx, const std::string& provider_flag)
{
    auto config = ctx.config();
    if (!config) return core::fail(config.error());
    std::string name = provider_flag.empty() ? (*config)->get_or("creds.provider", "local") : provider_flag;
    auto h = open_ledger(ctx);
    if (!h) return core::fail(h.error());
    auto provider = ctx.credentials().open(name, **config, ctx.home());
    if (!provider) return core::fail(provider.error());
    h->provider = std::move(*provider);
    h->broker = std::make_unique<core::creds::Broker>(*h->ledger, *h->provider);
    return h;
}

}  // namespace infra::cli
