#include "plugins/agents/builtin/literal.hpp"

#include <cctype>
#include <cmath>

namespace infra::plugins::agents::builtin {
namespace {

using nlohmann::json;

/// A recursive reader of literal expressions; any other syntax fails it.
class Reader {
public:
    explicit Reader(std::string_view s) : m_s(s) {}

    std::optional<json> whole()
    {
        auto v = value();
        skip();
        if (!v || m_i != m_s.size()) return std::nullopt;
        return v;
    }

private:
    void skip()
    {
        while (m_i < m_s.size()) {
            char c = m_s[m_i];
            if (std::isspace(static_cast<unsigned char>(c))) {
                ++m_i;
            } else if (c == '#' || (c == '/' && at(1) == '/')) {
                while (m_i < m_s.size() && m_s[m_i] != '\n') ++m_i;
            } else if (c == '/' && at(1) == '*') {
                auto end = m_s.find("*/", m_i + 2);
                m_i = end == std::string_view::npos ? m_s.size() : end + 2;
            } else {
                return;
            }
        }
    }
    char at(std::size_t ahead) const { return m_i + ahead < m_s.size() ? m_s[m_i + ahead] : '\0'; }

    std::optional<json> value()
    {
        skip();
        char c = at(0);
        if (c == '"') return string();
        if (c == '[') return list();
        if (c == '{') return object();
        if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) return number();
        std::string word = identifier();
        if (word == "true") return json(true);
        if (word == "false") return json(false);
        if (word == "null") return json(nullptr);
        return std::nullopt;
    }

    std::string identifier()
    {
        std::size_t start = m_i;
        while (m_i < m_s.size() &&
               (std::isalnum(static_cast<unsigned char>(m_s[m_i])) || m_s[m_i] == '_' || m_s[m_i] == '-'))
            ++m_i;
        return std::string(m_s.substr(start, m_i - start));
    }

    std::optional<json> string()
    {
        std::string out;
        for (++m_i; m_i < m_s.size(); ++m_i) {
            char c = m_s[m_i];
            if (c == '"') {
                ++m_i;
                return json(out);
            }
            if ((c == '$' || c == '%') && at(1) == c && at(2) == '{') {  // $${ is a literal ${
                out += c;
                out += '{';
                m_i += 2;
                continue;
            }
            if ((c == '$' || c == '%') && at(1) == '{') return std::nullopt;  // interpolation or a template directive
            if (c == '\n') return std::nullopt;
            if (c != '\\') {
                out += c;
                continue;
            }
            char e = at(1);
            ++m_i;
            if (e == 'n') out += '\n';
            else if (e == 't') out += '\t';
            else if (e == 'r') out += '\r';
            else if (e == '"' || e == '\\') out += e;
            else return std::nullopt;  // \u escapes and the like: left to terraform
        }
        return std::nullopt;
    }

    std::optional<json> number()
    {
        std::size_t start = m_i;
        if (at(0) == '-') ++m_i;
        while (m_i < m_s.size() && (std::isdigit(static_cast<unsigned char>(m_s[m_i])) || m_s[m_i] == '.' ||
                                    m_s[m_i] == 'e' || m_s[m_i] == 'E' || m_s[m_i] == '+'))
            ++m_i;
        json n = json::parse(m_s.substr(start, m_i - start), nullptr, false);
        if (!n.is_number()) return std::nullopt;
        return n;
    }

    std::optional<json> list()
    {
        json out = json::array();
        ++m_i;
        for (;;) {
            skip();
            if (at(0) == ']') {
                ++m_i;
                return out;
            }
            auto v = value();
            if (!v) return std::nullopt;
            out.push_back(std::move(*v));
            skip();
            if (at(0) == ',') ++m_i;
            else if (at(0) != ']') return std::nullopt;
        }
    }

    std::optional<json> object()
    {
        json out = json::object();
        ++m_i;
        for (;;) {
            skip();
            if (at(0) == '}') {
                ++m_i;
                return out;
            }
            std::string key;
            if (at(0) == '"') {
                auto k = string();
                if (!k) return std::nullopt;
                key = k->get<std::string>();
            } else {
                key = identifier();
                if (key.empty()) return std::nullopt;
            }
            skip();
            if (at(0) != '=' && at(0) != ':') return std::nullopt;
            ++m_i;
            auto v = value();
            if (!v) return std::nullopt;
            out[key] = std::move(*v);
            skip();
            if (at(0) == ',') ++m_i;
        }
    }

    std::string_view m_s;
    std::size_t m_i = 0;
};

std::string quoted(const std::string& s)
{
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '"' || c == '\\') out += '\\', out += c;
        else if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if ((c == '$' || c == '%') && i + 1 < s.size() && s[i + 1] == '{')
            out += c, out += c;  // $${ is a literal ${
        else out += c;
    }
    return out + "\"";
}

bool identifier_like(const std::string& s)
{
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    return true;
}

}  // namespace

std::optional<json> literal_value(std::string_view expr)
{
    return Reader(expr).whole();
}

std::string hcl_literal(const json& v)
{
    if (v.is_string()) return quoted(v.get<std::string>());
    if (v.is_array()) {
        std::string out = "[";
        for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + hcl_literal(v[i]);
        return out + "]";
    }
    if (v.is_object()) {
        if (v.empty()) return "{}";
        std::string out = "{ ";
        bool first = true;
        for (const auto& [k, x] : v.items()) {
            out += (first ? "" : ", ") + (identifier_like(k) ? k : quoted(k)) + " = " + hcl_literal(x);
            first = false;
        }
        return out + " }";
    }
    return v.dump();
}

bool same_value(const json& a, const json& b)
{
    if (a.is_number() && b.is_number()) return std::fabs(a.get<double>() - b.get<double>()) < 1e-9;
    if (a.is_array() && b.is_array()) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (!same_value(a[i], b[i])) return false;
        return true;
    }
    if (a.is_object() && b.is_object()) {
        if (a.size() != b.size()) return false;
        for (const auto& [k, x] : a.items())
            if (!b.contains(k) || !same_value(x, b[k])) return false;
        return true;
    }
    return a == b;
}

}  // namespace infra::plugins::agents::builtin
