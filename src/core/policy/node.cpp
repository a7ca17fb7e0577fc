#include "core/policy/node.hpp"

#include "core/yaml_docs.hpp"

#include <yaml-cpp/yaml.h>

namespace infra::core::policy {
namespace {

constexpr int k_max_depth = 64;

}  // namespace

Node Node::from_yaml(const YAML::Node& n, int line_offset)
{
    return from_yaml(n, line_offset, 0);
}

Node Node::from_yaml(const YAML::Node& n, int line_offset, int depth)
{
    Node out;
    if (!n.IsDefined()) return out;
    auto mark = n.Mark();
    if (depth > k_max_depth) throw YAML::Exception(mark, "nesting deeper than 64 levels");
    out.m_line = mark.line + 1 + line_offset;
    out.m_column = mark.column + 1;
    switch (n.Type()) {
    case YAML::NodeType::Null:
        out.m_kind = Kind::null;
        out.m_typed = nullptr;
        break;
    case YAML::NodeType::Scalar:
        out.m_kind = Kind::scalar;
        out.m_typed = yaml_scalar(n);
        if (!out.m_typed.is_string()) out.m_text = n.Scalar();
        break;
    case YAML::NodeType::Map:
        out.m_kind = Kind::map;
        for (const auto& kv : n)
            out.m_map.emplace_back(from_yaml(kv.first, line_offset, depth + 1),
                                   from_yaml(kv.second, line_offset, depth + 1));
        break;
    case YAML::NodeType::Sequence:
        out.m_kind = Kind::sequence;
        for (const auto& e : n) out.m_seq.push_back(from_yaml(e, line_offset, depth + 1));
        break;
    default:
        break;
    }
    return out;
}

const Node& Node::operator[](std::string_view key) const
{
    static const Node k_undefined;
    for (const auto& [k, v] : m_map)
        if (k.m_kind == Kind::scalar && k.Scalar() == key) return v;
    return k_undefined;
}

nlohmann::json Node::value() const
{
    switch (m_kind) {
    case Kind::map: {
        nlohmann::json o = nlohmann::json::object();
        for (const auto& [k, v] : m_map) o[k.Scalar()] = v.value();
        return o;
    }
    case Kind::sequence: {
        nlohmann::json a = nlohmann::json::array();
        for (const auto& e : m_seq) a.push_back(e.value());
        return a;
    }
    case Kind::scalar:
        return m_typed;
    default:
        return nullptr;
    }
}

}  // namespace infra::core::policy
