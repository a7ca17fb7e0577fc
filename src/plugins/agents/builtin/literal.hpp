#pragma once
// Terraform values as HCL literals: reading an expression that is one
// (no references, functions or interpolation) and writing a value as one.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace infra::plugins::agents::builtin {

/// The value of an expression written as a literal: a string without
/// interpolation, a number, true, false, null, or a list or object of
/// literals. nullopt for anything else (var.x, "${...}", a heredoc, a call).
std::optional<nlohmann::json> literal_value(std::string_view expr);

/// The value as an HCL literal ("v2", 3, true, ["a", "b"], { team = "x" }).
std::string hcl_literal(const nlohmann::json& value);

/// True when two values are the same Terraform value (numbers by value).
bool same_value(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace infra::plugins::agents::builtin
