#include "core/policy/cache.hpp"

#include "core/crypto.hpp"
#include "core/policy/loader.hpp"

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unistd.h>

namespace infra::core::policy::cache {
namespace {

namespace fs = std::filesystem;

// An entry: this line, the length and checksum of the body, then the body
// in the machine's byte order (a cache never leaves its machine; on another
// the checksum fails and the entry is rebuilt). A new layout gets a new line.
constexpr std::string_view k_magic = "infra-agent-policy-cache-3\n";
constexpr std::size_t k_header = k_magic.size() + 2 * sizeof(std::uint64_t);
constexpr int k_max_depth = 64;

// A 64-bit checksum of the body. It catches a damaged or cut file; it is
// no defence against someone who can write the cache directory, who could
// as well write a whole valid entry.
std::uint64_t checksum(std::string_view s)
{
    constexpr std::uint64_t k1 = 0x87c37b91114253d5ULL, k2 = 0x4cf5ad432745937fULL;
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ s.size();
    auto mix = [&](std::uint64_t w) { h = std::rotl(h ^ (w * k1), 31) * k2; };
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        mix(w);
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, s.data() + i, s.size() - i);
    mix(tail);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

class Writer {
public:
    void u8(std::uint8_t v) { m_out.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v) { raw(&v, sizeof v); }
    void i64(std::int64_t v) { raw(&v, sizeof v); }
    void str(std::string_view s)
    {
        u32(static_cast<std::uint32_t>(s.size()));
        m_out.append(s);
    }
    void strs(const std::vector<std::string>& v)
    {
        u32(static_cast<std::uint32_t>(v.size()));
        for (const auto& s : v) str(s);
    }
    void raw(const void* p, std::size_t n) { m_out.append(static_cast<const char*>(p), n); }
    const std::string& bytes() const { return m_out; }

private:
    std::string m_out;
};

// Reads what Writer wrote; any read past the end or any impossible value
// marks the whole entry unusable.
class Reader {
public:
    explicit Reader(std::string_view body) : m_in(body) {}
    bool ok() const { return m_ok; }
    bool at_end() const { return m_ok && m_pos == m_in.size(); }
    void fail() { m_ok = false; }

    std::uint8_t u8()
    {
        std::uint8_t v = 0;
        raw(&v, sizeof v);
        return v;
    }
    std::uint32_t u32()
    {
        std::uint32_t v = 0;
        raw(&v, sizeof v);
        return v;
    }
    std::int64_t i64()
    {
        std::int64_t v = 0;
        raw(&v, sizeof v);
        return v;
    }
    std::string_view view()
    {
        std::uint32_t n = u32();
        if (!m_ok || n > m_in.size() - m_pos) {
            fail();
            return {};
        }
        m_pos += n;
        return m_in.substr(m_pos - n, n);
    }
    std::string str() { return std::string(view()); }
    std::vector<std::string> strs()
    {
        std::vector<std::string> v(count());
        for (auto& s : v) s = str();
        return v;
    }
    // A number of items that each take at least one byte.
    std::uint32_t count()
    {
        std::uint32_t n = u32();
        if (n > m_in.size() - m_pos) fail();
        return m_ok ? n : 0;
    }
    // A value that must be below limit (an enum's number of values).
    std::uint8_t below(std::uint8_t limit)
    {
        std::uint8_t v = u8();
        if (v >= limit) fail();
        return m_ok ? v : 0;
    }
    void raw(void* p, std::size_t n)
    {
        if (!m_ok || n > m_in.size() - m_pos) {
            fail();
            return;
        }
        std::memcpy(p, m_in.data() + m_pos, n);
        m_pos += n;
    }

private:
    std::string_view m_in;
    std::size_t m_pos = 0;
    bool m_ok = true;
};

// Optional values: 0 when absent.
void put(Writer& w, const std::optional<long long>& v)
{
    w.u8(v ? 1 : 0);
    if (v) w.i64(*v);
}
void put(Writer& w, const std::optional<bool>& v)
{
    w.u8(!v ? 0 : *v ? 2 : 1);
}
void put(Writer& w, const std::optional<std::vector<std::string>>& v)
{
    w.u8(v ? 1 : 0);
    if (v) w.strs(*v);
}
void get(Reader& r, std::optional<long long>& v)
{
    if (r.below(2)) v = r.i64();
}
void get(Reader& r, std::optional<bool>& v)
{
    if (auto b = r.below(3)) v = b == 2;
}
void get(Reader& r, std::optional<std::vector<std::string>>& v)
{
    if (r.below(2)) v = r.strs();
}

void put(Writer& w, const Location& l)
{
    w.u32(static_cast<std::uint32_t>(l.line));
    w.u32(static_cast<std::uint32_t>(l.column));
}
void get(Reader& r, const std::string& file, Location& l)
{
    l.file = file;
    l.line = static_cast<int>(r.u32());
    l.column = static_cast<int>(r.u32());
}

// A literal's value: the scalars YAML gives, by type; anything else as JSON text.
enum class Value : std::uint8_t { null, boolean, integer, unsigned_integer, real, string, other, count };

void put(Writer& w, const json& v)
{
    switch (v.type()) {
    case json::value_t::null:
        w.u8(static_cast<std::uint8_t>(Value::null));
        break;
    case json::value_t::boolean:
        w.u8(static_cast<std::uint8_t>(Value::boolean));
        w.u8(v.get<bool>() ? 1 : 0);
        break;
    case json::value_t::number_integer:
        w.u8(static_cast<std::uint8_t>(Value::integer));
        w.i64(v.get<std::int64_t>());
        break;
    case json::value_t::number_unsigned:
        w.u8(static_cast<std::uint8_t>(Value::unsigned_integer));
        w.i64(static_cast<std::int64_t>(v.get<std::uint64_t>()));
        break;
    case json::value_t::number_float: {
        w.u8(static_cast<std::uint8_t>(Value::real));
        double d = v.get<double>();
        w.raw(&d, sizeof d);
        break;
    }
    case json::value_t::string:
        w.u8(static_cast<std::uint8_t>(Value::string));
        w.str(v.get_ref<const std::string&>());
        break;
    default:
        w.u8(static_cast<std::uint8_t>(Value::other));
        w.str(v.dump());
        break;
    }
}

json get_value(Reader& r)
{
    switch (static_cast<Value>(r.below(static_cast<std::uint8_t>(Value::count)))) {
    case Value::boolean:
        return r.below(2) == 1;
    case Value::integer:
        return r.i64();
    case Value::unsigned_integer:
        return static_cast<std::uint64_t>(r.i64());
    case Value::real: {
        double d = 0;
        r.raw(&d, sizeof d);
        return d;
    }
    case Value::string:
        return r.str();
    case Value::other: {
        json j = json::parse(r.view(), nullptr, false);
        if (j.is_discarded()) r.fail();
        return j;
    }
    default:
        return nullptr;
    }
}

void put(Writer& w, const Matcher& m)
{
    w.u8(static_cast<std::uint8_t>(m.kind));
    put(w, m.value);
    w.str(m.text);
    w.u8(m.flag ? 1 : 0);
    w.u32(static_cast<std::uint32_t>(m.children.size()));
    for (const auto& c : m.children) put(w, c);
}

void get(Reader& r, Matcher& m, int depth)
{
    if (depth > k_max_depth) return r.fail();
    m.kind = static_cast<Matcher::Kind>(r.below(static_cast<std::uint8_t>(Matcher::Kind::any_of) + 1));
    m.value = get_value(r);
    m.text = r.str();
    m.flag = r.below(2) == 1;
    m.children.resize(r.count());
    for (auto& c : m.children) get(r, c, depth + 1);
    if (r.ok() && m.kind == Matcher::Kind::regex) {
        try {
            m.re = build_regex(m.text);
        } catch (const std::regex_error&) {
            r.fail();
        }
    }
}

void put(Writer& w, const Match& m)
{
    w.u32(static_cast<std::uint32_t>(m.all.size()));
    for (const auto& p : m.all) {
        w.str(p.path);
        put(w, p.matcher);
        put(w, p.where);
    }
    w.u32(static_cast<std::uint32_t>(m.any.size()));
    for (const auto& group : m.any) {
        w.u32(static_cast<std::uint32_t>(group.size()));
        for (const auto& alt : group) put(w, alt);
    }
}

void get(Reader& r, const std::string& file, Match& m, int depth)
{
    if (depth > k_max_depth) return r.fail();
    m.all.resize(r.count());
    for (auto& p : m.all) {
        p.path = r.str();
        get(r, p.matcher, 0);
        get(r, file, p.where);
    }
    m.any.resize(r.count());
    for (auto& group : m.any) {
        group.resize(r.count());
        for (auto& alt : group) get(r, file, alt, depth + 1);
    }
}

void put(Writer& w, const Rule& rule)
{
    w.str(rule.name);
    w.str(rule.description);
    w.u8(static_cast<std::uint8_t>(rule.level));
    w.u8(static_cast<std::uint8_t>(rule.effect));
    put(w, rule.tier ? std::optional<long long>(*rule.tier) : std::nullopt);
    const auto& c = rule.constraints;
    put(w, c.max_iterations);
    put(w, c.timeout_ms);
    put(w, c.allowed_tools);
    w.strs(c.denied_tools);
    put(w, c.allowed_paths);
    put(w, c.requires_pr);
    put(w, c.requires_validation);
    put(w, c.allow_unsandboxed);
    w.strs(rule.required_approvals);
    w.str(rule.reason);
    w.u8(rule.priority ? static_cast<std::uint8_t>(*rule.priority) + 1 : 0);
    w.strs(rule.compliance);
    w.u8(rule.drift_mode ? 1 : 0);
    if (rule.drift_mode) w.str(*rule.drift_mode);
    put(w, rule.match);
    put(w, rule.where);
}

void get(Reader& r, const std::string& file, Rule& rule)
{
    rule.name = r.str();
    rule.description = r.str();
    rule.level = static_cast<Level>(r.below(static_cast<std::uint8_t>(Level::resource) + 1));
    rule.effect = static_cast<Effect>(r.below(static_cast<std::uint8_t>(Effect::deny) + 1));
    std::optional<long long> tier;
    get(r, tier);
    if (tier && (*tier < 0 || *tier > 4)) r.fail();
    if (tier) rule.tier = static_cast<int>(*tier);
    auto& c = rule.constraints;
    get(r, c.max_iterations);
    get(r, c.timeout_ms);
    get(r, c.allowed_tools);
    c.denied_tools = r.strs();
    get(r, c.allowed_paths);
    get(r, c.requires_pr);
    get(r, c.requires_validation);
    get(r, c.allow_unsandboxed);
    rule.required_approvals = r.strs();
    rule.reason = r.str();
    if (auto p = r.below(static_cast<std::uint8_t>(Priority::critical) + 2))
        rule.priority = static_cast<Priority>(p - 1);
    rule.compliance = r.strs();
    if (r.below(2)) rule.drift_mode = r.str();
    get(r, file, rule.match, 0);
    get(r, file, rule.where);
}

void put(Writer& w, const Policy& p)
{
    w.str(p.name);
    w.u8(static_cast<std::uint8_t>(p.level));
    w.str(p.description);
    w.strs(p.conventions);
    put(w, p.scope);
    w.u32(static_cast<std::uint32_t>(p.rules.size()));
    for (const auto& rule : p.rules) put(w, rule);
    w.str(p.canonical);
    put(w, p.where);
}

void get(Reader& r, const std::string& file, Policy& p)
{
    p.name = r.str();
    p.level = static_cast<Level>(r.below(static_cast<std::uint8_t>(Level::resource) + 1));
    p.description = r.str();
    p.conventions = r.strs();
    get(r, file, p.scope, 0);
    p.rules.resize(r.count());
    for (auto& rule : p.rules) get(r, file, rule);
    p.canonical = r.str();
    get(r, file, p.where);
}

std::string read_file(const fs::path& path)
{
    std::string out;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return out;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    std::fclose(f);
    return out;
}

}  // namespace

fs::path entry(const fs::path& dir, std::string_view text)
{
    return dir / (crypto::sha256_hex(text) + ".bin");
}

bool read(const fs::path& path, const std::string& file, std::vector<Policy>& out)
{
    std::string data = read_file(path);
    if (data.size() < k_header || std::string_view(data).substr(0, k_magic.size()) != k_magic) return false;
    std::uint64_t size = 0, sum = 0;
    std::memcpy(&size, data.data() + k_magic.size(), sizeof size);
    std::memcpy(&sum, data.data() + k_magic.size() + sizeof size, sizeof sum);
    std::string_view body = std::string_view(data).substr(k_header);
    if (body.size() != size || checksum(body) != sum) return false;
    return decode(body, file, out);
}

bool decode(std::string_view body, const std::string& file, std::vector<Policy>& out)
{
    Reader r(body);
    // Entries are keyed by content: two files with the same bytes each have
    // their own entry only in name, so the file the positions name must match.
    if (r.view() != file) return false;
    std::vector<Policy> policies(r.count());
    for (auto& p : policies) get(r, file, p);
    if (!r.at_end()) return false;
    out = std::move(policies);
    return true;
}

void write(const fs::path& path, const std::string& file, const std::vector<Policy>& policies)
{
    Writer body;
    body.str(file);
    body.u32(static_cast<std::uint32_t>(policies.size()));
    for (const auto& p : policies) put(body, p);
    std::uint64_t size = body.bytes().size(), sum = checksum(body.bytes());
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return;
    fs::path tmp = path;
    tmp += ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary);
        out.write(k_magic.data(), static_cast<std::streamsize>(k_magic.size()));
        out.write(reinterpret_cast<const char*>(&size), sizeof size);
        out.write(reinterpret_cast<const char*>(&sum), sizeof sum);
        out.write(body.bytes().data(), static_cast<std::streamsize>(body.bytes().size()));
        if (!out) {
            out.close();
            fs::remove(tmp, ec);
            return;
        }
    }
    fs::rename(tmp, path, ec);
    if (ec) fs::remove(tmp, ec);
}

}  // namespace infra::core::policy::cache
