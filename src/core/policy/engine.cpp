#include "core/policy/engine.hpp"
#include "core/policy/resolver.hpp"

#include "core/crypto.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace infra::core::policy {
namespace {

// A field value as a string view when it is a string.
bool string_of(const json* v, std::string_view& out)
{
    if (!v || !v->is_string()) return false;
    const auto& s = v->get_ref<const std::string&>();
    out = s;
    return true;
}

bool test_scalar(const Matcher& m, const json& v)
{
    switch (m.kind) {
    case Matcher::Kind::literal:
        if (m.value.is_string()) return v.is_string() && v.get_ref<const std::string&>() == m.text;
        return v == m.value;
    case Matcher::Kind::glob:
        return v.is_string() && text::glob_match(m.text, v.get_ref<const std::string&>());
    case Matcher::Kind::regex:
        return v.is_string() && m.re && std::regex_search(v.get_ref<const std::string&>(), *m.re);
    default: return false;
    }
}

// The literal strings a matcher requires, when it is an equality or a list
// of equalities (what the index can use).
bool literal_values(const Matcher& m, std::vector<std::string>& out)
{
    if (m.kind == Matcher::Kind::literal && m.value.is_string()) {
        out.push_back(m.text);
        return true;
    }
    if (m.kind == Matcher::Kind::any_of) {
        for (const auto& c : m.children)
            if (!(c.kind == Matcher::Kind::literal && c.value.is_string())) return false;
        for (const auto& c : m.children) out.push_back(c.text);
        return !out.empty();
    }
    return false;
}

void assign_fields(Match& m, std::map<std::string, int>& ids, std::vector<std::vector<std::string>>& fields)
{
    for (auto& p : m.all) {
        auto [it, added] = ids.emplace(p.path, static_cast<int>(fields.size()));
        if (added) fields.push_back(text::split(p.path, '.'));
        p.field = it->second;
    }
    for (auto& group : m.any)
        for (auto& alt : group) assign_fields(alt, ids, fields);
}

}  // namespace

bool Matcher::test(const json* v) const
{
    switch (kind) {
    case Kind::exists: return (v != nullptr && !v->is_null()) == flag;
    case Kind::negate: return !children.front().test(v);
    case Kind::any_of:
        for (const auto& c : children)
            if (c.test(v)) return true;
        return false;
    default:
        if (!v) return kind == Kind::literal && value.is_null();
        // A list in the task matches when one of its items does.
        if (v->is_array() && !(kind == Kind::literal && value.is_array())) {
            for (const auto& item : *v)
                if (test_scalar(*this, item)) return true;
            return false;
        }
        return test_scalar(*this, *v);
    }
}

Result<std::unique_ptr<Engine>> Engine::compile(PolicySet set)
{
    if (auto st = set.status(); !st) return st.error();
    std::unique_ptr<Engine> e(new Engine());
    e->m_set = std::move(set);
    std::map<std::string, int> ids;
    for (auto& p : e->m_set.policies) {
        assign_fields(p.scope, ids, e->m_fields);
        for (auto& r : p.rules) {
            assign_fields(r.match, ids, e->m_fields);
            e->m_rules.push_back(&r);
        }
    }
    // How many distinct literal values each field has across all rules: a
    // field with many values splits the rules into small buckets.
    std::map<int, std::set<std::string>> distinct;
    for (const Rule* r : e->m_rules)
        for (const auto& p : r->match.all) {
            std::vector<std::string> values;
            if (literal_values(p.matcher, values)) distinct[p.field].insert(values.begin(), values.end());
        }
    for (const Rule* r : e->m_rules) {
        // The rule's two most selective equality predicates.
        std::vector<std::pair<std::size_t, const Predicate*>> keyed;
        for (const auto& p : r->match.all) {
            std::vector<std::string> values;
            if (literal_values(p.matcher, values)) keyed.emplace_back(distinct[p.field].size(), &p);
        }
        if (keyed.empty()) {
            e->m_unindexed.push_back(r);
            continue;
        }
        std::stable_sort(keyed.begin(), keyed.end(), [](auto& a, auto& b) { return a.first > b.first; });
        if (keyed.size() > 2) keyed.resize(2);
        if (keyed.size() == 2 && keyed[0].second->field > keyed[1].second->field) std::swap(keyed[0], keyed[1]);
        std::vector<std::vector<std::string>> values(keyed.size());
        for (std::size_t k = 0; k < keyed.size(); ++k) literal_values(keyed[k].second->matcher, values[k]);
        // A pair of long lists would multiply into many keys: index one field then.
        if (keyed.size() == 2 && values[0].size() * values[1].size() > 64) {
            std::size_t keep = values[0].size() <= values[1].size() ? 0 : 1;
            keyed = {keyed[keep]};
            values = {values[keep]};
        }
        std::vector<int> fields;
        for (const auto& k : keyed) fields.push_back(k.second->field);
        auto idx = std::find_if(e->m_index.begin(), e->m_index.end(), [&](const Index& x) { return x.fields == fields; });
        if (idx == e->m_index.end()) {
            e->m_index.push_back({fields, {}});
            idx = e->m_index.end() - 1;
        }
        if (values.size() == 1) {
            for (const auto& v : values[0]) idx->by_value[v].push_back(r);
        } else {
            for (const auto& a : values[0])
                for (const auto& b : values[1]) idx->by_value[a + '\x1f' + b].push_back(r);
        }
    }
    // The digest covers what decides, not how it is written down.
    std::vector<std::pair<std::string, std::string>> canon;
    for (const auto& p : e->m_set.policies) canon.emplace_back(p.name, p.canonical);
    std::sort(canon.begin(), canon.end());
    std::string all;
    for (const auto& [name, doc] : canon) all += doc + "\n";
    e->m_digest = "sha256:" + crypto::sha256_hex(all);
    return e;
}

Result<std::unique_ptr<Engine>> Engine::load(const std::vector<std::filesystem::path>& dirs,
                                             const std::filesystem::path& cache_dir)
{
    return compile(policy::load(dirs, cache_dir));
}

Scratch& thread_scratch()
{
    thread_local Scratch s;
    return s;
}

const json* Engine::resolve(int index, const json& task) const
{
    const json* cur = &task;
    for (const auto& seg : m_fields[static_cast<std::size_t>(index)]) {
        if (cur->is_object()) {
            auto it = cur->find(seg);
            if (it == cur->end()) return nullptr;
            cur = &*it;
        } else if (cur->is_array() && !seg.empty() && std::isdigit(static_cast<unsigned char>(seg[0]))) {
            std::size_t i = std::strtoul(seg.c_str(), nullptr, 10);
            if (i >= cur->size()) return nullptr;
            cur = &(*cur)[i];
        } else {
            return nullptr;
        }
    }
    return cur;
}

bool Engine::matches(const Match& m, Resolver& r) const
{
    for (const auto& p : m.all)
        if (!p.matcher.test(r.get(p.field))) return false;
    for (const auto& group : m.any) {
        bool one = false;
        for (const auto& alt : group)
            if (matches(alt, r)) {
                one = true;
                break;
            }
        if (!one) return false;
    }
    return true;
}

void Engine::candidates(Resolver& r, std::vector<const Rule*>& out) const
{
    out.assign(m_unindexed.begin(), m_unindexed.end());
    std::string& key = r.s.key;
    for (const auto& idx : m_index) {
        std::string_view v;
        if (idx.fields.size() == 1) {
            if (!string_of(r.get(idx.fields[0]), v)) continue;
        } else {
            std::string_view a, b;
            if (!string_of(r.get(idx.fields[0]), a) || !string_of(r.get(idx.fields[1]), b)) continue;
            key.assign(a);
            key.push_back('\x1f');
            key.append(b);
            v = key;
        }
        auto it = idx.by_value.find(v);
        if (it != idx.by_value.end()) out.insert(out.end(), it->second.begin(), it->second.end());
    }
}

bool Engine::applies(const Policy& p, const json& task) const
{
    Resolver r(*this, task, m_fields.size());
    return matches(p.scope, r);
}

std::vector<const Rule*> Engine::matching(const json& task) const
{
    Resolver res(*this, task, m_fields.size());
    std::vector<const Rule*> cand, out;
    candidates(res, cand);
    for (const Rule* r : cand)
        if (matches(r->match, res)) out.push_back(r);
    std::sort(out.begin(), out.end(), [](const Rule* a, const Rule* b) { return a->name < b->name; });
    return out;
}

Decision Engine::decide(const json& task, bool explain) const
{
    Decision d;
    decide(task, d, explain);
    return d;
}

}  // namespace infra::core::policy
