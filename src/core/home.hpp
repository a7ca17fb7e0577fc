#pragma once
// The state home: where state.db, config.yaml and the user's policies live.

#include "core/result.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace infra::core {

/// A resolved state home.
struct Home {
    std::filesystem::path dir;
    /// How it was found: "--home", "INFRA_AGENT_HOME", "discovered" (a
    /// .infra-agent/ above the current directory) or "default" (XDG).
    std::string origin;

    /// Where the state store is when state.url says otherwise: a
    /// postgres:// URL or a SQLite file's path; empty for <dir>/state.db.
    std::string state_url = {};
    /// Why state.url could not be read (a broken config.yaml, an unknown
    /// scheme): opening the state store fails with it rather than falling
    /// back to another store.
    std::optional<Error> state_error = std::nullopt;

    std::filesystem::path state_db() const { return dir / "state.db"; }
    /// The state store's location: the SQLite file, or the PostgreSQL URL.
    std::string state_location() const { return state_url.empty() ? state_db().string() : state_url; }
    /// True when the state store is a PostgreSQL server.
    bool state_is_remote() const;
    std::filesystem::path config_file() const { return dir / "config.yaml"; }
    std::filesystem::path policies_dir() const { return dir / "policies"; }
    /// True when the home has been created (by init or a first write).
    bool exists() const;
};

/// Resolves the state home as CLI.md describes: --home, INFRA_AGENT_HOME,
/// the nearest .infra-agent/ from start upwards, then $XDG_STATE_HOME/infra-agent.
Home resolve_home(const std::optional<std::string>& flag, const std::filesystem::path& start);

/// What init did, for its report.
struct InitReport {
    std::filesystem::path dir;
    bool created = false;  ///< false when the home already existed
    bool wrote_config = false;
    int schema_version = 0;
};

/// Creates dir with a commented config.yaml, a policies/ directory and a
/// migrated state store (state.db, or state_location when given). Re-running it is safe: nothing existing is
/// overwritten, and the database is migrated to the latest schema.
Result<InitReport> init_home(const std::filesystem::path& dir, const std::string& state_location = {});

/// The commented config.yaml that init writes.
std::string default_config_text();

}  // namespace infra::core
