#include "core/config.hpp"

#include "core/text.hpp"
#include "core/yaml_docs.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

extern "C" char** environ;

namespace infra::core {
namespace {

nlohmann::json to_json(const YAML::Node& n, int depth)
{
    if (depth > 64) throw YAML::Exception(n.Mark(), "nesting deeper than 64 levels");
    switch (n.Type()) {
    case YAML::NodeType::Map: {
        nlohmann::json o = nlohmann::json::object();
        for (const auto& kv : n) o[kv.first.as<std::string>()] = to_json(kv.second, depth + 1);
        return o;
    }
    case YAML::NodeType::Sequence: {
        nlohmann::json a = nlohmann::json::array();
        for (const auto& e : n) a.push_back(to_json(e, depth + 1));
        return a;
    }
    case YAML::NodeType::Scalar:
        return yaml_scalar(n);
    default:
        return nullptr;
    }
}

void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, std::string>& out)
{
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it)
            flatten(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    } else if (j.is_string()) {
        out[prefix] = j.get<std::string>();
    } else if (!j.is_null()) {
        out[prefix] = j.dump();
    }
}

}  // namespace

Result<nlohmann::json> yaml_to_json(const std::string& text, const std::string& name)
{
    if (auto bad = text::invalid_utf8(text))
        return fail(Errc::invalid_input,
                    "cannot parse '" + name + "': byte " + std::to_string(*bad + 1) + ": not valid UTF-8");
    try {
        YAML::Node root = YAML::Load(text);
        if (!root.IsDefined() || root.IsNull()) return nlohmann::json::object();
        return to_json(root, 0);
    } catch (const YAML::Exception& e) {
        return fail(Errc::invalid_input, "cannot parse '" + name + "': line " + std::to_string(e.mark.line + 1) +
                                             ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
    }
}

Result<Config> Config::load(const std::filesystem::path& file, bool required)
{
    Config c;
    c.m_file = file;
    std::ifstream in(file);
    if (!in) {
        if (required) return fail(Errc::not_found, "cannot read config '" + file.string() + "'");
        return c;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto tree = yaml_to_json(ss.str(), file.string());
    if (!tree) return tree.error();
    if (!tree->is_object())
        return fail(Errc::invalid_input, "'" + file.string() + "': expected a mapping of keys at the top");
    c.m_tree = std::move(*tree);
    flatten(c.m_tree, "", c.m_flat);
    return c;
}

std::string Config::env_name(const std::string& key)
{
    std::string out = "INFRA_AGENT_";
    for (char ch : key)
        out += ch == '.' || ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return out;
}

std::optional<std::string> Config::get(const std::string& key) const
{
    if (const char* v = std::getenv(env_name(key).c_str())) return std::string(v);
    if (auto it = m_flat.find(key); it != m_flat.end()) return it->second;
    auto j = get_json(key);
    if (j.is_array() || j.is_object()) return j.dump();
    return std::nullopt;
}

std::string Config::get_or(const std::string& key, const std::string& fallback) const
{
    auto v = get(key);
    return v ? *v : fallback;
}

std::vector<std::string> Config::get_list(const std::string& key) const
{
    std::vector<std::string> out;
    if (const char* v = std::getenv(env_name(key).c_str())) {
        for (auto& p : text::split(v, ':'))
            if (!p.empty()) out.push_back(p);
        return out;
    }
    auto j = get_json(key);
    if (j.is_array()) {
        for (const auto& e : j)
            if (e.is_string()) out.push_back(e.get<std::string>());
    } else if (j.is_string()) {
        out.push_back(j.get<std::string>());
    }
    return out;
}

nlohmann::json Config::get_json(const std::string& key) const
{
    const nlohmann::json* cur = &m_tree;
    for (const auto& part : text::split(key, '.')) {
        if (!cur->is_object()) return nullptr;
        auto it = cur->find(part);
        if (it == cur->end()) return nullptr;
        cur = &*it;
    }
    return *cur;
}

std::map<std::string, std::pair<std::string, ConfigOrigin>> Config::list() const
{
    std::map<std::string, std::pair<std::string, ConfigOrigin>> out;
    for (const auto& [k, v] : m_flat) out[k] = {v, ConfigOrigin::file};
    for (char** e = environ; *e; ++e) {
        std::string_view kv(*e);
        if (kv.rfind("INFRA_AGENT_", 0) != 0) continue;
        auto eq = kv.find('=');
        std::string name(kv.substr(0, eq));
        if (name == "INFRA_AGENT_HOME" || name == "INFRA_AGENT_CONFIG") continue;
        // Map the variable back to a key of the file when one matches.
        std::string key;
        for (const auto& [k, v] : m_flat)
            if (env_name(k) == name) key = k;
        if (key.empty()) {
            key = text::lower(name.substr(12));
            for (auto& ch : key)
                if (ch == '_') ch = '.';
        }
        out[key] = {std::string(kv.substr(eq + 1)), ConfigOrigin::environment};
    }
    return out;
}

}  // namespace infra::core
