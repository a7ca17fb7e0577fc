#include "core/policy/engine.hpp"
#include "core/policy/resolver.hpp"

#include "core/crypto.hpp"
#include "core/text.hpp"

#include <algorithm>

namespace infra::core::policy {
namespace {

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
    default:
        return false;
    }
}

void assign_fields(Match& m, std::unordered_map<std::string_view, int>& ids,
                   std::vector<std::vector<std::string>>& fields)
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
    case Kind::exists:
        return (v != nullptr && !v->is_null()) == flag;
    case Kind::negate:
        return !children.front().test(v);
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
    std::unordered_map<std::string_view, int> ids;
    for (auto& p : e->m_set.policies) {
        assign_fields(p.scope, ids, e->m_fields);
        for (auto& r : p.rules) {
            assign_fields(r.match, ids, e->m_fields);
            e->m_rules.push_back(&r);
        }
    }
    e->build_index();
    // The digest covers what decides, not how it is written down.
    std::vector<std::pair<std::string_view, std::string_view>> canon;
    std::size_t size = 0;
    for (const auto& p : e->m_set.policies) {
        canon.emplace_back(p.name, p.canonical);
        size += p.canonical.size() + 1;
    }
    std::sort(canon.begin(), canon.end());
    std::string all;
    all.reserve(size);
    for (const auto& [name, doc] : canon) {
        all += doc;
        all += '\n';
    }
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

bool Engine::applies(const Policy& p, const json& task) const
{
    Resolver r(*this, task);
    return matches(p.scope, r);
}

std::vector<const Rule*> Engine::matching(const json& task) const
{
    Resolver res(*this, task);
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
