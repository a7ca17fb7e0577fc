#pragma once
// The state store of a home: opened (and created, and migrated) on demand.

#include "core/config.hpp"
#include "core/home.hpp"
#include "core/store/db.hpp"

#include <memory>

namespace infra::core {

/// Sets home.state_url from state.url in config: empty (<home>/state.db),
/// sqlite://PATH (relative to the home) or postgres://... An unknown scheme
/// is an error that names the key.
Status configure_state(Home& home, const Config& config);

/// Opens the state store: a PostgreSQL server, or <home>/state.db, creating the home and the database when missing
/// (like `init`, without a config file) and applying pending migrations.
Result<std::unique_ptr<store::Db>> open_state(const Home& home);

}  // namespace infra::core
