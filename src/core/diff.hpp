#pragma once
// Unified diffs of text, for results, pull-request bodies and reviews.

#include <optional>
#include <string>
#include <string_view>

namespace infra::core::diff {

/// A unified diff (3 lines of context) turning before into after, with
/// a/path and b/path headers; empty when they are equal.
std::string unified(std::string_view before, std::string_view after, const std::string& path);

/// The same for files that may not exist on one side (nullopt): a created
/// file diffs from /dev/null, a deleted one to /dev/null, as git writes them.
std::string unified_files(std::optional<std::string_view> before, std::optional<std::string_view> after,
                          const std::string& path);

}  // namespace infra::core::diff
