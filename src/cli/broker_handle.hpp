#pragma once
// Opens the credential broker a command uses: the provider named by
// --provider or creds.provider (default local), over the home's ledger.

#include "cli/context.hpp"
#include "core/creds/broker.hpp"
#include "core/store/db.hpp"

#include <memory>

namespace infra::cli {

struct BrokerHandle {
    std::unique_ptr<core::store::Db> db;
    std::unique_ptr<core::creds::Ledger> ledger;
    std::unique_ptr<core::creds::Provider> provider;
    std::unique_ptr<core::creds::Broker> broker;
};

/// The provider named by flag, else creds.provider, else local.
core::Result<BrokerHandle> open_broker(Context& ctx, const std::string& provider_flag);

/// The ledger alone (ls and revoke need no provider).
core::Result<BrokerHandle> open_ledger(Context& ctx);

}  // namespace infra::cli
