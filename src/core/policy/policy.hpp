#pragma once
// The policy plane's model: policies of rules, what a rule matches, and the
// decision that merges every matching rule most restrictively (CLI.md).

#include "core/result.hpp"
#include "core/task.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace infra::core::policy {

using nlohmann::json;

/// Where something was written: file, 1-based line and column.
struct Location {
    std::string file;
    int line = 0;
    int column = 0;
    /// "file:line:column".
    std::string str() const;
};

/// The four levels of CLI.md; agent, repository and resource policies may
/// name what they apply to, which adds a match on the task.
enum class Level { organization, agent, repository, resource };
std::string_view to_string(Level l);

/// A test on one value of the task. Built once when policies are loaded.
struct Matcher {
    enum class Kind { literal, glob, regex, exists, negate, any_of };
    Kind kind = Kind::literal;
    json value;        ///< literal: what to compare with
    std::string text;  ///< literal strings and globs
    std::shared_ptr<const std::regex> re;
    bool flag = false;              ///< exists: true or false
    std::vector<Matcher> children;  ///< negate (one) and any_of
    /// True when v (nullptr for a missing field) satisfies the matcher.
    bool test(const json* v) const;
};

/// One key of a match: a dotted path into the task and its matcher.
struct Predicate {
    std::string path;
    int field = -1;  ///< index into the engine's field table
    Matcher matcher;
    Location where;
};

/// All predicates must hold, and one alternative of each `any` group.
struct Match {
    std::vector<Predicate> all;
    std::vector<std::vector<Match>> any;
};

/// Limits on what an agent may do. Absent fields do not constrain.
struct Constraints {
    std::optional<long long> max_iterations;
    std::optional<long long> timeout_ms;
    std::optional<std::vector<std::string>> allowed_tools;
    std::vector<std::string> denied_tools;
    /// Globs of the files a change may touch (default: Terraform files of the task's root).
    std::optional<std::vector<std::string>> allowed_paths;
    std::optional<bool> requires_pr;
    std::optional<bool> requires_validation;
    std::optional<bool> allow_unsandboxed;
};

enum class Effect { allow, deny };

/// One rule of a policy.
struct Rule {
    std::string name;  ///< "<policy>/<rule>": what matchedRules shows
    std::string description;
    Level level = Level::organization;
    Effect effect = Effect::allow;
    std::optional<int> tier;  ///< the most autonomy the rule grants; none: it only constrains
    Constraints constraints;
    std::vector<std::string> required_approvals;
    std::string reason;
    std::optional<Priority> priority;       ///< raises the task's priority
    std::vector<std::string> compliance;    ///< framework controls, e.g. "SOC2 CC6.1"
    std::optional<std::string> drift_mode;  ///< drift: {mode: codify | revert | report}
    Match match;
    Location where;
};

/// A policy file's content.
struct Policy {
    std::string name;
    Level level = Level::organization;
    std::string description;
    std::vector<std::string> conventions;  ///< repository conventions for an agent's prompt
    Match scope;                           ///< what metadata's agent/repository/resource select
    std::vector<Rule> rules;
    std::string canonical;  ///< the document as compact JSON with sorted keys, for the digest
    Location where;
};

/// What an agent may do for one task.
struct Decision {
    bool allowed = false;
    int tier = 0;
    std::string reason;
    std::vector<std::string> required_approvals;
    long long max_iterations = 0;
    long long timeout_ms = 0;
    std::optional<std::vector<std::string>> allowed_tools;
    std::vector<std::string> denied_tools;
    std::optional<std::vector<std::string>> allowed_paths;
    bool requires_pr = false;
    bool requires_validation = false;
    bool allow_unsandboxed = false;
    /// constraints.allowDeletes: validation lets the plan delete or replace.
    bool allow_deletes = false;
    /// constraints.planScope: globs of addresses the plan may change beside the task's own.
    std::vector<std::string> plan_scope;
    std::vector<const Rule*> matched;
    /// The matched rules' names when the decision was read back from JSON,
    /// where the rules themselves are not at hand; empty otherwise.
    std::vector<std::string> matched_rules;
    std::optional<Priority> priority;
    std::vector<std::string> compliance;
    /// What a drift task does: codify, revert or report; unset: codify.
    std::optional<std::string> drift_mode;
    std::string policy_digest;
    /// For --explain: field name -> rules that set it.
    std::vector<std::pair<std::string, std::vector<std::string>>> explanation;

    /// Allowed, but waits for human approval.
    bool pending() const { return allowed && !required_approvals.empty(); }
    /// The names of the matched rules (what matchedRules shows).
    std::vector<std::string> rule_names() const;
};

/// The decision as CLI.md's PolicyDecision JSON; with explain, an
/// "explanation" object says which rules set each field.
json to_json(const Decision& d, bool explain = false);

/// Reads a PolicyDecision back (from a task's "decision").
Result<Decision> decision_from_json(const json& j);

/// "observe", "recommend", "draft PR", "sandbox execute", "production with approval gates".
std::string_view tier_name(int tier);

/// The least tier a task needs: remediation 2, pr-review 1, drift and
/// incident triage 0, chat 0, or 2 when it asks for a change.
int minimum_tier(const AgentTask& task);
/// minimum_tier() of a task given as JSON.
int minimum_tier(const json& task);

/// Hard ceilings: rules can lower them, never raise them, so that adding a
/// rule can never grant more. They apply when no rule sets a limit.
constexpr long long k_default_max_iterations = 50;
constexpr long long k_default_timeout_ms = 3600000;

}  // namespace infra::core::policy
