#pragma once
// The installed data directory (share/infra-agent): the policy bundle, the
// builtin agent's fix rules.

#include <filesystem>
#include <string_view>

namespace infra::core {

/// share/infra-agent/<sub> next to the binary (a relocatable install or a
/// .deb), then under the configured install prefix, then in the source tree
/// the binary was built from; empty when none of them is a directory.
std::filesystem::path share_dir(std::string_view sub);

}  // namespace infra::core
