#pragma once
// Environment names in one form, wherever a task comes in. Policy matches
// context.environment by equality or glob, so a gate on "production" is as
// strong as the guarantee that production is always spelled so: a task's
// environment is trimmed and ASCII lower-cased at every entry, and a name
// with a character outside ASCII (a Cyrillic 'о' that looks like a Latin
// 'o', a no-break space) is refused rather than let past the gate.

#include "core/result.hpp"
#include "core/task.hpp"

#include <string>
#include <string_view>

namespace infra::core {

/// The form an environment name is compared in: without surrounding white
/// space, in ASCII lower case. Errc::invalid_input, naming field and the
/// first offending character, for a name with a non-ASCII or control
/// character or longer than 128 characters. An empty name stays empty
/// (the environment is unknown).
Result<std::string> canonical_environment(std::string_view name, const std::string& field);

/// Puts task.context.environment in its canonical form, in place; the
/// error of canonical_environment for field "context.environment".
/// task_from_json does the same, so every task that enters as JSON or is
/// made by a parser ends up with one spelling.
Status normalize_environment(AgentTask& task);

}  // namespace infra::core
