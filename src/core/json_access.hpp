#pragma once
// Reading fields of JSON documents that may not have them, or may have them
// with the wrong type: tasks, decisions, results, plans, webhook bodies and
// API answers come from outside and are read, not trusted. json::value()
// throws a type_error when a member has another type; these never throw.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

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

/// A string member, or `fallback` when it is absent or not a string.
inline std::string string_member(const nlohmann::json& j, const char* key, const std::string& fallback = {})
{
    const nlohmann::json& v = member(j, key);
    return v.is_string() ? v.get<std::string>() : fallback;
}

/// A boolean member, or `fallback` when it is absent or not a boolean.
inline bool bool_member(const nlohmann::json& j, const char* key, bool fallback = false)
{
    const nlohmann::json& v = member(j, key);
    return v.is_boolean() ? v.get<bool>() : fallback;
}

/// An integer member, or `fallback` when it is absent, not an integer, or
/// does not fit.
inline std::int64_t int_member(const nlohmann::json& j, const char* key, std::int64_t fallback = 0)
{
    const nlohmann::json& v = member(j, key);
    if (v.is_number_unsigned())
        return v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)
                   ? fallback
                   : static_cast<std::int64_t>(v.get<std::uint64_t>());
    return v.is_number_integer() ? v.get<std::int64_t>() : fallback;
}

/// An object member, or an empty object.
inline const nlohmann::json& object_member(const nlohmann::json& j, const char* key)
{
    static const nlohmann::json k_empty = nlohmann::json::object();
    const nlohmann::json& v = member(j, key);
    return v.is_object() ? v : k_empty;
}

/// An array member, or an empty array.
inline const nlohmann::json& array_member(const nlohmann::json& j, const char* key)
{
    static const nlohmann::json k_empty = nlohmann::json::array();
    const nlohmann::json& v = member(j, key);
    return v.is_array() ? v : k_empty;
}

/// The string elements of an array member; other elements are skipped.
inline std::vector<std::string> strings_member(const nlohmann::json& j, const char* key)
{
    std::vector<std::string> out;
    for (const auto& e : array_member(j, key))
        if (e.is_string()) out.push_back(e.get<std::string>());
    return out;
}

}  // namespace infra::core
