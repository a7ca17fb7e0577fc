#pragma once
// infra-agent's own modules: shared objects installed with the binary and
// loaded when a command first needs them, so that the libraries they link
// are not loaded by every command.
#include "core/result.hpp"

#include <string_view>

namespace infra::core::module {

/// The address of symbol in module `name` (the file infra-agent-NAME.so),
/// loaded from beside the running binary (a build tree) or from the
/// installed module directory, nowhere else. Loaded once per process.
Result<void*> symbol(std::string_view name, const char* symbol);

}  // namespace infra::core::module
