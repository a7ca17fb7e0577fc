#pragma once
// The state store of a home: opened (and created, and migrated) on demand.

#include "core/home.hpp"
#include "core/store/sqlite.hpp"

#include <memory>

namespace infra::core {

/// Opens <home>/state.db, creating the home and the database when missing
/// (like `init`, without a config file) and applying pending migrations.
Result<std::unique_ptr<store::Db>> open_state(const Home& home);

}  // namespace infra::core
