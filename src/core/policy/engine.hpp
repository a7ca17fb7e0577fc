#pragma once
// The policy engine: policies compiled once (globs and regexes built, an
// index on the values and glob starts rules require), then decisions
// without allocation on the matching path.

#include "core/policy/loader.hpp"
#include "core/policy/policy.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace infra::core::policy {

class Engine {
public:
    /// Compiles a loaded policy set; fails on the set's first error.
    static Result<std::unique_ptr<Engine>> compile(PolicySet set);

    /// Loads and compiles every policy below dirs (overlays in order),
    /// through the compiled-once cache in cache_dir when one is given.
    static Result<std::unique_ptr<Engine>> load(const std::vector<std::filesystem::path>& dirs,
                                                const std::filesystem::path& cache_dir = {});

    /// Decides for a task given as its JSON (CLI.md's shape). out is reused
    /// between calls so that repeated decisions do not allocate on the
    /// matching path. With explain, out.explanation says which rules set
    /// each field.
    void decide(const json& task, Decision& out, bool explain = false) const;

    /// decide() into a fresh Decision.
    Decision decide(const json& task, bool explain = false) const;

    /// The rules that match a task, whatever their effect (for the digest).
    std::vector<const Rule*> matching(const json& task) const;

    /// True when a policy's scope (metadata agent, repository, resource)
    /// selects the task.
    bool applies(const Policy& p, const json& task) const;

    /// sha256:<hex> over the canonical policy set: independent of file
    /// names, order, comments and formatting.
    const std::string& digest() const { return m_digest; }

    const std::vector<Policy>& policies() const { return m_set.policies; }
    const PolicySet& set() const { return m_set; }

    /// Resolves the task's fields once per decision (policy/resolver.hpp).
    struct Resolver;

private:
    friend struct Resolver;
    Engine() = default;
    bool matches(const Match& m, Resolver& r) const;
    const json* resolve(int index, const json& task) const;
    void candidates(Resolver& r, std::vector<const Rule*>& out) const;
    void build_index();

    PolicySet m_set;
    std::vector<const Rule*> m_rules;
    std::vector<std::vector<std::string>> m_fields;  // field index -> path segments
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    // Rules filed by what one or two of their predicates require, an exact
    // value or the literal start of a glob, for the fields given
    // (policy/index.cpp). A decision looks up the task's own values and
    // their starts, and tests only the rules it finds.
    struct Index {
        std::vector<int> fields;
        std::vector<bool> exact;                               // per field: some key is an exact value
        std::vector<std::vector<std::size_t>> prefix_lengths;  // per field: lengths of glob starts, ascending
        std::unordered_map<std::string, std::vector<std::uint32_t>, StringHash, std::equal_to<>>
            rules;  // bucket key -> rule numbers
    };
    std::vector<Index> m_index;
    std::vector<std::uint32_t> m_unindexed;  // rules no index can file: always tested
    std::string m_digest;
};

}  // namespace infra::core::policy
