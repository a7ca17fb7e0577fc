#pragma once
// Reading Terraform values the way the builtin agent's detectors need them:
// literals unquoted, variables resolved to their defaults, nested and
// dynamic blocks alike.

#include "plugins/agents/builtin/checks.hpp"

#include <string>

namespace infra::plugins::agents::builtin {

/// The expression of an attribute of b as written, or "" when it is absent.
std::string expr_of(const Module& m, const std::string& file, const core::hcl::Block& b, const char* attr);

/// A string literal without its quotes; "${var.x}" as var.x.
std::string unquote(std::string s);

/// The literal a var.NAME stands for when its declaration has a default;
/// any other expression unquoted.
std::string resolve(const Module& m, std::string e);

/// True when a resolved value is decided at plan time (a reference).
bool unknown(const std::string& v);

/// A nested block of a type, or the content of a dynamic block of that type.
const core::hcl::Block* sub_block(const core::hcl::Block& b, std::string_view type);

/// The file of the module that holds a block.
const std::string& file_of(const Module& m, const core::hcl::Block& b);

}  // namespace infra::plugins::agents::builtin
