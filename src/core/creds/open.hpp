#pragma once
// Opens the credential broker a command uses: the provider named by a flag
// or creds.provider (default local), over the ledger in the home's state db.

#include "core/creds/broker.hpp"
#include "core/site.hpp"
#include "core/store/db.hpp"

#include <memory>
#include <string>
#include <vector>

namespace infra::core::creds {

/// The ledger's connection and, once a provider is opened, the broker over
/// it, with the brokers of API tokens that the provider cannot mint.
struct BrokerHandle {
    std::unique_ptr<store::Db> db;
    std::unique_ptr<Ledger> ledger;
    std::unique_ptr<Provider> provider;
    std::unique_ptr<Broker> broker;
    std::vector<std::unique_ptr<Provider>> env_providers;
    std::vector<std::unique_ptr<Broker>> env_brokers;

    /// The broker of api's tokens (github, gitlab): the provider's own when
    /// it mints for api (Provider::mints_for), else a new broker over the
    /// token in $variable, whose mints are in the ledger like any other.
    Broker* broker_for(const std::string& api, const std::string& variable);
    /// Records every broker's mints in sink.
    void set_events(events::EventSink* sink);
};

/// The provider named by provider_flag, else creds.provider, else local.
Result<BrokerHandle> open_broker(const Site& site, const std::string& provider_flag);

/// The ledger alone (listing and revoking need no provider).
Result<BrokerHandle> open_ledger(const Home& home);

}  // namespace infra::core::creds
