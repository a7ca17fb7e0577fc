// The engine's index: each rule is filed under what one or two of its
// predicates require (an exact value, or the literal start of a glob), and
// a decision tests only the rules filed under the task's own values.
#include "core/policy/engine.hpp"
#include "core/policy/resolver.hpp"

#include <algorithm>
#include <limits>

namespace infra::core::policy {
namespace {

// A key part: its kind ('=' a value, '*' the start of a glob) and its text.
using Part = std::pair<char, std::string_view>;

// What a matcher requires that the index can use: values, and the literal
// starts of globs (every value a glob matches begins with its start).
bool index_keys(const Matcher& m, std::vector<Part>& out)
{
    switch (m.kind) {
    case Matcher::Kind::literal:
        if (!m.value.is_string()) return false;
        out.emplace_back('=', m.text);
        return true;
    case Matcher::Kind::glob: {
        std::string_view start = std::string_view(m.text).substr(0, m.text.find_first_of("*?"));
        if (start.empty()) return false;
        out.emplace_back('*', start);
        return true;
    }
    case Matcher::Kind::any_of:
        for (const auto& c : m.children)
            if (!index_keys(c, out)) return false;
        return !m.children.empty();
    default:
        return false;
    }
}

// One field's part of a bucket's key, its length first so that no two
// keys run together.
void append_part(std::string& key, const Part& part)
{
    key.push_back(part.first);
    auto n = static_cast<std::uint32_t>(part.second.size());
    key.append(reinterpret_cast<const char*>(&n), sizeof n);
    key.append(part.second);
}

// A pair of long lists would multiply into many buckets.
constexpr std::size_t k_max_keys = 64;

// A predicate the index can use: its field and its parts in a shared list.
struct Keyed {
    int field;
    std::size_t begin, end;
    std::size_t size() const { return end - begin; }
};

// Numbers for (field, part), and how many rules require each and each pair:
// a bucket holds about as many rules as require its key.
class KeyStats {
public:
    std::uint32_t id(int field, const Part& part)
    {
        auto [it, added] =
            m_ids.try_emplace({field, part.first, part.second}, static_cast<std::uint32_t>(m_rules.size()));
        if (added) m_rules.push_back(0);
        return it->second;
    }
    void count(std::uint32_t id) { ++m_rules[id]; }
    void count(std::uint32_t a, std::uint32_t b) { ++m_pairs[pair(a, b)]; }
    double rules(std::uint32_t id) const { return m_rules[id]; }
    double rules(std::uint32_t a, std::uint32_t b) const { return m_pairs.at(pair(a, b)); }

private:
    struct Key {
        int field;
        char kind;
        std::string_view text;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const
        {
            return std::hash<std::string_view>{}(k.text) ^
                   (static_cast<std::size_t>(k.field) << 8 | static_cast<unsigned char>(k.kind));
        }
    };
    static std::uint64_t pair(std::uint32_t a, std::uint32_t b)
    {
        return a < b ? std::uint64_t{a} << 32 | b : std::uint64_t{b} << 32 | a;
    }
    std::unordered_map<Key, std::uint32_t, KeyHash> m_ids;
    std::vector<std::uint32_t> m_rules;
    std::unordered_map<std::uint64_t, std::uint32_t> m_pairs;
};

// One indexed field's parts for the task's value: the value itself when
// some key of the field is a value, and its starts as long as the glob
// starts there are. A list in the task matches when one of its items does.
void key_parts(const json* v, bool exact, const std::vector<std::size_t>& prefix_lengths, std::vector<Part>& out)
{
    out.clear();
    if (!v) return;
    auto add = [&](const json& item) {
        if (!item.is_string()) return;
        std::string_view s = item.get_ref<const std::string&>();
        if (exact) out.emplace_back('=', s);
        for (std::size_t len : prefix_lengths) {
            if (len > s.size()) break;
            out.emplace_back('*', s.substr(0, len));
        }
    };
    if (v->is_array()) {
        for (const auto& item : *v) add(item);
    } else {
        add(*v);
    }
}

}  // namespace

void Engine::build_index()
{
    // Every rule's usable predicates, and how many rules require each key
    // and each pair of keys of two predicates of one rule.
    std::vector<Part> parts;
    std::vector<std::uint32_t> ids;  // parallel to parts
    std::vector<Keyed> keyed;
    std::vector<std::size_t> first(m_rules.size() + 1);  // rule -> its range in keyed
    KeyStats stats;
    for (std::size_t n = 0; n < m_rules.size(); ++n) {
        first[n] = keyed.size();
        for (const auto& p : m_rules[n]->match.all) {
            std::size_t begin = parts.size();
            if (!index_keys(p.matcher, parts)) {
                parts.resize(begin);
                continue;
            }
            for (std::size_t i = begin; i < parts.size(); ++i) {
                ids.push_back(stats.id(p.field, parts[i]));
                stats.count(ids.back());
            }
            keyed.push_back({p.field, begin, parts.size()});
        }
        for (std::size_t a = first[n]; a < keyed.size(); ++a)
            for (std::size_t b = a + 1; b < keyed.size(); ++b)
                if (keyed[a].size() * keyed[b].size() <= k_max_keys)
                    for (std::size_t i = keyed[a].begin; i < keyed[a].end; ++i)
                        for (std::size_t j = keyed[b].begin; j < keyed[b].end; ++j) stats.count(ids[i], ids[j]);
    }
    first[m_rules.size()] = keyed.size();

    std::string key;
    for (std::uint32_t n = 0; n < m_rules.size(); ++n) {
        // The predicate, or pair of predicates, whose keys the fewest other
        // rules share: the smallest buckets. A pair only when it is smaller.
        std::vector<const Keyed*> best;
        double least = std::numeric_limits<double>::infinity();
        for (std::size_t a = first[n]; a < first[n + 1]; ++a) {
            const Keyed& ka = keyed[a];
            double sum = 0;
            for (std::size_t i = ka.begin; i < ka.end; ++i) sum += stats.rules(ids[i]);
            if (sum / static_cast<double>(ka.size()) < least) {
                least = sum / static_cast<double>(ka.size());
                best = {&ka};
            }
            for (std::size_t b = a + 1; b < first[n + 1]; ++b) {
                const Keyed& kb = keyed[b];
                if (ka.size() * kb.size() > k_max_keys) continue;
                sum = 0;
                for (std::size_t i = ka.begin; i < ka.end; ++i)
                    for (std::size_t j = kb.begin; j < kb.end; ++j) sum += stats.rules(ids[i], ids[j]);
                if (sum / static_cast<double>(ka.size() * kb.size()) < least) {
                    least = sum / static_cast<double>(ka.size() * kb.size());
                    best = {&ka, &kb};
                }
            }
        }
        if (best.empty()) {
            m_unindexed.push_back(n);
            continue;
        }
        if (best.size() == 2 && best[0]->field > best[1]->field) std::swap(best[0], best[1]);
        std::vector<int> fields;
        for (const Keyed* k : best) fields.push_back(k->field);
        auto idx = std::find_if(m_index.begin(), m_index.end(), [&](const Index& x) { return x.fields == fields; });
        if (idx == m_index.end()) {
            m_index.push_back(
                {fields, std::vector<bool>(fields.size()), std::vector<std::vector<std::size_t>>(fields.size()), {}});
            idx = m_index.end() - 1;
        }
        for (std::size_t f = 0; f < best.size(); ++f)
            for (std::size_t i = best[f]->begin; i < best[f]->end; ++i) {
                if (parts[i].first == '=') {
                    idx->exact[f] = true;
                    continue;
                }
                auto& lengths = idx->prefix_lengths[f];
                auto at = std::lower_bound(lengths.begin(), lengths.end(), parts[i].second.size());
                if (at == lengths.end() || *at != parts[i].second.size()) lengths.insert(at, parts[i].second.size());
            }
        auto file = [&] {
            auto& bucket = idx->rules[key];
            if (bucket.empty() || bucket.back() != n) bucket.push_back(n);
        };
        for (std::size_t i = best[0]->begin; i < best[0]->end; ++i) {
            key.clear();
            append_part(key, parts[i]);
            if (best.size() == 1) {
                file();
                continue;
            }
            std::size_t mark = key.size();
            for (std::size_t j = best[1]->begin; j < best[1]->end; ++j) {
                key.resize(mark);
                append_part(key, parts[j]);
                file();
            }
        }
    }
}

void Engine::candidates(Resolver& r, std::vector<const Rule*>& out) const
{
    out.clear();
    for (std::uint32_t n : m_unindexed) out.push_back(m_rules[n]);
    std::string& key = r.s.key;
    auto& parts = r.s.parts;
    // A rule can be filed under several keys the task has (a list, a value
    // and a glob start): it is a candidate once.
    auto look = [&](const Index& idx) {
        auto it = idx.rules.find(key);
        if (it == idx.rules.end()) return;
        for (std::uint32_t n : it->second)
            if (r.s.seen[n] != r.s.epoch) {
                r.s.seen[n] = r.s.epoch;
                out.push_back(m_rules[n]);
            }
    };
    for (const auto& idx : m_index) {
        for (std::size_t f = 0; f < idx.fields.size(); ++f)
            key_parts(r.get(idx.fields[f]), idx.exact[f], idx.prefix_lengths[f], parts[f]);
        for (const auto& a : parts[0]) {
            key.clear();
            append_part(key, a);
            if (idx.fields.size() == 1) {
                look(idx);
                continue;
            }
            std::size_t mark = key.size();
            for (const auto& b : parts[1]) {
                key.resize(mark);
                append_part(key, b);
                look(idx);
            }
        }
    }
}

}  // namespace infra::core::policy
