#include "plugins/agents/builtin/coverage.hpp"

#include "core/scanner_rules.hpp"

#include <algorithm>
#include <tuple>

namespace infra::plugins::agents::builtin {
namespace {

// CKV_AWS_9 before CKV_AWS_10; CKV2 after CKV.
std::tuple<std::string, long> order(const std::string& id)
{
    auto cut = id.find_last_of('_');
    try {
        return {id.substr(0, cut), std::stol(id.substr(cut + 1))};
    } catch (...) {
        return {id, 0};
    }
}

std::string joined(const std::vector<std::string>& parts)
{
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
    return out;
}

}  // namespace

std::string coverage_table(const std::vector<Check>& checks)
{
    std::vector<const Check*> sorted;
    for (const auto& c : checks) sorted.push_back(&c);
    std::sort(sorted.begin(), sorted.end(), [](const Check* a, const Check* b) { return order(a->id) < order(b->id); });
    std::string out =
        "| Checkov id | check | resource types | other scanners' ids | written in |\n|---|---|---|---|---|\n";
    for (const Check* c : sorted) {
        std::vector<std::string> aliases;
        if (const auto* r = core::scanner_rules::find(c->id))
            for (auto a : r->aliases) aliases.emplace_back(a);
        std::vector<std::string> types;
        for (const auto& t : c->types) types.push_back("`" + t + "`");
        out += "| " + c->id + " | " + c->title + " | " + joined(types) + " | " + joined(aliases) + " | " +
               (c->family.empty() ? "C++" : "`share/fixes/" + c->family + ".yaml`") + " |\n";
    }
    return out;
}

}  // namespace infra::plugins::agents::builtin
