#include "core/json_slice.hpp"

#include "core/text.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace infra::core::json_slice {
namespace {

// What the scanner stops at outside strings; every other byte is passed over.
enum Class : unsigned char { k_plain, k_quote, k_open, k_close, k_comma, k_minus };

constexpr std::array<unsigned char, 256> k_classes = [] {
    std::array<unsigned char, 256> t{};
    t['"'] = k_quote;
    t['{'] = t['['] = k_open;
    t['}'] = t[']'] = k_close;
    t[','] = k_comma;
    t['-'] = k_minus;
    return t;
}();

// The first byte at or after i that the scanner stops at: inside a string
// '"' or '\\', outside one a byte of any class but k_plain; n when there is
// none. Sixteen bytes at a time where SSE2 is there.
std::size_t next_stop(const unsigned char* p, std::size_t i, std::size_t n, bool in_string)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        __m128i hit = _mm_cmpeq_epi8(v, quote);
        if (in_string) {
            hit = _mm_or_si128(hit, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
        } else {
            // '[' and '{', ']' and '}', ',' and '-' differ in one bit each.
            __m128i upper = _mm_or_si128(v, _mm_set1_epi8(0x20));
            hit = _mm_or_si128(hit, _mm_cmpeq_epi8(upper, _mm_set1_epi8('{')));
            hit = _mm_or_si128(hit, _mm_cmpeq_epi8(upper, _mm_set1_epi8('}')));
            hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(1)), _mm_set1_epi8('-')));
        }
        if (int mask = _mm_movemask_epi8(hit)) return i + static_cast<std::size_t>(__builtin_ctz(mask));
    }
#endif
    if (in_string)
        while (i < n && p[i] != '"' && p[i] != '\\') ++i;
    else
        while (i < n && k_classes[p[i]] == k_plain) ++i;
    return i;
}

// Where the structure of a container is, scanned in pieces as the input
// arrives: strings (and their escapes) passed over, brackets counted
// outside them.
class Scanner {
public:
    /// Scans text from where the last call stopped (text grows between
    /// calls); true once the closing bracket is found at end().
    bool feed(std::string_view text)
    {
        const auto* p = reinterpret_cast<const unsigned char*>(text.data());
        std::size_t n = text.size();
        std::size_t i = m_pos;
        while (i < n) {
            if (m_in_string) {
                i = next_stop(p, i, n, true);
                if (i == n) break;
                if (p[i] == '\\') {
                    if (i + 1 == n) break;  // the escaped byte has not arrived yet
                    i += 2;
                    continue;
                }
                m_in_string = false;
                ++i;
                continue;
            }
            i = next_stop(p, i, n, false);
            if (i == n) break;
            switch (k_classes[p[i]]) {
            case k_quote:
                m_in_string = true;
                break;
            case k_open:
                m_deepest = std::max(m_deepest, ++m_depth);
                break;
            case k_close:
                if (--m_depth == 0) {
                    m_pos = i;
                    return true;
                }
                break;
            case k_comma:
                if (m_depth == 1) m_last_comma = i;
                break;
            case k_minus:
                if (i + 1 == n) {
                    m_pos = i;
                    return false;
                }
                m_negative_zero |= p[i + 1] == '0';
                break;
            default:
                break;
            }
            ++i;
        }
        m_pos = i;
        return false;
    }

    /// Where the closing bracket is, once feed() has found it.
    std::size_t end() const { return m_pos; }
    /// The last comma between members or elements, or -1 (the opening
    /// bracket's place) when there is none.
    std::size_t last_comma() const { return m_last_comma; }
    std::size_t deepest() const { return m_deepest; }
    bool negative_zero() const { return m_negative_zero; }

private:
    std::size_t m_pos = 0;
    std::size_t m_last_comma = static_cast<std::size_t>(-1);
    std::size_t m_depth = 1;
    std::size_t m_deepest = 1;
    bool m_in_string = false;
    bool m_negative_zero = false;
};

// The value of e, as projected by fields when given.
json to_nlohmann(simdjson::dom::element e, const Fields* fields)
{
    using Type = simdjson::dom::element_type;
    if (fields && fields->empty()) fields = nullptr;
    switch (e.type()) {
    case Type::OBJECT: {
        json out = json::object();
        auto& members = out.get_ref<json::object_t&>();
        simdjson::dom::object object = e.get_object().value_unsafe();
        for (auto [key, value] : object) {
            const Fields* kept = fields ? fields->member(key) : nullptr;
            if (fields && !kept) continue;
            members.insert_or_assign(std::string(key), to_nlohmann(value, kept));  // the last of repeated keys wins
        }
        return out;
    }
    case Type::ARRAY: {
        json out = json::array();
        auto& items = out.get_ref<json::array_t&>();
        simdjson::dom::array array = e.get_array().value_unsafe();
        for (auto value : array) items.push_back(to_nlohmann(value, fields));
        return out;
    }
    case Type::STRING:
        return std::string(e.get_string().value_unsafe());
    case Type::INT64: {
        // As nlohmann's parser has it: unsigned unless negative.
        std::int64_t n = e.get_int64().value_unsafe();
        return n < 0 ? json(n) : json(static_cast<std::uint64_t>(n));
    }
    case Type::UINT64:
        return e.get_uint64().value_unsafe();
    case Type::DOUBLE:
        return e.get_double().value_unsafe();
    case Type::BOOL:
        return e.get_bool().value_unsafe();
    case Type::NULL_VALUE:
        break;
    }
    return nullptr;
}

bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

Fields::Fields(const std::vector<std::string>& names)
{
    for (const auto& name : names) {
        Fields* node = this;
        for (const auto& part : text::split(name, '.')) node = &node->m_members[part];
    }
}

const Fields* Fields::member(std::string_view key) const
{
    auto it = m_members.find(key);
    return it == m_members.end() ? nullptr : &it->second;
}

void Fields::prune(json& value) const
{
    if (empty()) return;
    if (value.is_array()) {
        for (auto& item : value) prune(item);
    } else if (value.is_object()) {
        auto& members = value.get_ref<json::object_t&>();
        for (auto it = members.begin(); it != members.end();) {
            const Fields* kept = member(it->first);
            if (!kept) {
                it = members.erase(it);
                continue;
            }
            kept->prune(it->second);
            ++it;
        }
    }
}

struct Parser::Impl {
    simdjson::dom::parser parser;
    std::string text;  // the container parsed last, with simdjson's padding after it

    simdjson::simdjson_result<simdjson::dom::element> load(char open, std::string_view body)
    {
        text.resize(1 + body.size() + simdjson::SIMDJSON_PADDING);
        text[0] = open;
        std::memcpy(text.data() + 1, body.data(), body.size());
        return parser.parse(text.data(), 1 + body.size(), false);
    }
};

Parser::Parser() : m_impl(new Impl) {}

Parser::~Parser() = default;

std::optional<json> Parser::parse(std::string_view text, std::size_t max_depth)
{
    auto& parser = m_impl->parser;
    if ((parser.capacity() < text.size() || parser.max_depth() != max_depth) &&
        parser.allocate(text.size(), max_depth) != simdjson::SUCCESS)
        return std::nullopt;
    auto doc = parser.parse(text.data(), text.size(), true);
    if (doc.error()) return std::nullopt;
    return to_nlohmann(doc.value_unsafe(), nullptr);
}

std::optional<Taken> Parser::take(ByteSource& src, bool is_array, const Want& want)
{
    Scanner scan;
    std::string_view text = src.window();
    while (!scan.feed(text)) {
        if (text.size() >= want.max_bytes) return std::nullopt;
        std::size_t before = text.size();
        text = src.more();
        if (text.size() == before) return std::nullopt;
    }
    std::size_t end = scan.end();
    if (end > want.max_bytes || scan.deepest() > want.max_depth || scan.negative_zero()) return std::nullopt;
    // The lexer reads the last member or element, which must hold a token
    // (a key, a string, a number or a literal): there its record of what it
    // last read starts over, as it would have had it read everything.
    std::size_t tail = scan.last_comma() + 1;
    while (tail < end && is_space(text[tail])) ++tail;
    if (text.substr(tail, end - tail).find_first_not_of(" \t\n\r[]{},:") == std::string_view::npos) return std::nullopt;
    auto doc = m_impl->load(is_array ? '[' : '{', text.substr(0, end + 1));
    if (doc.error()) return std::nullopt;
    Taken out;
    auto root = doc.value_unsafe();
    if (want.value) {
        out.value = to_nlohmann(root, want.fields);
        if (is_array) out.value.get_ref<json::array_t&>().pop_back();
    }
    if (want.keys && !is_array) {
        simdjson::dom::object object = root.get_object().value_unsafe();
        for (auto [key, value] : object) out.keys.emplace_back(key);
        out.keys.pop_back();
    }
    src.advance(tail);
    return out;
}

}  // namespace infra::core::json_slice
