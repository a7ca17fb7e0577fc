#include "core/json_write.hpp"

#include <charconv>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace infra::core::json_write {
namespace {

using nlohmann::json;

/// Whether s is printable ASCII that JSON writes as it is: no control
/// character, no '"' or '\\', no byte of a multi-byte character (which the
/// dump checks and may replace). Sixteen bytes at a time where SSE2 is there.
bool plain(std::string_view s)
{
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    std::size_t n = s.size(), i = 0;
#if defined(__SSE2__)
    // As signed bytes, both the control characters and the bytes from 0x80
    // up are less than ' '.
    const __m128i space = _mm_set1_epi8(' ');
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        __m128i hit = _mm_or_si128(_mm_cmplt_epi8(v, space),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
        if (_mm_movemask_epi8(hit)) return false;
    }
#endif
    for (; i < n; ++i)
        if (p[i] < 0x20 || p[i] >= 0x80 || p[i] == '"' || p[i] == '\\') return false;
    return true;
}

template <typename Int>
void append_integer(std::string& out, Int v)
{
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

}  // namespace

void append_string(std::string& out, std::string_view s)
{
    if (plain(s)) {
        out.push_back('"');
        out.append(s);
        out.push_back('"');
    } else {
        out.append(json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace));
    }
}

void append(std::string& out, const json& j)
{
    switch (j.type()) {
    case json::value_t::object: {
        out.push_back('{');
        bool first = true;
        for (const auto& [key, value] : j.get_ref<const json::object_t&>()) {
            if (!first) out.push_back(',');
            first = false;
            append_string(out, key);
            out.push_back(':');
            append(out, value);
        }
        out.push_back('}');
        return;
    }
    case json::value_t::array: {
        out.push_back('[');
        bool first = true;
        for (const auto& v : j.get_ref<const json::array_t&>()) {
            if (!first) out.push_back(',');
            first = false;
            append(out, v);
        }
        out.push_back(']');
        return;
    }
    case json::value_t::string:
        append_string(out, j.get_ref<const std::string&>());
        return;
    case json::value_t::number_integer:
        append_integer(out, j.get<std::int64_t>());
        return;
    case json::value_t::number_unsigned:
        append_integer(out, j.get<std::uint64_t>());
        return;
    case json::value_t::boolean:
        out.append(j.get<bool>() ? "true" : "false");
        return;
    case json::value_t::null:
        out.append("null");
        return;
    default:
        out.append(j.dump(-1, ' ', false, json::error_handler_t::replace));
        return;
    }
}

}  // namespace infra::core::json_write
