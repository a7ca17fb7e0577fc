#pragma once
// Splitting a YAML stream into its documents before parsing each one.
// yaml-cpp's LoadAll can loop forever on some malformed streams; loading
// one document at a time cannot.

#include <string>
#include <string_view>
#include <vector>

namespace infra::core {

/// One document of a YAML stream and the 0-based line it starts on.
struct YamlDocument {
    int first_line = 0;
    std::string text;
};

/// The documents of text, split at "---" and "..." lines.
std::vector<YamlDocument> split_yaml_documents(std::string_view text);

}  // namespace infra::core
