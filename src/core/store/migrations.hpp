#pragma once
// Numbered schema migrations of the state database.

#include "core/store/db.hpp"

#include <string_view>
#include <vector>

namespace infra::core::store {

/// One schema step; versions are consecutive from 1 and never change once released.
struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
    /// Runs after sql, in the same transaction (data the SQL cannot compute).
    Status (*after)(Db&) = nullptr;
};

/// Every migration this build knows, in order (SQLite's schema).
const std::vector<Migration>& migrations();
/// The same versions in a dialect's own DDL.
const std::vector<Migration>& migrations(Dialect dialect);

/// The schema version of db (0 for a new database).
Result<int> schema_version(Db& db);

/// Applies the pending migrations, each in its own transaction. Refuses a
/// database whose schema is newer than this build knows.
Status migrate(Db& db);

}  // namespace infra::core::store
