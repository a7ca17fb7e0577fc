#include "core/policy/digest.hpp"
#include "core/policy/engine.hpp"
#include "core/policy/record.hpp"
#include "core/policy/testing.hpp"
#include "core/store/migrations.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>

using namespace infra::core;
using namespace infra::core::policy;
using infra::test::TempDir;
using infra::test::write_file;

namespace {

json task(const std::string& partial)
{
    auto t = complete_test_task(json::parse(partial));
    EXPECT_TRUE(t) << (t ? "" : t.error().message);
    return t ? *t : json();
}

std::unique_ptr<Engine> engine_of(const std::string& yaml, std::vector<LintFinding>* findings = nullptr)
{
    PolicySet set;
    parse_policies(yaml, "p.yaml", set.policies, set.findings);
    if (findings) *findings = set.findings;
    auto e = Engine::compile(std::move(set));
    if (!e) {
        if (!findings) ADD_FAILURE() << e.error().message;
        return nullptr;
    }
    return std::move(*e);
}

std::string make_policy(const std::string& name, const std::string& rules, const std::string& extra_md = "")
{
    return "apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: " + name + extra_md + "}\nrules:\n" + rules;
}

const char* k_remediation =
    R"({"type":"compliance-remediation","context":{"environment":"staging","agentSlug":"builtin"},
  "payload":{"finding":{"canonicalRuleId":"CKV_AWS_18","file":"envs/staging/s3.tf"}, "files":["a.tf","b.yaml"]}})";

// A match tested against every rule, without the engine's index: what the
// index must agree with.
bool scan_match(const Match& m, const json& tk)
{
    for (const auto& pr : m.all) {
        std::string ptr = "/" + pr.path;
        std::replace(ptr.begin(), ptr.end(), '.', '/');
        json::json_pointer at(ptr);
        if (!pr.matcher.test(tk.contains(at) ? &tk.at(at) : nullptr)) return false;
    }
    for (const auto& group : m.any)
        if (std::none_of(group.begin(), group.end(), [&](const Match& alt) { return scan_match(alt, tk); }))
            return false;
    return true;
}

std::vector<const Rule*> full_scan(const Engine& e, const json& tk)
{
    std::vector<const Rule*> out;
    for (const auto& p : e.policies())
        for (const auto& r : p.rules)
            if (scan_match(r.match, tk)) out.push_back(&r);
    std::sort(out.begin(), out.end(), [](auto a, auto b) { return a->name < b->name; });
    return out;
}

}  // namespace

TEST(PolicyMatch, EqualityListsGlobsRegexNotExistsAndAny)
{
    auto e = engine_of(make_policy("m", R"(
  - name: eq
    match: {type: compliance-remediation}
    tier: 2
  - name: list
    match: {context.environment: [production, staging]}
    tier: 2
  - name: glob
    match: {payload.finding.file: "envs/*/s3.tf"}
    tier: 2
  - name: regex
    match: {payload.finding.canonicalRuleId: {regex: "^CKV_AWS_1[0-9]$"}}
    tier: 2
  - name: not
    match: {context.environment: {not: production}}
    tier: 2
  - name: exists
    match: {context.resource: {exists: false}}
    tier: 2
  - name: any
    match:
      any:
        - {context.environment: production}
        - {context.agentSlug: builtin}
    tier: 2
  - name: array-item
    match: {payload.files: "*.yaml"}
    tier: 2
  - name: nomatch-eq
    match: {type: chat}
    tier: 2
  - name: nomatch-not
    match: {context.environment: {not: [staging, dev]}}
    tier: 2
  - name: nomatch-any
    match: {any: [{type: chat}, {context.environment: prod}]}
    tier: 2
  - name: nomatch-missing
    match: {context.resource: "aws_*"}
    tier: 2
)"));
    ASSERT_TRUE(e);
    Decision d = e->decide(task(k_remediation));
    std::vector<std::string> names;
    for (const Rule* r : d.matched) names.push_back(r->name);
    EXPECT_EQ(names, (std::vector<std::string>{"m/any", "m/array-item", "m/eq", "m/exists", "m/glob", "m/list", "m/not",
                                               "m/regex"}));
}

TEST(PolicyDecision, DefaultDeny)
{
    auto e = engine_of(make_policy("p", "  - name: chat\n    match: {type: chat}\n    tier: 1\n"));
    Decision d = e->decide(task(k_remediation));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.reason, "no policy rule allows this task (default deny)");
}

TEST(PolicyDecision, DenyOverridesEveryAllow)
{
    auto e = engine_of(make_policy("p", R"(
  - name: allow
    match: {type: compliance-remediation}
    tier: 3
  - name: deny-staging
    match: {context.environment: staging}
    effect: deny
    reason: staging is frozen
)"));
    Decision d = e->decide(task(k_remediation));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.reason, "denied by p/deny-staging: staging is frozen");
    EXPECT_EQ(d.matched.size(), 2u);
}

TEST(PolicyMerge, LowestTierAndSmallestLimitsWin)
{
    auto e = engine_of(make_policy("p", R"(
  - name: a
    match: {type: compliance-remediation}
    tier: 3
    constraints: {maxIterations: 20, timeoutMs: 1000, allowedTools: [read_file, write_file, search], deniedTools: [shell]}
    requiredApprovals: [sec]
  - name: b
    match: {context.environment: staging}
    tier: 2
    constraints: {maxIterations: 5, timeoutMs: 9000, allowedTools: [read_file, search, finish], requiresValidation: true}
    requiredApprovals: [ops]
)"));
    Decision d = e->decide(task(k_remediation), true);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.tier, 2);
    EXPECT_EQ(d.max_iterations, 5);
    EXPECT_EQ(d.timeout_ms, 1000);
    EXPECT_EQ(*d.allowed_tools, (std::vector<std::string>{"read_file", "search"}));
    EXPECT_EQ(d.denied_tools, (std::vector<std::string>{"shell"}));
    EXPECT_EQ(d.required_approvals, (std::vector<std::string>{"ops", "sec"}));
    EXPECT_TRUE(d.requires_validation);
    EXPECT_TRUE(d.requires_pr);  // tier 2 always goes through a pull request
    EXPECT_TRUE(d.pending());
    json j = to_json(d, true);
    EXPECT_EQ(j["explanation"]["tier"], json::array({"p/b"}));
    EXPECT_EQ(j["explanation"]["maxIterations"], json::array({"p/b"}));
    EXPECT_EQ(j["explanation"]["timeoutMs"], json::array({"p/a"}));
}

TEST(PolicyMerge, DriftModeDoesTheLeastOfItsRules)
{
    auto e = engine_of(make_policy("p", R"(
  - name: all-drift
    match: {type: drift-detection}
    tier: 4
    requiredApprovals: [ops]
  - name: app-reverts
    match: {context.resource: live/app}
    drift: {mode: revert}
  - name: db-codified
    match: {context.resource: live/db*}
    drift: {mode: codify}
  - name: db-audit-reports
    match: {context.resource: live/db-audit}
    drift: {mode: report}
)"));
    auto mode_of = [&](const std::string& root) {
        Decision d = e->decide(task(R"({"type":"drift-detection","context":{"resource":")" + root + R"("}})"), true);
        json j = to_json(d, true);
        EXPECT_EQ(decision_from_json(j)->drift_mode, d.drift_mode);
        return j.contains("drift") ? j["drift"]["mode"].get<std::string>() : "(unset)";
    };
    EXPECT_EQ(mode_of("live/app"), "revert");
    EXPECT_EQ(mode_of("live/db"), "codify");
    EXPECT_EQ(mode_of("live/db-audit"), "report");
    EXPECT_EQ(mode_of("live/web"), "(unset)");  // codify, the default

    std::vector<LintFinding> f;
    engine_of(
        make_policy("p", "  - name: x\n    match: {type: drift-detection}\n    tier: 2\n    drift: {mode: fix}\n"), &f);
    ASSERT_FALSE(f.empty());
    EXPECT_EQ(f[0].str(), "p.yaml:8:12: error: drift: expected {mode: codify}, {mode: revert} or {mode: report}");
}

TEST(PolicyDecision, TaskTypesNeedTheirMinimumTier)
{
    auto e = engine_of(make_policy("p", "  - name: low\n    match: {}\n    tier: 1\n"));
    Decision d = e->decide(task(k_remediation));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.reason, "compliance-remediation needs tier 2 (draft PR) but p/low grants at most tier 1 (recommend)");
    EXPECT_TRUE(e->decide(task(R"({"type":"pr-review"})")).allowed);
    EXPECT_TRUE(e->decide(task(R"({"type":"chat","payload":{"requestsChange":false}})")).allowed);
    EXPECT_FALSE(e->decide(task(R"({"type":"chat","payload":{"requestsChange":true}})")).allowed);
}

TEST(PolicyDecision, ConstraintOnlyRulesGrantNothing)
{
    auto e = engine_of(make_policy("p", "  - name: limits\n    match: {}\n    constraints: {maxIterations: 2}\n"));
    Decision d = e->decide(task(k_remediation));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.matched.size(), 1u);
}

TEST(PolicyLint, ErrorsNameFileLineAndColumn)
{
    std::vector<LintFinding> f;
    auto e = engine_of(make_policy("p", R"(
  - name: bad-regex
    match: {context.resource: {regex: "([a-z"}}
    tier: 2
  - name: typo
    match: {contxt.environment: prod}
    tier: 2
  - name: wrong-type
    match: {type: compliance-remediatoin}
    tier: 9
    requiredApproval: [x]
  - name: prod
    match: {}
    tier: 4
)"),
                       &f);
    EXPECT_EQ(e, nullptr);
    std::vector<std::string> lines;
    for (const auto& x : f) lines.push_back(x.str());
    auto has = [&](const std::string& s) {
        return std::any_of(lines.begin(), lines.end(),
                           [&](const std::string& l) { return l.find(s) != std::string::npos; });
    };
    EXPECT_TRUE(has("p.yaml:7:39: error: 'context.resource': invalid regex '([a-z'"))
        << ::testing::PrintToString(lines);
    EXPECT_TRUE(has("p.yaml:10:13: error: unknown task field 'contxt.environment'"));
    EXPECT_TRUE(has("p.yaml:13:19: error: no task has type 'compliance-remediatoin'"));
    EXPECT_TRUE(has("p.yaml:14:11: error: tier: expected 0, 1, 2, 3 or 4"));
    EXPECT_TRUE(has("error: unknown rule key 'requiredApproval'"));
    EXPECT_TRUE(has("error: tier 4 (production with approval gates) needs requiredApprovals"));
}

TEST(PolicyLint, StructureErrors)
{
    std::vector<LintFinding> f;
    engine_of("apiVersion: v2\nkind: Policy\nmetadata: {name: x}\n", &f);
    ASSERT_FALSE(f.empty());
    EXPECT_EQ(f[0].str(), "p.yaml:1:13: error: apiVersion: expected infra-agent/v1");
    f.clear();
    engine_of("rules: [\n", &f);
    ASSERT_FALSE(f.empty());
    EXPECT_NE(f[0].str().find("p.yaml:2:1: error:"), std::string::npos) << f[0].str();
}

TEST(PolicyDigest, IgnoresFormattingAndOrder)
{
    std::string a = make_policy(
        "p",
        "  - name: x\n    match: {type: chat}\n    tier: 1\n  - name: y\n    match: {type: pr-review}\n    tier: 1\n");
    std::string b = "# a comment\n" + make_policy("p", "  - {name: x, match: {type: chat}, tier: 1}\n  - name: y\n    "
                                                       "tier: 1\n    match:\n      type: pr-review\n");
    std::string c = make_policy(
        "p",
        "  - name: x\n    match: {type: chat}\n    tier: 0\n  - name: y\n    match: {type: pr-review}\n    tier: 1\n");
    EXPECT_EQ(engine_of(a)->digest(), engine_of(b)->digest());
    EXPECT_NE(engine_of(a)->digest(), engine_of(c)->digest());
    EXPECT_EQ(engine_of(a)->digest().rfind("sha256:", 0), 0u);
    // Two policies in either order of files: one digest.
    auto two = engine_of(a + "---\n" + make_policy("q", "  - {name: z, match: {}, tier: 0}\n"));
    auto owt = engine_of(make_policy("q", "  - {name: z, match: {}, tier: 0}\n") + "---\n" + a);
    EXPECT_EQ(two->digest(), owt->digest());
}

// Property: the decision does not depend on the order of rules or files.
TEST(PolicyProperty, MergeIsOrderIndependent)
{
    std::vector<std::string> rules = {
        "  - {name: r1, match: {type: compliance-remediation}, tier: 3, constraints: {maxIterations: 7, allowedTools: "
        "[a, b, c]}}\n",
        "  - {name: r2, match: {context.environment: staging}, tier: 2, constraints: {allowedTools: [b, c, d], "
        "deniedTools: [c]}}\n",
        "  - {name: r3, match: {context.agentSlug: builtin}, constraints: {maxIterations: 4, timeoutMs: 50}, "
        "requiredApprovals: [x]}\n",
        "  - {name: r4, match: {payload.finding.canonicalRuleId: CKV_AWS_18}, tier: 4, requiredApprovals: [y, x]}\n",
        "  - {name: r5, match: {type: chat}, effect: deny, reason: \"no\"}\n",  // quoted: text, not YAML 1.1's false
        "  - {name: r6, match: {context.environment: {not: production}}, constraints: {requiresValidation: true}, "
        "priority: high}\n",
    };
    std::mt19937 rng(42);
    json reference;
    for (int i = 0; i < 50; ++i) {
        std::shuffle(rules.begin(), rules.end(), rng);
        std::string body;
        for (const auto& r : rules) body += r;
        auto e = engine_of(make_policy("p", body));
        json d = to_json(e->decide(task(k_remediation)));
        d.erase("policyDigest");
        if (i == 0) reference = d;
        EXPECT_EQ(d, reference) << body;
    }
    EXPECT_EQ(reference["tier"], 2);
    EXPECT_EQ(reference["constraints"]["allowedTools"], json::array({"b"}));
}

// Property: adding a matching rule never grants more to a task that some
// rule already allowed.
TEST(PolicyProperty, AddingAMatchingRuleIsMonotone)
{
    std::string base = "  - {name: base, match: {type: compliance-remediation}, tier: 3, constraints: {maxIterations: "
                       "6, allowedTools: [a, b, c]}}\n";
    std::vector<std::string> extra = {
        "  - {name: e, match: {}, tier: 4, requiredApprovals: [z], constraints: {maxIterations: 100}}\n",
        "  - {name: e, match: {}, tier: 2}\n",
        "  - {name: e, match: {}, constraints: {allowedTools: [a, b, c, d, e]}}\n",
        "  - {name: e, match: {}, constraints: {allowedTools: [a]}}\n",
        "  - {name: e, match: {}, constraints: {timeoutMs: 999999999}}\n",
        "  - {name: e, match: {}, effect: deny, reason: r}\n",
        "  - {name: e, match: {}, constraints: {requiresPR: false, requiresValidation: false}}\n",
        "  - {name: e, match: {}, requiredApprovals: [q]}\n",
    };
    Decision before = engine_of(make_policy("p", base))->decide(task(k_remediation));
    ASSERT_TRUE(before.allowed);
    for (const auto& x : extra) {
        Decision after = engine_of(make_policy("p", base + x))->decide(task(k_remediation));
        if (!after.allowed) continue;  // denying is never more
        EXPECT_LE(after.tier, before.tier) << x;
        EXPECT_LE(after.max_iterations, before.max_iterations) << x;
        EXPECT_LE(after.timeout_ms, before.timeout_ms) << x;
        for (const auto& t : *after.allowed_tools)
            EXPECT_NE(std::find(before.allowed_tools->begin(), before.allowed_tools->end(), t),
                      before.allowed_tools->end())
                << x;
        for (const auto& a : before.required_approvals)
            EXPECT_NE(std::find(after.required_approvals.begin(), after.required_approvals.end(), a),
                      after.required_approvals.end());
        EXPECT_GE(after.requires_pr, before.requires_pr) << x;
        EXPECT_GE(after.requires_validation, before.requires_validation) << x;
    }
}

// Property: the index finds exactly the rules a full scan finds.
TEST(PolicyProperty, IndexAgreesWithAFullScan)
{
    std::string rules;
    const char* types[] = {"compliance-remediation", "chat", "pr-review", "drift-detection"};
    const char* envs[] = {"staging", "production", "dev", "prod-*"};
    for (int i = 0; i < 200; ++i) {
        rules += "  - {name: r" + std::to_string(i) + ", match: {";
        if (i % 3 == 0) rules += std::string("type: ") + types[i % 4] + ", ";
        if (i % 5 == 0) rules += std::string("context.environment: \"") + envs[i % 4] + "\", ";
        if (i % 7 == 0) rules += "payload.finding.canonicalRuleId: [CKV_AWS_18, CKV_AWS_19], ";
        rules += "context.agentSlug: {exists: true}}, tier: " + std::to_string(i % 5 == 4 ? 3 : i % 4) + "}\n";
    }
    auto e = engine_of(make_policy("p", rules));
    ASSERT_TRUE(e);
    for (const char* t : types)
        for (const char* env : {"staging", "production", "prod-eu", "dev"}) {
            json tk = task(std::string(R"({"type":")") + t + R"(","context":{"environment":")" + env +
                           R"(","agentSlug":"x"},"payload":{"finding":{"canonicalRuleId":"CKV_AWS_19"}}})");
            auto fast = e->matching(tk);
            auto slow = full_scan(*e, tk);
            EXPECT_EQ(fast, slow) << t << " " << env;
        }
}

// Property: on generated rules (values, lists, globs with and without a
// literal start, regexes, not, exists, any, scoped policies) and tasks
// (missing fields, lists, values shorter than a glob's start), the index
// finds exactly the rules a full scan finds, once each.
TEST(PolicyProperty, GeneratedRulesIndexAgreesWithAFullScan)
{
    std::mt19937 rng(24);
    auto pick = [&](std::vector<std::string> v) { return v[rng() % v.size()]; };
    auto predicate = [&]() -> std::string {
        switch (rng() % 9) {
        case 0:
            return "type: " + pick({"compliance-remediation", "chat", "pr-review", "[chat, pr-review]"});
        case 1:
            return "context.environment: " + pick({"staging", "production", "[dev, qa]", "\"prod-*\"", "\"prod*\"",
                                                   "\"*-eu\"", "{regex: \"^prod\"}", "{not: production}"});
        case 2:
            return "context.resource: " + pick({"\"aws_s3_bucket.b1*\"", "\"aws_s3_bucket.b*\"", "\"aws_*\"",
                                                "aws_s3_bucket.b12", "\"aws_s3_bucket.b?2\"", "\"*bucket*\"",
                                                "[aws_s3_bucket.b1, \"aws_iam*\"]", "{exists: false}"});
        case 3:
            return "payload.finding.canonicalRuleId: " +
                   pick({"CKV_AWS_1", "CKV_AWS_2", "[CKV_AWS_1, CKV_AWS_3]", "\"CKV_AWS_1*\""});
        case 4:
            return "payload.tags: " + pick({"pci", "[pci, hipaa]", "\"p*\"", "\"h?paa\"", "{not: pci}"});
        case 5:
            return "payload.count: " + pick({"3", "\"3\"", "[1, 3]"});
        case 6:
            return "context.agentSlug: " + pick({"builtin", "\"llm*\"", "{exists: true}"});
        case 7:
            return "any: [{type: chat}, {payload.tags: pci}, {context.resource: \"aws_iam*\"}]";
        default:
            return "context.repositoryId: " + pick({"acme/infra", "\"acme/*\"", "[acme/infra, acme/web]"});
        }
    };
    std::string yaml;
    int rule = 0;
    for (int p = 0; p < 6; ++p) {
        std::string scope = p == 4   ? ", level: agent, agent: builtin"
                            : p == 5 ? ", level: resource, resource: \"aws_s3*\""
                                     : "";
        std::string rules;
        for (int i = 0; i < 80; ++i) {
            std::string match;
            for (unsigned k = rng() % 4; k > 0; --k) match += (match.empty() ? "" : ", ") + predicate();
            rules += "  - {name: r" + std::to_string(rule++) + ", match: {" + match +
                     "}, tier: " + std::to_string(rng() % 4) + "}\n";
        }
        yaml += (p ? "---\n" : "") + make_policy("p" + std::to_string(p), rules, scope);
    }
    std::vector<LintFinding> findings;
    auto e = engine_of(yaml, &findings);
    ASSERT_TRUE(e);
    std::size_t matched = 0;
    for (int i = 0; i < 400; ++i) {
        json tk = task(R"({"type":"pr-review"})");
        tk["type"] = pick({"compliance-remediation", "chat", "pr-review", "drift-detection"});
        if (rng() % 5) tk["context"]["environment"] = pick({"staging", "production", "prod-eu", "prod", "dev", "qa"});
        if (rng() % 5)
            tk["context"]["resource"] =
                pick({"aws_s3_bucket.b12", "aws_s3_bucket.b1", "aws_s3_bucket.b", "aws_iam_role.x", "aws", "gcp_x"});
        if (rng() % 3) tk["context"]["agentSlug"] = pick({"builtin", "llm-claude", "llm"});
        if (rng() % 3) tk["context"]["repositoryId"] = pick({"acme/infra", "acme/web", "other/x"});
        if (rng() % 2)
            tk["payload"]["finding"]["canonicalRuleId"] = pick({"CKV_AWS_1", "CKV_AWS_2", "CKV_AWS_3", "CKV_AWS_12"});
        switch (rng() % 4) {
        case 0:
            tk["payload"]["tags"] = pick({"pci", "hipaa", "p"});
            break;
        case 1:
            tk["payload"]["tags"] = json::array({pick({"pci", "hipaa", "sox"}), pick({"pci", "hipaa", "phi"})});
            break;
        case 2:
            tk["payload"]["tags"] = json::array({1, "pci"});
            break;
        default:
            break;
        }
        if (rng() % 2) tk["payload"]["count"] = rng() % 2 ? json(3) : json("3");
        auto fast = e->matching(tk);
        EXPECT_EQ(fast, full_scan(*e, tk)) << tk.dump();
        EXPECT_EQ(e->decide(tk).matched, fast) << tk.dump();
        matched += fast.size();
    }
    EXPECT_GT(matched, 400u);  // the rules and tasks meet often enough to mean something
}

TEST(PolicyTests, RunnerReportsFieldByField)
{
    TempDir dir;
    write_file(dir / "p.yaml", make_policy("p", "  - {name: fix, match: {type: compliance-remediation}, tier: 2}\n"));
    write_file(dir / "p_test.yaml", R"(apiVersion: infra-agent/v1
kind: PolicyTest
metadata: {name: p}
tests:
  - name: passes
    task: {type: compliance-remediation}
    expect: {allowed: true, tier: 2, matchedRules: [p/fix]}
  - name: fails
    task: {type: compliance-remediation}
    expect: {allowed: true, tier: 3, constraints: {requiresPR: false}}
)");
    auto set = load({dir.path()});
    ASSERT_EQ(set.test_files.size(), 1u);
    auto files = set.test_files;
    auto e = Engine::compile(std::move(set));
    ASSERT_TRUE(e);
    std::vector<LintFinding> findings;
    auto cases = run_tests(**e, files, findings);
    ASSERT_TRUE(findings.empty());
    ASSERT_EQ(cases.size(), 2u);
    EXPECT_TRUE(cases[0].passed);
    EXPECT_FALSE(cases[1].passed);
    EXPECT_EQ(cases[1].failures, (std::vector<std::string>{"constraints.requiresPR: expected false, got true",
                                                           "tier: expected 3, got 2"}));
}

TEST(PolicyLoad, LaterDirectoriesOverlayByName)
{
    TempDir dir;
    write_file(dir / "bundle/p.yaml", make_policy("p", "  - {name: a, match: {}, tier: 1}\n"));
    write_file(dir / "user/p.yaml", make_policy("p", "  - {name: b, match: {}, tier: 2}\n"));
    write_file(dir / "user/q.yaml", make_policy("q", "  - {name: c, match: {}, tier: 3}\n"));
    auto set = load({dir / "bundle", dir / "user"});
    ASSERT_TRUE(set.ok());
    ASSERT_EQ(set.policies.size(), 2u);
    EXPECT_EQ(set.policies[0].rules[0].name, "p/b");
}

namespace {

// A policy file that uses every part of a rule the cache has to keep.
const char* k_cached_policy = R"(apiVersion: infra-agent/v1
kind: Policy
metadata: {name: whole, level: repository, repository: "acme/*", description: Everything a rule can say.}
conventions: [Modules live in modules/.]
rules:
  - name: allow-staging
    description: Staging may be fixed in pull requests.
    match:
      type: [compliance-remediation, chat]
      context.environment: {regex: "^stag"}
      payload.finding.canonicalRuleId: "CKV_AWS_*"
      payload.count: 3
      payload.ratio: 0.5
      payload.flag: true
      payload.none: null
      any: [{context.agentSlug: builtin}, {context.resource: {exists: false}}]
    tier: 3
    constraints: {maxIterations: 7, timeoutMs: 60000, allowedTools: [read, edit], deniedTools: [shell],
                  allowedPaths: ["envs/**/*.tf"], requiresPR: true, requiresValidation: true, allowUnsandboxed: false}
    requiredApprovals: [platform]
    priority: high
    compliance: [SOC2 CC8.1]
    drift: {mode: report}
  - name: deny-prod
    match: {context.environment: {not: [staging, dev]}}
    effect: deny
    reason: production is changed by people
)";

std::vector<json> decisions_of(const Engine& e)
{
    std::vector<json> out;
    for (
        const char* t :
        {R"({"type":"compliance-remediation","context":{"environment":"staging","agentSlug":"builtin","repositoryId":"acme/infra"},
                             "payload":{"finding":{"canonicalRuleId":"CKV_AWS_18"},"count":3,"ratio":0.5,"flag":true,"none":null}})",
         R"({"type":"chat","context":{"environment":"production","repositoryId":"acme/web"}})",
         R"({"type":"pr-review","context":{"environment":"dev","repositoryId":"other/x"}})"})
        out.push_back(to_json(e.decide(task(t)), true));
    return out;
}

std::filesystem::path only_entry(const std::filesystem::path& dir)
{
    std::vector<std::filesystem::path> entries;
    for (const auto& f : std::filesystem::directory_iterator(dir)) entries.push_back(f.path());
    EXPECT_EQ(entries.size(), 1u);
    return entries.empty() ? std::filesystem::path() : entries.front();
}

}  // namespace

// The cache gives back exactly what the YAML gave: the same decisions,
// explanations, digest and positions.
TEST(PolicyCache, ServesWhatTheFileSays)
{
    TempDir dir;
    write_file(dir / "pol/p.yaml", k_cached_policy);
    auto fresh = load({dir / "pol"});
    ASSERT_TRUE(fresh.findings.empty()) << fresh.findings[0].str();
    auto miss = load({dir / "pol"}, dir / "cache");
    // A hit leaves the entry alone (a rewrite would be a new file, of now).
    auto entry = only_entry(dir / "cache");
    auto long_ago = std::filesystem::file_time_type::clock::now() - std::chrono::hours(24);
    std::filesystem::last_write_time(entry, long_ago);
    auto hit = load({dir / "pol"}, dir / "cache");
    EXPECT_EQ(std::filesystem::last_write_time(entry), long_ago);
    ASSERT_EQ(hit.policies.size(), 1u);
    const Rule& r = hit.policies[0].rules[0];
    const Rule& expected = fresh.policies[0].rules[0];
    EXPECT_EQ(r.where.str(), expected.where.str());
    ASSERT_EQ(r.match.all.size(), expected.match.all.size());
    for (std::size_t i = 0; i < r.match.all.size(); ++i) {
        EXPECT_EQ(r.match.all[i].path, expected.match.all[i].path);
        EXPECT_EQ(r.match.all[i].where.str(), expected.match.all[i].where.str());
        EXPECT_EQ(r.match.all[i].matcher.value, expected.match.all[i].matcher.value);
    }
    EXPECT_EQ(hit.policies[0].conventions, fresh.policies[0].conventions);
    EXPECT_EQ(describe(r), describe(expected));
    auto a = Engine::compile(std::move(fresh)), b = Engine::compile(std::move(hit)),
         c = Engine::compile(std::move(miss));
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ((*b)->digest(), (*a)->digest());
    EXPECT_EQ((*c)->digest(), (*a)->digest());
    auto want = decisions_of(**a);
    EXPECT_EQ(want[0]["tier"], 3);
    EXPECT_EQ(want[1]["allowed"], false);
    EXPECT_EQ(decisions_of(**b), want);
    EXPECT_EQ(decisions_of(**c), want);
}

// An entry that is cut short, damaged or not an entry at all is ignored:
// the file is read again and the entry written anew.
TEST(PolicyCache, DamagedEntriesAreIgnoredAndRewritten)
{
    TempDir dir;
    write_file(dir / "pol/p.yaml", k_cached_policy);
    auto reference = Engine::compile(load({dir / "pol"}, dir / "cache"));
    ASSERT_TRUE(reference);
    auto entry = only_entry(dir / "cache");
    const std::string good = infra::test::read_file(entry);
    std::size_t name = good.find("allow-staging");
    ASSERT_NE(name, std::string::npos);
    std::string renamed = good, tier = good, magic = good;
    renamed[name] = 'b';  // a rule called "bllow-staging" would still be a well-formed entry
    magic[0] = 'X';
    std::vector<std::pair<std::string, std::string>> damaged = {{"empty", ""},
                                                                {"cut short", good.substr(0, good.size() / 2)},
                                                                {"one byte short", good.substr(0, good.size() - 1)},
                                                                {"a byte more", good + "x"},
                                                                {"a changed byte", renamed},
                                                                {"another format", magic},
                                                                {"not an entry", "{\"format\":1}\n"}};
    for (const auto& [what, bytes] : damaged) {
        write_file(entry, bytes);
        auto set = load({dir / "pol"}, dir / "cache");
        ASSERT_TRUE(set.findings.empty()) << what;
        auto e = Engine::compile(std::move(set));
        ASSERT_TRUE(e) << what;
        EXPECT_EQ((*e)->policies()[0].rules[0].name, "whole/allow-staging") << what;
        EXPECT_EQ((*e)->digest(), (*reference)->digest()) << what;
        EXPECT_EQ(decisions_of(**e), decisions_of(**reference)) << what;
        EXPECT_EQ(infra::test::read_file(entry), good) << what << ": the entry is written anew";
    }
}

// The cache is keyed by the file's bytes: an edited file is read afresh,
// and a file with findings is never cached, so its warnings come back.
TEST(PolicyCache, AnEditedFileIsNeverServedStale)
{
    TempDir dir;
    write_file(dir / "pol/p.yaml", make_policy("p", "  - {name: t, match: {}, tier: 2}\n"));
    auto before = Engine::compile(load({dir / "pol"}, dir / "cache"));
    ASSERT_TRUE(before);
    write_file(dir / "pol/p.yaml", make_policy("p", "  - {name: t, match: {}, tier: 1}\n"));
    auto after = Engine::compile(load({dir / "pol"}, dir / "cache"));
    ASSERT_TRUE(after);
    EXPECT_EQ((*after)->decide(task(R"({"type":"pr-review"})")).tier, 1);
    EXPECT_NE((*after)->digest(), (*before)->digest());
    // The same bytes at another path: positions name the file that was read.
    write_file(dir / "copy/p.yaml", make_policy("p", "  - {name: t, match: {}, tier: 1}\n"));
    auto copy = load({dir / "copy"}, dir / "cache");
    ASSERT_EQ(copy.policies.size(), 1u);
    EXPECT_EQ(copy.policies[0].rules[0].where.file, (dir / "copy/p.yaml").string());
    // A warning is a finding: such a file is parsed, and warned about, every time.
    write_file(dir / "warn/p.yaml", make_policy("w", "  - {name: d, match: {}, effect: deny}\n"));
    for (int i = 0; i < 2; ++i) {
        auto set = load({dir / "warn"}, dir / "cache2");
        ASSERT_EQ(set.findings.size(), 1u);
        EXPECT_FALSE(set.findings[0].error);
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "cache2"));
}

TEST(PolicyScope, AgentPoliciesBindOnlyTheirAgent)
{
    auto e = engine_of(
        make_policy("llm", "  - {name: lim, constraints: {maxIterations: 2}}\n", ", level: agent, agent: llm") +
        "---\n" + make_policy("all", "  - {name: t, match: {}, tier: 2}\n"));
    EXPECT_EQ(e->decide(task(R"({"type":"pr-review","context":{"agentSlug":"llm"}})")).max_iterations, 2);
    EXPECT_EQ(e->decide(task(R"({"type":"pr-review","context":{"agentSlug":"builtin"}})")).max_iterations,
              k_default_max_iterations);
}

TEST(PolicyDigestJson, CarriesTheFourSections)
{
    auto e = engine_of(
        make_policy("org",
                    "  - {name: t, description: Draft PRs only., match: {}, tier: 2, compliance: [SOC2 CC8.1]}\n") +
        "---\napiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: repo, level: repository, repository: acme/*}\n"
        "conventions: [Modules live in modules/.]\nrules:\n  - {name: r, match: {}, constraints: {deniedTools: "
        "[shell]}}\n");
    json dg = digest(*e, task(R"({"type":"compliance-remediation","context":{"repositoryId":"acme/infra"}})"));
    EXPECT_EQ(dg["organizationPolicies"][0]["text"], "Draft PRs only.");
    EXPECT_EQ(dg["repositoryConventions"].size(), 2u);
    EXPECT_EQ(dg["complianceFrameworks"][0]["framework"], "SOC2");
    std::string text = digest_text(dg);
    EXPECT_NE(text.find("Never use these tools: shell."), std::string::npos) << text;
    EXPECT_NE(text.find("Modules live in modules/."), std::string::npos);
}

TEST(PolicyReplay, ShowsWhatAProposalChanges)
{
    TempDir dir;
    auto db = store::Db::open((dir / "s.db").string(), true);
    ASSERT_TRUE(db && store::migrate(**db));
    auto current = engine_of(make_policy("p", "  - {name: t, match: {}, tier: 2}\n"));
    json a = task(k_remediation), b = task(R"({"type":"pr-review"})");
    a["id"] = "A";
    b["id"] = "B";
    for (const auto& t : {a, b}) ASSERT_TRUE(record_decision(**db, t, to_json(current->decide(t)), "test"));
    auto proposed = engine_of(make_policy("p", "  - {name: t, match: {type: pr-review}, tier: 1}\n"));
    auto report = replay(**db, *proposed);
    ASSERT_TRUE(report);
    EXPECT_EQ(report->total, 2u);
    EXPECT_EQ(report->changed, 2u);
    EXPECT_EQ(report->newly_denied, 1u);
    EXPECT_EQ(report->entries[0].changes[0], "allowed: true -> false");
    EXPECT_EQ(report->entries[1].changes[0], "tier: 2 -> 1");
}

TEST(PolicyBundle, ShippedPoliciesLintCleanAndPassTheirTests)
{
    auto set = load({std::filesystem::path(INFRA_SOURCE_DIR) / "share/policies"});
    for (const auto& f : set.findings) ADD_FAILURE() << f.str();
    auto files = set.test_files;
    EXPECT_GE(files.size(), 5u);
    auto e = Engine::compile(std::move(set));
    ASSERT_TRUE(e);
    std::vector<LintFinding> findings;
    auto cases = run_tests(**e, files, findings);
    EXPECT_TRUE(findings.empty());
    EXPECT_GE(cases.size(), 15u);
    for (const auto& c : cases) EXPECT_TRUE(c.passed) << c.name << ": " << ::testing::PrintToString(c.failures);
}

TEST(PolicyLint, InvalidUtf8IsAFindingNotACrash)
{
    std::vector<LintFinding> f;
    EXPECT_EQ(engine_of("apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: x, description: \"\xa1\"}\n", &f),
              nullptr);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].str(), "p.yaml:3:35: error: not valid UTF-8");
}
