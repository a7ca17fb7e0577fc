#include "core/creds/scope.hpp"

#include "core/text.hpp"

namespace infra::core::creds {
namespace {

bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

Unexpected bad(std::string_view text, std::size_t at, const std::string& what)
{
    return fail(Errc::invalid_input,
                "invalid scope " + text::quote(text) + " at column " + std::to_string(at + 1) + ": " + what,
                "scopes read KIND:ACTION[:KEY=VALUE,...], e.g. git:push:repo=acme/infra,branch=infra-agent/*");
}

}  // namespace

std::string Scope::attr(const std::string& key) const
{
    auto it = attrs.find(key);
    return it == attrs.end() ? std::string() : it->second;
}

Result<Scope> parse_scope(std::string_view text)
{
    if (text.size() > 1024) return bad(text, 1024, "a scope is at most 1024 characters");
    Scope s;
    std::size_t i = 0;
    auto name = [&](std::string& out, bool star) -> bool {
        std::size_t start = i;
        if (star && i < text.size() && text[i] == '*') {
            out = "*";
            ++i;
            return true;
        }
        while (i < text.size() && is_name_char(text[i])) ++i;
        out = std::string(text.substr(start, i - start));
        return !out.empty();
    };
    if (!name(s.kind, false)) return bad(text, i, "expected a kind (lower-case letters, digits, - or _)");
    if (i >= text.size() || text[i] != ':') return bad(text, i, "expected ':' after the kind");
    ++i;
    if (!name(s.action, true)) return bad(text, i, "expected an action (lower-case letters, digits, - or _, or *)");
    if (i == text.size()) return s;
    if (text[i] != ':') return bad(text, i, "expected ':' before the attributes");
    ++i;
    while (true) {
        std::string key;
        if (!name(key, false)) return bad(text, i, "expected an attribute name");
        if (i >= text.size() || text[i] != '=') return bad(text, i, "expected '=' after " + key);
        ++i;
        std::size_t start = i;
        while (i < text.size() && text[i] != ',') {
            auto c = static_cast<unsigned char>(text[i]);
            if (c <= ' ' || c == 0x7f || c == '=')
                return bad(text, i, "attribute values cannot hold spaces, '=' or control characters");
            ++i;
        }
        if (i == start) return bad(text, i, "expected a value for " + key);
        if (!s.attrs.emplace(key, std::string(text.substr(start, i - start))).second)
            return bad(text, start, key + " is given twice");
        if (i == text.size()) break;
        ++i;  // ','
    }
    return s;
}

std::string to_string(const Scope& s)
{
    std::string out = s.kind + ":" + s.action;
    char sep = ':';
    for (const auto& [k, v] : s.attrs) {
        out += sep;
        out += k + "=" + v;
        sep = ',';
    }
    return out;
}

bool covers(const Scope& granted, const Scope& wanted)
{
    if (granted.kind != wanted.kind) return false;
    if (granted.action != "*" && granted.action != wanted.action) return false;
    for (const auto& [k, pattern] : granted.attrs) {
        auto it = wanted.attrs.find(k);
        if (it == wanted.attrs.end()) return false;
        // A wanted glob is only covered by the same glob or a catch-all.
        if (it->second.find('*') != std::string::npos && pattern != "*" && pattern != it->second) return false;
        if (!text::glob_match(pattern, it->second)) return false;
    }
    return true;
}

}  // namespace infra::core::creds
