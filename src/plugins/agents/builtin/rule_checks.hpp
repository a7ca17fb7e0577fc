#pragma once
// Checks written as data: the fix rules of share/fixes/<family>.yaml. A rule
// names the attributes a resource must have (a value, one of a set, not a
// value, a minimum, a nested block), or a separate resource that must exist
// for it (the AWS provider v4 split), and how to set them. docs/agents.md
// describes the format.

#include "core/result.hpp"
#include "plugins/agents/builtin/checks.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace infra::plugins::agents::builtin {

/// The checks of one rules file; name is used in messages.
core::Result<std::vector<Check>> parse_rules(const std::string& text, const std::string& name);

/// The checks of every *.yaml file of a directory, in file name order.
core::Result<std::vector<Check>> load_rules(const std::filesystem::path& dir);

}  // namespace infra::plugins::agents::builtin
