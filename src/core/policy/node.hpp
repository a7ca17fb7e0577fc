#pragma once
// A parsed policy document with the line and column of every node, which
// the loader checks and compiles into rules.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace YAML {
class Node;
}

namespace infra::core::policy {

class Node {
public:
    enum class Kind { undefined, null, scalar, map, sequence };

    /// A YAML node; line_offset is added to its (0-based) lines.
    static Node from_yaml(const YAML::Node& n, int line_offset);

    bool IsDefined() const { return m_kind != Kind::undefined; }
    explicit operator bool() const { return IsDefined(); }
    bool IsMap() const { return m_kind == Kind::map; }
    bool IsSequence() const { return m_kind == Kind::sequence; }
    bool IsScalar() const { return m_kind == Kind::scalar; }
    bool IsNull() const { return m_kind == Kind::null; }

    /// The text of a scalar as written (numbers and booleans included).
    const std::string& Scalar() const { return m_typed.is_string() ? m_typed.get_ref<const std::string&>() : m_text; }
    /// Entries of a map or items of a sequence.
    std::size_t size() const { return m_kind == Kind::map ? m_map.size() : m_seq.size(); }
    /// The value of key in a map, or an undefined node.
    const Node& operator[](std::string_view key) const;
    const std::vector<std::pair<Node, Node>>& map_items() const { return m_map; }
    const std::vector<Node>& seq_items() const { return m_seq; }

    /// The value as JSON: quoted scalars are strings, plain ones are typed.
    nlohmann::json value() const;

    /// 1-based position, or 0 when the node came from JSON.
    int line() const { return m_line; }
    int column() const { return m_column; }

private:
    static Node from_yaml(const YAML::Node& n, int line_offset, int depth);

    Kind m_kind = Kind::undefined;
    std::string m_text;  // the written text, kept when the value is not a string
    nlohmann::json m_typed;
    std::vector<std::pair<Node, Node>> m_map;
    std::vector<Node> m_seq;
    int m_line = 0;
    int m_column = 0;
};

}  // namespace infra::core::policy
