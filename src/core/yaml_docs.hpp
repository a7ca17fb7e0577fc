#pragma once
// Splitting a YAML stream into its documents before parsing each one
// (yaml-cpp's LoadAll can loop forever on some malformed streams; loading
// one document at a time cannot), and the one rule config and policies read
// scalars by.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
}

namespace infra::core {

/// One document of a YAML stream and the 0-based line it starts on.
struct YamlDocument {
    int first_line = 0;
    std::string text;
};

/// The documents of text, split at "---" and "..." lines.
std::vector<YamlDocument> split_yaml_documents(std::string_view text);

/// A scalar as JSON, by YAML 1.2's core rule: quoted is text; true and false
/// are booleans; null and ~ are null; integers and decimals are numbers;
/// anything else is text. YAML 1.1's other booleans (yes, no, on, off, True,
/// FALSE and their other cases) throw YAML::Exception at the scalar, since other tools
/// read them as booleans: write true or false, or quote them for text.
nlohmann::json yaml_scalar(const YAML::Node& scalar);

}  // namespace infra::core
