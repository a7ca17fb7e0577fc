#pragma once
// Reading fields of JSON documents that may not have them: tasks,
// decisions, results and plans come from outside and are read, not trusted.

#include <nlohmann/json.hpp>

#include <string>

namespace infra::core {

/// A member of an object, or null; json::value with a JSON pointer throws
/// and catches internally, which is slow on a hot path.
inline const nlohmann::json& member(const nlohmann::json& j, const char* key)
{
    static const nlohmann::json k_null;
    if (!j.is_object()) return k_null;
    auto it = j.find(key);
    return it == j.end() ? k_null : *it;
}

/// A string member, or "" when it is absent or not a string.
inline std::string string_member(const nlohmann::json& j, const char* key)
{
    const nlohmann::json& v = member(j, key);
    return v.is_string() ? v.get<std::string>() : std::string();
}

}  // namespace infra::core
