// Merging the matching rules into a decision, most restrictively and
// independently of rule order: deny wins; otherwise the lowest tier, the
// smallest limits, the intersection of allowed tools, the union of denied
// tools and approvals, and any rule's requirement.
#include "core/json_access.hpp"
#include "core/policy/engine.hpp"
#include "core/policy/resolver.hpp"
#include "core/text.hpp"

#include <algorithm>

namespace infra::core::policy {
namespace {

template <class T>
void add_unique(std::vector<T>& v, const T& x)
{
    if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

void explain(Decision& d, const std::string& field, const std::string& rule)
{
    for (auto& [f, rules] : d.explanation)
        if (f == field) {
            add_unique(rules, rule);
            return;
        }
    d.explanation.push_back({field, {rule}});
}

/// How much a drift mode does: report least, revert most.
int drift_rank(const std::string& mode)
{
    return mode == "report" ? 0 : mode == "codify" ? 1 : 2;
}

/// Keeps in `into` only what `with` has too; the first list given is taken whole.
void intersect(std::optional<std::vector<std::string>>& into, const std::vector<std::string>& with)
{
    if (!into) {
        into = with;
        return;
    }
    std::vector<std::string> both;
    for (const auto& x : *into)
        if (std::find(with.begin(), with.end(), x) != with.end()) both.push_back(x);
    into = std::move(both);
}

/// A decision with nothing granted and the default limits.
void reset(Decision& d, const std::string& digest)
{
    d.allowed = false;
    d.tier = 0;
    d.reason.clear();
    d.required_approvals.clear();
    d.max_iterations = k_default_max_iterations;
    d.timeout_ms = k_default_timeout_ms;
    d.allowed_tools.reset();
    d.allowed_paths.reset();
    d.denied_tools.clear();
    d.requires_pr = d.requires_validation = d.allow_unsandboxed = false;
    d.matched.clear();
    d.priority.reset();
    d.compliance.clear();
    d.drift_mode.reset();
    d.explanation.clear();
    d.policy_digest = digest;
}

/// Merges one matching rule's limits into the decision, most restrictively.
void merge(const Rule& r, Decision& d, bool want_explain)
{
    const auto& c = r.constraints;
    if (r.tier && *r.tier == d.tier && want_explain) explain(d, "tier", r.name);
    if (c.max_iterations && *c.max_iterations < d.max_iterations) d.max_iterations = *c.max_iterations;
    if (c.timeout_ms && *c.timeout_ms < d.timeout_ms) d.timeout_ms = *c.timeout_ms;
    if (c.allowed_tools) {
        intersect(d.allowed_tools, *c.allowed_tools);
        if (want_explain) explain(d, "allowedTools", r.name);
    }
    for (const auto& t : c.denied_tools) add_unique(d.denied_tools, t);
    if (!c.denied_tools.empty() && want_explain) explain(d, "deniedTools", r.name);
    // Paths merge like tools: only the globs every rule that names paths names.
    if (c.allowed_paths) {
        intersect(d.allowed_paths, *c.allowed_paths);
        if (want_explain) explain(d, "allowedPaths", r.name);
    }
    // report holds over codify, codify over revert: the mode that does least.
    if (r.drift_mode && (!d.drift_mode || drift_rank(*r.drift_mode) < drift_rank(*d.drift_mode)))
        d.drift_mode = r.drift_mode;
    if (r.drift_mode && want_explain) explain(d, "drift", r.name);
    for (const auto& a : r.required_approvals) add_unique(d.required_approvals, a);
    if (!r.required_approvals.empty() && want_explain) explain(d, "requiredApprovals", r.name);
    if (c.requires_pr.value_or(false)) {
        d.requires_pr = true;
        if (want_explain) explain(d, "requiresPR", r.name);
    }
    if (c.requires_validation.value_or(false)) {
        d.requires_validation = true;
        if (want_explain) explain(d, "requiresValidation", r.name);
    }
    // Running unsandboxed is a relaxation: every rule that speaks of it must allow it (settle()).
    if (c.allow_unsandboxed) d.allow_unsandboxed = *c.allow_unsandboxed;
}

/// After every rule is merged: the relaxations every rule must allow, which
/// rules set the limits, and the lists in order (a tool both allowed and
/// denied is denied).
void settle(Decision& d, bool want_explain)
{
    for (const Rule* r : d.matched)
        if (r->constraints.allow_unsandboxed && !*r->constraints.allow_unsandboxed) d.allow_unsandboxed = false;
    if (want_explain) {
        for (const Rule* r : d.matched) {
            if (r->constraints.max_iterations && *r->constraints.max_iterations == d.max_iterations)
                explain(d, "maxIterations", r->name);
            if (r->constraints.timeout_ms && *r->constraints.timeout_ms == d.timeout_ms)
                explain(d, "timeoutMs", r->name);
        }
    }
    std::sort(d.required_approvals.begin(), d.required_approvals.end());
    std::sort(d.denied_tools.begin(), d.denied_tools.end());
    if (d.allowed_tools) {
        std::sort(d.allowed_tools->begin(), d.allowed_tools->end());
        auto& a = *d.allowed_tools;
        a.erase(std::remove_if(a.begin(), a.end(),
                               [&](const std::string& t) {
                                   return std::find(d.denied_tools.begin(), d.denied_tools.end(), t) !=
                                          d.denied_tools.end();
                               }),
                a.end());
    }
}

}  // namespace

std::string_view tier_name(int tier)
{
    switch (tier) {
    case 0:
        return "observe";
    case 1:
        return "recommend";
    case 2:
        return "draft PR";
    case 3:
        return "sandbox execute";
    case 4:
        return "production with approval gates";
    default:
        return "unknown";
    }
}

int minimum_tier(const json& task)
{
    auto t = task.find("type");
    if (t == task.end() || !t->is_string()) return 0;
    const auto& type = t->get_ref<const std::string&>();
    if (type == "compliance-remediation") return 2;
    if (type == "pr-review") return 1;
    if (type == "chat") {
        auto p = task.find("payload");
        if (p != task.end() && p->is_object()) {
            auto rc = p->find("requestsChange");
            if (rc != p->end() && rc->is_boolean() && rc->get<bool>()) return 2;
        }
    }
    return 0;
}

int minimum_tier(const AgentTask& task)
{
    switch (task.type) {
    case TaskType::compliance_remediation:
        return 2;
    case TaskType::pr_review:
        return 1;
    case TaskType::chat:
        return core::bool_member(task.payload, "requestsChange") ? 2 : 0;
    default:
        return 0;
    }
}

void Engine::decide(const json& task, Decision& d, bool want_explain) const
{
    reset(d, m_digest);

    Resolver res(*this, task);
    std::vector<const Rule*>& cand = res.s.candidates;
    candidates(res, cand);
    for (const Rule* r : cand)
        if (matches(r->match, res)) d.matched.push_back(r);
    std::sort(d.matched.begin(), d.matched.end(), [](const Rule* a, const Rule* b) { return a->name < b->name; });

    // Priority and compliance tags apply whatever the outcome.
    for (const Rule* r : d.matched) {
        if (r->priority && (!d.priority || *r->priority > *d.priority)) d.priority = r->priority;
        for (const auto& c : r->compliance) add_unique(d.compliance, c);
    }
    std::sort(d.compliance.begin(), d.compliance.end());

    // Any matching deny denies.
    const Rule* deny = nullptr;
    for (const Rule* r : d.matched)
        if (r->effect == Effect::deny) {
            deny = r;
            break;
        }
    if (deny) {
        d.reason = "denied by " + deny->name + (deny->reason.empty() ? "" : ": " + deny->reason);
        if (want_explain)
            for (const Rule* r : d.matched)
                if (r->effect == Effect::deny) explain(d, "allowed", r->name);
        return;
    }

    // Default deny: some matching rule must grant a tier.
    const Rule* lowest = nullptr;
    for (const Rule* r : d.matched)
        if (r->tier && (!lowest || *r->tier < *lowest->tier)) lowest = r;
    if (!lowest) {
        d.reason = "no policy rule allows this task (default deny)";
        return;
    }
    d.tier = *lowest->tier;

    for (const Rule* r : d.matched) merge(*r, d, want_explain);
    settle(d, want_explain);

    int need = minimum_tier(task);
    if (d.tier < need) {
        d.reason = core::string_member(task, "type", "this") + " needs tier " + std::to_string(need) + " (" +
                   std::string(tier_name(need)) + ") but " + lowest->name + " grants at most tier " +
                   std::to_string(d.tier) + " (" + std::string(tier_name(d.tier)) + ")";
        return;
    }
    // Tier 4 acts on production: never without a named approver.
    if (d.tier == 4 && d.required_approvals.empty()) d.tier = 3;
    // Nothing reaches infrastructure but through a pull request below tier 4.
    if (d.tier == 2 || d.tier == 3) d.requires_pr = true;

    d.allowed = true;
    d.reason =
        "allowed at tier " + std::to_string(d.tier) + " (" + std::string(tier_name(d.tier)) + ") by " + lowest->name;
    if (!d.required_approvals.empty()) {
        d.reason += "; waits for approval by ";
        for (std::size_t i = 0; i < d.required_approvals.size(); ++i)
            d.reason += (i ? ", " : "") + d.required_approvals[i];
    }
}

std::vector<std::string> Decision::rule_names() const
{
    if (matched.empty()) return matched_rules;
    std::vector<std::string> names;
    for (const Rule* r : matched) names.push_back(r->name);
    return names;
}

json to_json(const Decision& d, bool explain)
{
    json j = json::object();
    j["allowed"] = d.allowed;
    j["tier"] = d.tier;
    j["reason"] = d.reason;
    j["requiredApprovals"] = d.required_approvals;
    json c = json::object();
    c["maxIterations"] = d.max_iterations;
    c["timeoutMs"] = d.timeout_ms;
    if (d.allowed_tools) c["allowedTools"] = *d.allowed_tools;
    c["deniedTools"] = d.denied_tools;
    if (d.allowed_paths) c["allowedPaths"] = *d.allowed_paths;
    c["requiresPR"] = d.requires_pr;
    c["requiresValidation"] = d.requires_validation;
    if (d.allow_unsandboxed) c["allowUnsandboxed"] = true;
    if (d.allow_deletes) c["allowDeletes"] = true;
    if (!d.plan_scope.empty()) c["planScope"] = d.plan_scope;
    j["constraints"] = std::move(c);
    j["matchedRules"] = d.rule_names();
    if (d.priority) j["priority"] = to_string(*d.priority);
    if (!d.compliance.empty()) j["compliance"] = d.compliance;
    if (d.drift_mode) j["drift"] = {{"mode", *d.drift_mode}};
    j["policyDigest"] = d.policy_digest;
    if (explain) {
        json e = json::object();
        for (const auto& [field, rules] : d.explanation) e[field] = rules;
        j["explanation"] = std::move(e);
    }
    return j;
}

namespace {

// Reads member key of obj into out when it is present; a member of another
// type is an error naming the field ("decision.constraints.timeoutMs"),
// never read as a weaker decision.
template <class T>
Status read_member(const json& obj, const char* key, const std::string& field, const char* expected, T& out)
{
    auto it = obj.find(key);
    if (it == obj.end()) return {};
    try {
        out = it->get<T>();
    } catch (const json::exception&) {
        return fail(Errc::invalid_input, "decision." + field + ": expected " + expected + ", got " +
                                             (it->is_null() ? "null" : it->type_name()));
    }
    return {};
}

Status read_optional(const json& obj, const char* key, const std::string& field,
                     std::optional<std::vector<std::string>>& out)
{
    if (!obj.contains(key)) return {};
    out.emplace();
    return read_member(obj, key, field, "an array of strings", *out);
}

}  // namespace

Result<Decision> decision_from_json(const json& j)
{
    if (!j.is_object()) return fail(Errc::invalid_input, "decision: expected an object");
    for (const char* required : {"allowed", "tier"})
        if (!j.contains(required)) return fail(Errc::invalid_input, std::string("decision.") + required + ": missing");
    Decision d;
    d.max_iterations = k_default_max_iterations;
    d.timeout_ms = k_default_timeout_ms;
    json constraints = json::object();
    std::string priority;
    json drift = json::object();
    for (auto st :
         {read_member(j, "allowed", "allowed", "a boolean", d.allowed),
          read_member(j, "tier", "tier", "a number", d.tier), read_member(j, "reason", "reason", "a string", d.reason),
          read_member(j, "requiredApprovals", "requiredApprovals", "an array of strings", d.required_approvals),
          read_member(j, "matchedRules", "matchedRules", "an array of strings", d.matched_rules),
          read_member(j, "priority", "priority", "a string", priority),
          read_member(j, "compliance", "compliance", "an array of strings", d.compliance),
          read_member(j, "drift", "drift", "an object", drift),
          read_member(j, "policyDigest", "policyDigest", "a string", d.policy_digest),
          read_member(j, "constraints", "constraints", "an object", constraints)})
        if (!st) return st.error();
    if (!drift.is_object()) return fail(Errc::invalid_input, "decision.drift: expected an object");
    if (!constraints.is_object()) return fail(Errc::invalid_input, "decision.constraints: expected an object");
    const json& c = constraints;
    for (auto st :
         {read_member(c, "maxIterations", "constraints.maxIterations", "a number", d.max_iterations),
          read_member(c, "timeoutMs", "constraints.timeoutMs", "a number", d.timeout_ms),
          read_optional(c, "allowedTools", "constraints.allowedTools", d.allowed_tools),
          read_member(c, "deniedTools", "constraints.deniedTools", "an array of strings", d.denied_tools),
          read_optional(c, "allowedPaths", "constraints.allowedPaths", d.allowed_paths),
          read_member(c, "requiresPR", "constraints.requiresPR", "a boolean", d.requires_pr),
          read_member(c, "requiresValidation", "constraints.requiresValidation", "a boolean", d.requires_validation),
          read_member(c, "allowUnsandboxed", "constraints.allowUnsandboxed", "a boolean", d.allow_unsandboxed),
          read_member(c, "allowDeletes", "constraints.allowDeletes", "a boolean", d.allow_deletes),
          read_member(c, "planScope", "constraints.planScope", "an array of strings", d.plan_scope)})
        if (!st) return st.error();
    if (j.contains("drift")) {
        if (!drift.contains("mode")) return fail(Errc::invalid_input, "decision.drift.mode: missing");
        d.drift_mode.emplace();
        if (auto st = read_member(drift, "mode", "drift.mode", "a string", *d.drift_mode); !st) return st.error();
    }
    if (j.contains("priority")) {
        d.priority = parse_priority(priority);
        if (!d.priority)
            return fail(Errc::invalid_input,
                        "decision.priority: expected low, normal, high or critical, got " + text::quote(priority));
    }
    return d;
}

}  // namespace infra::core::policy
