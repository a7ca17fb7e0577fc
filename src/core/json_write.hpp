#pragma once
// JSON written straight into a buffer, byte for byte as nlohmann's compact
// dump (dump(-1, ' ', false, replace)) writes it, without its
// per-character escaping of the plain ASCII strings most documents hold.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace infra::core::json_write {

/// Appends s as a JSON string.
void append_string(std::string& out, std::string_view s);

/// Appends j as j.dump(-1, ' ', false, json::error_handler_t::replace) would.
void append(std::string& out, const nlohmann::json& j);

}  // namespace infra::core::json_write
