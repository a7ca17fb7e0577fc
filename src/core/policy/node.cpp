#include "core/policy/node.hpp"

#include "core/yaml_docs.hpp"

#include <yaml-cpp/yaml.h>

namespace infra::core::policy {
namespace {

constexpr int k_max_depth = 64;

}  // namespace

Node Node::from_yaml(const YAML::Node& n, int line_offset) { return from_yaml(n, line_offset, 0); }

Node Node::from_yaml(const YAML::Node& n, int line_offset, int depth)
{
    Node out;
    if (!n.IsDefined()) return out;
    auto mark = n.Mark();
    if (depth > k_max_depth) throw YAML::Exception(mark, "nesting deeper than 64 levels");
    out.m_line = mark.line + 1 + line_offset;
    out.m_column = mark.column + 1;
    switch (n.Type()) {
    case YAML::NodeType::Null: out.m_kind = Kind::null; out.m_typed = nullptr; break;
    case YAML::NodeType::Scalar:
        out.m_kind = Kind::scalar;
        out.m_typed = yaml_scalar(n);
        if (!out.m_typed.is_string()) out.m_text = n.Scalar();
        break;
    case YAML::NodeType::Map:
        out.m_kind = Kind::map;
        for (const auto& kv : n) out.m_map.emplace_back(from_yaml(kv.first, line_offset, depth + 1), from_yaml(kv.second, line_offset, depth + 1));
        break;
    case YAML::NodeType::Sequence:
        out.m_kind = Kind::sequence;
        for (const auto& e : n) out.m_seq.push_back(from_yaml(e, line_offset, depth + 1));
        break;
    default: break;
    }
    return out;
}

Node Node::from_json(const nlohmann::json& j)
{
    return from_json(nlohmann::json(j));
}

Node Node::from_json(nlohmann::json&& j)
{
    // Strings are moved out of j: the compiled-policy cache loads thousands
    // of nodes on every cold start.
    Node out;
    switch (j.type()) {
    case nlohmann::json::value_t::null: out.m_kind = Kind::null; out.m_typed = nullptr; break;
    case nlohmann::json::value_t::object: {
        out.m_kind = Kind::map;
        auto& obj = j.get_ref<nlohmann::json::object_t&>();
        out.m_map.reserve(obj.size());
        for (auto& [key, value] : obj) {
            Node k;
            k.m_kind = Kind::scalar;
            k.m_typed = key;
            out.m_map.emplace_back(std::move(k), from_json(std::move(value)));
        }
        break;
    }
    case nlohmann::json::value_t::array: {
        out.m_kind = Kind::sequence;
        auto& arr = j.get_ref<nlohmann::json::array_t&>();
        out.m_seq.reserve(arr.size());
        for (auto& e : arr) out.m_seq.push_back(from_json(std::move(e)));
        break;
    }
    case nlohmann::json::value_t::string:
        out.m_kind = Kind::scalar;
        out.m_typed = std::move(j);
        break;
    default:
        out.m_kind = Kind::scalar;
        out.m_text = j.dump();
        out.m_typed = std::move(j);
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
    case Kind::scalar: return m_typed;
    default: return nullptr;
    }
}

}  // namespace infra::core::policy
