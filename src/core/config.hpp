#pragma once
// Configuration: config.yaml with every key overridable from the
// environment as INFRA_AGENT_<KEY> (upper case, '.' -> '_').

#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace infra::core {

/// Where a configuration value came from, for `config list`.
enum class ConfigOrigin { file, environment, default_value };

/// A loaded configuration; cheap to copy.
class Config {
public:
    /// Loads file; a missing file is an empty configuration unless required.
    static Result<Config> load(const std::filesystem::path& file, bool required);

    /// An empty configuration (only the environment applies).
    Config() = default;

    /// The value of a dotted key: the environment first, then the file.
    /// Lists and maps in the file come back as JSON text.
    std::optional<std::string> get(const std::string& key) const;

    /// get(key), or fallback.
    std::string get_or(const std::string& key, const std::string& fallback) const;

    /// A list: a YAML sequence in the file, or a ':'-separated environment value.
    std::vector<std::string> get_list(const std::string& key) const;

    /// A structured value (schedules, validation.steps) as JSON; null if absent.
    nlohmann::json get_json(const std::string& key) const;

    /// Every key set in the file or the environment, with its origin.
    std::map<std::string, std::pair<std::string, ConfigOrigin>> list() const;

    /// The file this configuration was read from (may not exist).
    const std::filesystem::path& file() const { return m_file; }

    /// The environment variable that overrides key: INFRA_AGENT_QUEUE_URL.
    static std::string env_name(const std::string& key);

private:
    std::filesystem::path m_file;
    nlohmann::json m_tree = nlohmann::json::object();  // the YAML document as JSON
    std::map<std::string, std::string> m_flat;         // scalar leaves by dotted key
};

/// Converts YAML text to JSON, with errors that give line and column; name
/// is used in messages.
Result<nlohmann::json> yaml_to_json(const std::string& text, const std::string& name);

}  // namespace infra::core
