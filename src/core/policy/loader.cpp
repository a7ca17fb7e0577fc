#include "core/policy/loader.hpp"

#include "core/environment.hpp"
#include "core/policy/cache.hpp"
#include "core/policy/node.hpp"
#include "core/text.hpp"
#include "core/yaml_docs.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace infra::core::policy {
namespace {

namespace fs = std::filesystem;

// Collects findings for one file with the node's position.
class Checker {
public:
    Checker(const std::string& file, std::vector<LintFinding>& out) : m_file(file), m_out(out) {}

    Location at(const Node& n) const { return {m_file, n.line(), n.column()}; }
    void error(const Node& n, const std::string& msg)
    {
        m_out.push_back({at(n), true, msg});
        ++m_errors;
    }
    void warn(const Node& n, const std::string& msg) { m_out.push_back({at(n), false, msg}); }
    int errors() const { return m_errors; }

private:
    std::string m_file;
    std::vector<LintFinding>& m_out;
    int m_errors = 0;
};

std::optional<long long> as_int(const Node& n)
{
    if (!n.IsScalar()) return std::nullopt;
    auto j = n.value();
    if (j.is_number_integer()) return j.get<long long>();
    return std::nullopt;
}

std::optional<bool> as_bool(const Node& n)
{
    if (!n.IsScalar()) return std::nullopt;
    auto j = n.value();
    if (j.is_boolean()) return j.get<bool>();
    return std::nullopt;
}

std::optional<std::vector<std::string>> as_strings(const Node& n)
{
    if (!n.IsSequence()) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& e : n.seq_items()) {
        if (!e.IsScalar()) return std::nullopt;
        out.push_back(e.Scalar());
    }
    return out;
}

bool valid_name(const std::string& s)
{
    if (s.empty() || s.size() > 128) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
    return true;
}

Matcher compile_matcher(const Node& n, const std::string& path, Checker& ck, int depth = 0);

Matcher literal_or_glob(const Node& n)
{
    Matcher m;
    json v = n.value();
    if (v.is_string()) {
        m.text = v.get<std::string>();
        m.kind = m.text.find_first_of("*?") != std::string::npos ? Matcher::Kind::glob : Matcher::Kind::literal;
    } else {
        m.kind = Matcher::Kind::literal;
    }
    m.value = std::move(v);
    return m;
}

// Values that a field can take, to catch typos such as "compliance-remediatoin".
void check_known_value(const std::string& path, const Matcher& m, const Node& n, Checker& ck)
{
    if (m.kind != Matcher::Kind::literal || !m.value.is_string()) return;
    const std::string& v = m.text;
    if (path == "type" && !parse_task_type(v))
        ck.error(n, "no task has type " + text::quote(v) +
                        "; expected compliance-remediation, drift-detection, pr-review, chat or incident-triage");
    if (path == "context.priority" && !parse_priority(v))
        ck.error(n, "no task has priority " + text::quote(v) + "; expected low, normal, high or critical");
}

// Tasks enter with their environment trimmed and in ASCII lower case, and
// one with a non-ASCII character is refused (core/environment.hpp): a
// value that is not in that form never matches, so a gate written as
// "Production" would let production through.
void check_environment_value(const Matcher& m, const Node& n, Checker& ck)
{
    static const std::string k_path = "context.environment";
    if ((m.kind == Matcher::Kind::literal || m.kind == Matcher::Kind::glob) && m.value.is_string()) {
        const std::string& v = m.text;
        auto canonical = canonical_environment(v, k_path);
        if (!canonical)
            ck.warn(
                n, "'" + k_path + "': " + text::quote(v, v.size()) +
                       " never matches: a task's environment is ASCII and at most 128 characters long, and a task with "
                       "another is refused when it comes in");
        else if (*canonical != v)
            ck.warn(n,
                    "'" + k_path + "': " + text::quote(v, v.size()) +
                        " never matches: a task's environment is trimmed and lower-cased when it comes in, so write " +
                        text::quote(*canonical, canonical->size()));
    } else if (m.kind == Matcher::Kind::regex) {
        // Upper-case letters outside an escape (\S, \W ...) match no environment.
        for (std::size_t i = 0; i < m.text.size(); ++i) {
            if (m.text[i] == '\\') {
                ++i;
                continue;
            }
            if (std::isupper(static_cast<unsigned char>(m.text[i]))) {
                ck.warn(n, "'" + k_path + "': regex " + text::quote(m.text, m.text.size()) +
                               " has upper-case letters, which no environment has: a task's environment is lower-cased "
                               "when it "
                               "comes in, so write the regex in lower case");
                break;
            }
        }
    }
}

Matcher compile_matcher(const Node& n, const std::string& path, Checker& ck, int depth)
{
    Matcher m;
    if (depth > 16) {
        ck.error(n, "match nested too deeply");
        return m;
    }
    if (n.IsScalar()) {
        m = literal_or_glob(n);
        check_known_value(path, m, n, ck);
        if (path == "context.environment") check_environment_value(m, n, ck);
        return m;
    }
    if (n.IsNull()) {
        m.kind = Matcher::Kind::literal;
        m.value = nullptr;
        return m;
    }
    if (n.IsSequence()) {
        m.kind = Matcher::Kind::any_of;
        if (n.size() == 0) ck.error(n, "'" + path + "': an empty list matches nothing");
        for (const auto& e : n.seq_items()) m.children.push_back(compile_matcher(e, path, ck, depth + 1));
        return m;
    }
    if (n.IsMap()) {
        if (n.size() != 1) {
            ck.error(n, "'" + path + "': an operator has exactly one of regex, not, exists");
            return m;
        }
        const auto& kv = n.map_items().front();
        std::string op = kv.first.Scalar();
        const Node& arg = kv.second;
        if (op == "regex") {
            m.kind = Matcher::Kind::regex;
            if (!arg.IsScalar()) {
                ck.error(arg, "'" + path + "': regex takes a string");
                return m;
            }
            m.text = arg.Scalar();
            try {
                m.re = build_regex(m.text);
            } catch (const std::regex_error& e) {
                ck.error(arg, "'" + path + "': invalid regex " + text::quote(m.text) + ": " + e.what());
            }
            if (path == "context.environment") check_environment_value(m, arg, ck);
        } else if (op == "not") {
            m.kind = Matcher::Kind::negate;
            m.children.push_back(compile_matcher(arg, path, ck, depth + 1));
        } else if (op == "exists") {
            m.kind = Matcher::Kind::exists;
            auto b = as_bool(arg);
            if (!b) ck.error(arg, "'" + path + "': exists takes true or false");
            m.flag = b.value_or(true);
        } else {
            ck.error(kv.first,
                     "'" + path + "': unknown operator " + text::quote(op) + "; expected regex, not or exists");
        }
        return m;
    }
    ck.error(n, "'" + path + "': expected a value, a list, or an operator");
    return m;
}

Match compile_match(const Node& n, Checker& ck, int depth = 0)
{
    Match match;
    if (!n || n.IsNull()) return match;
    if (!n.IsMap()) {
        ck.error(n, "match: expected a mapping of task fields to values");
        return match;
    }
    if (depth > 8) {
        ck.error(n, "match: 'any' nested too deeply");
        return match;
    }
    for (const auto& kv : n.map_items()) {
        std::string key = kv.first.Scalar();
        if (key == "any") {
            if (!kv.second.IsSequence() || kv.second.size() == 0) {
                ck.error(kv.second, "any: expected a list of matches");
                continue;
            }
            std::vector<Match> alts;
            for (const auto& alt : kv.second.seq_items()) alts.push_back(compile_match(alt, ck, depth + 1));
            match.any.push_back(std::move(alts));
            continue;
        }
        if (!known_task_root(key)) {
            ck.error(kv.first, "unknown task field " + text::quote(key) +
                                   "; paths start with id, type, trigger, context, payload or dedupeKey");
            continue;
        }
        Predicate p;
        p.path = key;
        p.where = ck.at(kv.first);
        p.matcher = compile_matcher(kv.second, key, ck);
        match.all.push_back(std::move(p));
    }
    return match;
}

void compile_constraints(const Node& n, Constraints& c, Checker& ck)
{
    if (!n.IsMap()) {
        ck.error(n, "constraints: expected a mapping");
        return;
    }
    for (const auto& kv : n.map_items()) {
        std::string key = kv.first.Scalar();
        const Node& v = kv.second;
        if (key == "maxIterations" || key == "timeoutMs") {
            auto i = as_int(v);
            if (!i || *i <= 0) {
                ck.error(v, key + ": expected a positive whole number");
                continue;
            }
            (key == "maxIterations" ? c.max_iterations : c.timeout_ms) = *i;
        } else if (key == "allowedTools" || key == "deniedTools") {
            auto s = as_strings(v);
            if (!s) {
                ck.error(v, key + ": expected a list of tool names");
                continue;
            }
            if (key == "allowedTools") c.allowed_tools = *s;
            else c.denied_tools = *s;
        } else if (key == "allowedPaths") {
            auto s = as_strings(v);
            if (!s || s->empty()) {
                ck.error(
                    v, key + ": expected a list of path globs (\"modules/**/*.tf\", \".github/workflows/deploy.yml\")");
                continue;
            }
            c.allowed_paths = *s;
        } else if (key == "requiresPR" || key == "requiresValidation" || key == "allowUnsandboxed") {
            auto b = as_bool(v);
            if (!b) {
                ck.error(v, key + ": expected true or false");
                continue;
            }
            (key == "requiresPR"           ? c.requires_pr
             : key == "requiresValidation" ? c.requires_validation
                                           : c.allow_unsandboxed) = *b;
        } else {
            ck.error(kv.first, "constraints: unknown key " + text::quote(key) +
                                   "; expected maxIterations, timeoutMs, allowedTools, deniedTools, allowedPaths, "
                                   "requiresPR, requiresValidation or allowUnsandboxed");
        }
    }
}

const std::set<std::string> k_rule_keys = {"name",        "description",       "match",  "effect",   "tier",
                                           "constraints", "requiredApprovals", "reason", "priority", "compliance",
                                           "drift"};

std::optional<Rule> compile_rule(const Node& n, const Policy& policy, const Match& scope, Checker& ck)
{
    if (!n.IsMap()) {
        ck.error(n, "rules: each rule is a mapping");
        return std::nullopt;
    }
    Rule r;
    r.where = ck.at(n);
    r.level = policy.level;
    int before = ck.errors();
    for (const auto& kv : n.map_items())
        if (!k_rule_keys.count(kv.first.Scalar()))
            ck.error(kv.first, "unknown rule key " + text::quote(kv.first.Scalar()) +
                                   "; expected name, description, match, effect, tier, constraints, "
                                   "requiredApprovals, reason, priority, compliance or drift");
    std::string name = n["name"] && n["name"].IsScalar() ? n["name"].Scalar() : "";
    if (!valid_name(name))
        ck.error(n, "rule name " + text::quote(name) + ": expected letters, digits, '-', '_' or '.'");
    r.name = policy.name + "/" + name;
    if (const auto& d = n["description"]; d && d.IsScalar()) r.description = d.Scalar();
    if (const auto& e = n["effect"]; e) {
        std::string eff = e.IsScalar() ? e.Scalar() : "";
        if (eff == "deny") r.effect = Effect::deny;
        else if (eff != "allow") ck.error(e, "effect: expected allow or deny, got " + text::quote(eff));
    }
    if (const auto& t = n["tier"]; t) {
        auto tier = as_int(t);
        if (!tier || *tier < 0 || *tier > 4) ck.error(t, "tier: expected 0, 1, 2, 3 or 4");
        else r.tier = static_cast<int>(*tier);
    }
    if (const auto& c = n["constraints"]; c) compile_constraints(c, r.constraints, ck);
    if (const auto& a = n["requiredApprovals"]; a) {
        auto s = as_strings(a);
        if (!s) ck.error(a, "requiredApprovals: expected a list of approver groups");
        else r.required_approvals = *s;
    }
    if (const auto& p = n["priority"]; p) {
        auto pr = p.IsScalar() ? parse_priority(p.Scalar()) : std::nullopt;
        if (!pr) ck.error(p, "priority: expected low, normal, high or critical");
        r.priority = pr;
    }
    if (const auto& c = n["compliance"]; c) {
        auto s = as_strings(c);
        if (!s) ck.error(c, "compliance: expected a list such as [\"SOC2 CC6.1\"]");
        else r.compliance = *s;
    }
    if (const auto& d = n["drift"]; d) {
        const auto& m = d.IsMap() ? d["mode"] : d;
        std::string mode = m && m.IsScalar() ? m.Scalar() : "";
        if (!d.IsMap() || d.size() != 1 || (mode != "codify" && mode != "revert" && mode != "report"))
            ck.error(d, "drift: expected {mode: codify}, {mode: revert} or {mode: report}");
        else r.drift_mode = mode;
    }
    if (const auto& rs = n["reason"]; rs && rs.IsScalar()) r.reason = rs.Scalar();
    r.match = compile_match(n["match"], ck);
    // A scoped policy (agent, repository, resource) applies only to its subject.
    r.match.all.insert(r.match.all.begin(), scope.all.begin(), scope.all.end());

    if (r.effect == Effect::deny) {
        if (r.tier) ck.warn(n["tier"], "a deny rule grants no tier; 'tier' is ignored");
        if (r.reason.empty()) ck.warn(n, "a deny rule should say why in 'reason'");
    } else if (r.tier && *r.tier == 4 && r.required_approvals.empty()) {
        ck.error(n["tier"], "tier 4 (production with approval gates) needs requiredApprovals");
    } else if (!r.tier && r.required_approvals.empty() && !r.priority && r.compliance.empty() && !r.drift_mode &&
               !r.constraints.max_iterations && !r.constraints.timeout_ms && !r.constraints.allowed_tools &&
               r.constraints.denied_tools.empty() && !r.constraints.requires_pr && !r.constraints.requires_validation &&
               !r.constraints.allow_unsandboxed) {
        ck.warn(n, "the rule neither grants a tier, denies, nor constrains anything");
    }
    if (ck.errors() > before) return std::nullopt;
    return r;
}

void compile_policy(const Node& doc, const std::string& file, std::vector<Policy>& out, Checker& ck)
{
    if (!doc.IsMap()) {
        ck.error(doc, "expected a mapping with apiVersion, kind, metadata and rules");
        return;
    }
    for (const auto& kv : doc.map_items()) {
        std::string k = kv.first.Scalar();
        if (k != "apiVersion" && k != "kind" && k != "metadata" && k != "rules" && k != "conventions")
            ck.error(kv.first,
                     "unknown key " + text::quote(k) + "; expected apiVersion, kind, metadata, rules or conventions");
    }
    const auto& api = doc["apiVersion"];
    if (!api || !api.IsScalar() || api.Scalar() != "infra-agent/v1")
        ck.error(api ? api : doc, "apiVersion: expected infra-agent/v1");
    const auto& kind = doc["kind"];
    if (!kind || !kind.IsScalar() || kind.Scalar() != "Policy") {
        ck.error(kind ? kind : doc, "kind: expected Policy");
        return;
    }
    Policy p;
    p.where = ck.at(doc);
    const auto& md = doc["metadata"];
    if (!md || !md.IsMap()) {
        ck.error(doc, "metadata: expected a mapping with name and level");
        return;
    }
    p.name = md["name"] && md["name"].IsScalar() ? md["name"].Scalar() : "";
    if (!valid_name(p.name))
        ck.error(md, "metadata.name " + text::quote(p.name) + ": expected letters, digits, '-', '_' or '.'");
    if (const auto& d = md["description"]; d && d.IsScalar()) p.description = d.Scalar();
    std::string level = md["level"] && md["level"].IsScalar() ? md["level"].Scalar() : "organization";
    Match scope;
    auto add_scope = [&](const char* key, const char* path) {
        if (const auto& s = md[key]; s) {
            Predicate pr;
            pr.path = path;
            pr.where = ck.at(s);
            pr.matcher = compile_matcher(s, path, ck);
            scope.all.push_back(std::move(pr));
        }
    };
    if (level == "organization") p.level = Level::organization;
    else if (level == "agent") p.level = Level::agent;
    else if (level == "repository") p.level = Level::repository;
    else if (level == "resource") p.level = Level::resource;
    else ck.error(md["level"], "metadata.level: expected organization, agent, repository or resource");
    add_scope("organization", "context.organizationId");
    add_scope("agent", "context.agentSlug");
    add_scope("repository", "context.repositoryId");
    add_scope("resource", "context.resource");
    if (const auto& c = doc["conventions"]; c) {
        auto s = as_strings(c);
        if (!s) ck.error(c, "conventions: expected a list of sentences");
        else p.conventions = *s;
    }
    const auto& rules = doc["rules"];
    if (rules && !rules.IsSequence()) {
        ck.error(rules, "rules: expected a list");
    } else if (rules) {
        std::set<std::string> names;
        for (const auto& rn : rules.seq_items()) {
            auto r = compile_rule(rn, p, scope, ck);
            if (!r) continue;
            if (!names.insert(r->name).second) ck.error(rn, "duplicate rule name " + text::quote(r->name));
            p.rules.push_back(std::move(*r));
        }
    }
    p.scope = std::move(scope);
    p.canonical = doc.value().dump(-1, ' ', false, json::error_handler_t::replace);
    out.push_back(std::move(p));
}

bool is_test_file(const fs::path& p)
{
    auto stem = p.stem().string();
    return stem.size() > 5 && stem.compare(stem.size() - 5, 5, "_test") == 0;
}

}  // namespace

std::string Location::str() const
{
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string LintFinding::str() const
{
    return where.str() + ": " + (error ? "error" : "warning") + ": " + message;
}

bool PolicySet::ok() const
{
    for (const auto& f : findings)
        if (f.error) return false;
    return true;
}

Status PolicySet::status() const
{
    std::size_t errors = 0;
    const LintFinding* first = nullptr;
    for (const auto& f : findings) {
        if (!f.error) continue;
        if (!first) first = &f;
        ++errors;
    }
    if (!first) return {};
    std::string more = errors > 1 ? " (and " + std::to_string(errors - 1) + " more)" : "";
    return fail(Errc::invalid_input, "invalid policy: " + first->where.str() + ": " + first->message + more,
                "run 'infra-agent policy lint' for every problem");
}

bool known_task_root(std::string_view path)
{
    auto root = path.substr(0, path.find('.'));
    return root == "id" || root == "type" || root == "trigger" || root == "context" || root == "payload" ||
           root == "dedupeKey";
}

namespace {

// Parses a file's YAML into documents; findings name file:line:column.
std::vector<Node> parse_yaml(const std::string& text, const std::string& file, std::vector<LintFinding>& findings)
{
    std::vector<Node> docs;
    if (auto bad = text::invalid_utf8(text)) {
        // Policies end up in JSON decisions and the audit log: UTF-8 only.
        int line = 1, col = 1;
        for (std::size_t i = 0; i < *bad; ++i) {
            if (text[i] == '\n') {
                ++line;
                col = 1;
            } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++col;
        }
        findings.push_back({{file, line, col}, true, "not valid UTF-8"});
        return docs;
    }
    for (const auto& d : split_yaml_documents(text)) {
        try {
            YAML::Node doc = YAML::Load(d.text);
            if (!doc || doc.IsNull()) continue;
            docs.push_back(Node::from_yaml(doc, d.first_line));
        } catch (const YAML::Exception& e) {
            findings.push_back({{file, e.mark.line + 1 + d.first_line, e.mark.column + 1}, true, e.msg});
        }
    }
    return docs;
}

}  // namespace

std::shared_ptr<const std::regex> build_regex(const std::string& pattern)
{
    return std::make_shared<const std::regex>(pattern, std::regex::ECMAScript | std::regex::optimize);
}

void parse_policies(const std::string& text, const std::string& file, std::vector<Policy>& out,
                    std::vector<LintFinding>& findings)
{
    auto docs = parse_yaml(text, file, findings);
    Checker ck(file, findings);
    for (const auto& doc : docs) compile_policy(doc, file, out, ck);
}

namespace {

// One file's policies: from the cache when it holds the file's bytes, else
// parsed and checked, and cached when that found nothing to say.
std::vector<Policy> read_policies(const fs::path& f, const fs::path& cache_dir, std::vector<LintFinding>& findings)
{
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    fs::path cached = cache_dir.empty() ? fs::path() : cache::entry(cache_dir, text);
    std::vector<Policy> parsed;
    if (!cached.empty() && cache::read(cached, f.string(), parsed)) return parsed;
    std::size_t before = findings.size();
    parse_policies(text, f.string(), parsed, findings);
    if (!cached.empty() && findings.size() == before && !parsed.empty()) cache::write(cached, f.string(), parsed);
    return parsed;
}

}  // namespace

PolicySet load(const std::vector<fs::path>& dirs, const fs::path& cache_dir)
{
    PolicySet set;
    std::map<std::string, std::size_t> by_name;
    for (const auto& dir : dirs) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec)) {
            set.findings.push_back({{dir.string(), 0, 0}, true, "not a directory"});
            continue;
        }
        std::vector<fs::path> files;
        for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            auto ext = it->path().extension();
            if (it->is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(it->path());
        }
        std::sort(files.begin(), files.end());
        std::vector<Policy> from_dir;
        for (const auto& f : files) {
            if (is_test_file(f)) {
                set.test_files.push_back(f);
                continue;
            }
            set.files.push_back(f);
            std::vector<Policy> parsed = read_policies(f, cache_dir, set.findings);
            for (auto& p : parsed) {
                for (const auto& q : from_dir)
                    if (q.name == p.name)
                        set.findings.push_back(
                            {p.where, true, "policy " + text::quote(p.name) + " is also defined at " + q.where.str()});
                from_dir.push_back(std::move(p));
            }
        }
        // A later directory overlays an earlier one: same name, replaced.
        for (auto& p : from_dir) {
            auto it = by_name.find(p.name);
            if (it != by_name.end()) {
                set.policies[it->second] = std::move(p);
            } else {
                by_name[p.name] = set.policies.size();
                set.policies.push_back(std::move(p));
            }
        }
    }
    return set;
}

}  // namespace infra::core::policy
