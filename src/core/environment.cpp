#include "core/environment.hpp"

#include "core/text.hpp"

#include <cstdio>

namespace infra::core {
namespace {

constexpr std::size_t k_max_environment = 128;

/// The code point that starts at s[i] (UTF-8), and how many bytes it takes;
/// 0xFFFD for a byte that starts no valid sequence.
std::pair<char32_t, std::size_t> code_point(std::string_view s, std::size_t i)
{
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
    if (n == 1 || i + n > s.size()) return {0xFFFD, 1};
    char32_t cp = b & (0x3F >> (n - 1));
    for (std::size_t k = 1; k < n; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) return {0xFFFD, 1};
        cp = (cp << 6) | (c & 0x3F);
    }
    return {cp, n};
}

std::string u_plus(char32_t cp)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
    return buf;
}

}  // namespace

Result<std::string> canonical_environment(std::string_view name, const std::string& field)
{
    std::string_view v = text::trim(name);
    std::size_t chars = 0;
    for (std::size_t i = 0; i < v.size();) {
        ++chars;
        auto b = static_cast<unsigned char>(v[i]);
        if (b < 0x80 && b >= 0x20 && b != 0x7f) {
            ++i;
            continue;
        }
        std::string what;
        if (b < 0x80) {
            what = "the control character " + u_plus(b);
        } else {
            auto [cp, n] = code_point(v, i);
            what = cp == 0xFFFD && n == 1
                       ? "a byte that is not UTF-8"
                       : "the non-ASCII character " + u_plus(cp) + " (" + std::string(v.substr(i, n)) + ")";
        }
        return fail(Errc::invalid_input,
                    field + ": environment " + text::quote(v, v.size()) + " has " + what + " at character " +
                        std::to_string(chars) +
                        "; environment names are ASCII, so that a look-alike letter cannot pass for another",
                    "spell the environment in ASCII letters, digits and punctuation, e.g. production");
    }
    if (chars > k_max_environment)
        return fail(Errc::invalid_input,
                    field + ": environment name longer than " + std::to_string(k_max_environment) + " characters");
    return text::lower(v);
}

Status normalize_environment(AgentTask& task)
{
    auto env = canonical_environment(task.context.environment, "context.environment");
    if (!env) return env.error();
    task.context.environment = std::move(*env);
    return {};
}

}  // namespace infra::core
