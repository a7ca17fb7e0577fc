#include "plugins/agents/builtin/rule_checks.hpp"

#include "core/config.hpp"
#include "core/text.hpp"
#include "plugins/agents/builtin/values.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace infra::plugins::agents::builtin {
namespace {

using core::hcl::Attribute;
using core::hcl::Block;
using nlohmann::json;

enum class Op { equals, one_of, none_of, at_least, at_most, present, absent, contains, contains_any, excludes, any };

// One requirement on a resource: the attribute (or nested block) at a path
// of nested blocks, what it must be, and the expression that makes it so.
struct Condition {
    std::vector<std::string> path;
    bool block = false;  // the path names a nested block that must exist
    Op op = Op::present;
    std::vector<std::string> values;  // literals, as strings
    double number = 0;
    bool missing_passes = false;
    std::string fix;              // the expression (or block body) to write; "" for absent: remove
    std::vector<Condition> when;  // the condition holds only where these do
    std::vector<Condition> any;   // Op::any: one of these must hold; the first one's fix is written
};

struct Companion {
    std::string type;
    std::string reference;  // the companion's attribute that names this resource
    std::vector<Condition> require;
    std::string add;  // a new companion resource; ${name} is this resource's name
};

struct Rule {
    std::vector<std::string> types;
    std::vector<Condition> when;
    std::vector<Condition> require;
    std::optional<Companion> companion;
    std::vector<Condition> legacy;  // the provider v3 inline form that stands for the companion
    std::vector<Condition> also;    // written with the fix where missing, never checked
    std::vector<std::string> notes;
    std::vector<std::pair<std::string, std::string>> variables;
};

// ---- evaluation -------------------------------------------------------------

// The literal an expression stands for (a quoted string, a number, a bool,
// a variable's default), or nullopt when Terraform decides it at plan time.
std::optional<std::string> literal(const Module& m, const std::string& raw)
{
    std::string e(core::text::trim(raw));
    if (e.rfind("var.", 0) == 0 || e.rfind("\"${var.", 0) == 0) {
        std::string v = resolve(m, e);
        if (v.rfind("var.", 0) == 0) return std::nullopt;
        return v;
    }
    if (e.size() >= 2 && e.front() == '"' && e.back() == '"') {
        if (e.find("${") != std::string::npos) return std::nullopt;
        return e.substr(1, e.size() - 2);
    }
    std::string l = core::text::lower(e);
    if (l == "true" || l == "false") return l;
    if (!e.empty() && (std::isdigit(static_cast<unsigned char>(e[0])) || e[0] == '-')) return e;
    if (!e.empty() && (e[0] == '[' || e[0] == '{')) return e;
    return std::nullopt;
}

bool same(const std::string& have, const std::string& want)
{
    if (want == "true" || want == "false") return core::text::lower(have) == want;
    return have == want;
}

std::optional<double> number(const std::string& v)
{
    try {
        std::size_t used = 0;
        double d = std::stod(v, &used);
        if (used == v.size()) return d;
    } catch (...) {
    }
    return std::nullopt;
}

// The quoted strings of a list literal.
std::vector<std::string> items(const std::string& list)
{
    std::vector<std::string> out;
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (list[i] != '"') continue;
        auto end = list.find('"', i + 1);
        if (end == std::string::npos) break;
        out.push_back(list.substr(i + 1, end - i - 1));
        i = end;
    }
    return out;
}

bool empty_value(const std::string& raw)
{
    std::string e(core::text::trim(raw));
    return e.empty() || e == "\"\"" || e == "null" || e == "[]" || e == "{}";
}

// A written attribute against a condition.
bool value_passes(const Module& m, const Condition& c, const std::string& raw)
{
    if (c.op == Op::absent) return false;
    if (c.op == Op::present) return !empty_value(raw);
    auto v = literal(m, raw);
    if (!v) return true;  // decided at plan time: not ours to judge
    switch (c.op) {
    case Op::equals:
        return same(*v, c.values.front());
    case Op::one_of:
        return std::any_of(c.values.begin(), c.values.end(), [&](auto& w) { return same(*v, w); });
    case Op::none_of:
        return std::none_of(c.values.begin(), c.values.end(), [&](auto& w) { return same(*v, w); });
    case Op::at_least:
        return number(*v) && *number(*v) >= c.number;
    case Op::at_most:
        return number(*v) && *number(*v) <= c.number;
    case Op::contains:
    case Op::contains_any:
    case Op::excludes: {
        auto have = items(*v);
        auto in = [&](auto& w) { return std::find(have.begin(), have.end(), w) != have.end(); };
        if (c.op == Op::contains) return std::all_of(c.values.begin(), c.values.end(), in);
        if (c.op == Op::contains_any) return std::any_of(c.values.begin(), c.values.end(), in);
        return std::none_of(c.values.begin(), c.values.end(), in);
    }
    default:
        return true;
    }
}

std::vector<const Block*> sub_blocks(const Block& b, const std::string& type)
{
    std::vector<const Block*> out;
    for (const auto& x : b.body.blocks) {
        if (x.type == type) out.push_back(&x);
        if (x.type == "dynamic" && x.labels.size() == 1 && x.labels[0] == type)
            if (const Block* content = x.block("content")) out.push_back(content);
    }
    return out;
}

bool all_pass(const Module& m, const std::string& file, const Block& b, const std::vector<Condition>& cs);

bool passes(const Module& m, const std::string& file, const Block& b, const Condition& c, std::size_t depth = 0)
{
    if (depth == 0 && !all_pass(m, file, b, c.when)) return true;
    if (c.op == Op::any)
        return std::any_of(c.any.begin(), c.any.end(), [&](const Condition& x) { return passes(m, file, b, x); });
    const std::string& name = c.path[depth];
    if (depth + 1 < c.path.size()) {
        auto subs = sub_blocks(b, name);
        if (subs.empty()) return c.missing_passes;
        return std::all_of(subs.begin(), subs.end(), [&](const Block* s) { return passes(m, file, *s, c, depth + 1); });
    }
    if (c.block)
        return !sub_blocks(b, name).empty() || (b.attribute(name) && !empty_value(expr_of(m, file, b, name.c_str())));
    const Attribute* a = b.attribute(name);
    if (!a || core::text::trim(a->expr(m.files.at(file).text)) == "null") return c.missing_passes;
    return value_passes(m, c, std::string(a->expr(m.files.at(file).text)));
}

bool all_pass(const Module& m, const std::string& file, const Block& b, const std::vector<Condition>& cs)
{
    return std::all_of(cs.begin(), cs.end(), [&](const Condition& c) { return passes(m, file, b, c); });
}

using Related = std::vector<std::pair<const std::string*, const Block*>>;

Related companions(const Module& m, const Companion& c, const Block& b)
{
    return m.related(c.type, c.reference, b.labels[0], b.labels[1]);
}

bool rule_fails(const Rule& r, const Module& m, const std::string& file, const Block& b)
{
    if (!all_pass(m, file, b, r.when)) return false;
    if (!all_pass(m, file, b, r.require)) return true;
    if (!r.companion || (!r.legacy.empty() && all_pass(m, file, b, r.legacy))) return false;
    for (auto [path, x] : companions(m, *r.companion, b))
        if (all_pass(m, *path, *x, r.companion->require)) return false;
    return true;
}

// ---- fixing -------------------------------------------------------------------

// A list literal with the items it lacks added at its end; the rule's own
// list when the value is not a literal list.
std::string merged(const Condition& c, std::string_view written)
{
    std::string list(core::text::trim(written));
    if (list.size() < 2 || list.front() != '[' || list.back() != ']' || list.find("${") != std::string::npos)
        return c.fix;
    auto have = items(list);
    std::vector<std::string> add;
    for (const auto& v : c.values)
        if (std::find(have.begin(), have.end(), v) == have.end()) add.push_back("\"" + v + "\"");
    // After the last item, on lines of their own when the list has one item a line.
    std::size_t last = list.find_last_not_of(" \t\n", list.size() - 2);
    if (last == 0) {
        std::string out;
        for (const auto& a : add) out += (out.empty() ? "" : ", ") + a;
        return "[" + out + "]";
    }
    std::size_t tail = list[last] == ',' ? last : last + 1;
    std::size_t line = list.rfind('\n', last);
    std::string sep = ", ";
    if (line != std::string::npos) {
        std::size_t first = list.find_first_not_of(" \t", line + 1);
        sep = ",\n" + list.substr(line + 1, first - line - 1);
    }
    std::string out = list.substr(0, tail);
    for (const auto& a : add) out += sep + a;
    return out + (list[last] == ',' ? "," : "") + list.substr(last + 1);
}

// Nested blocks a fix creates, with what goes in them. (Names and blocks
// are kept side by side: a pair holding the type it is a member of is not
// complete inside that type for every standard library.)
struct Pending {
    std::string body;  // a whole body given by the rule
    std::vector<std::pair<std::string, std::string>> attrs;
    std::vector<std::string> names;  // of the nested blocks, in order
    std::vector<Pending> blocks;     // blocks[i] is named names[i]

    Pending& child(const std::string& name)
    {
        for (std::size_t i = 0; i < names.size(); ++i)
            if (names[i] == name) return blocks[i];
        names.push_back(name);
        return blocks.emplace_back();
    }
    std::string render(const std::string& name) const
    {
        std::string inner = body;
        if (!inner.empty() && inner.back() != '\n') inner += '\n';
        for (const auto& [a, v] : attrs) inner += a + " = " + v + "\n";
        for (std::size_t i = 0; i < names.size(); ++i) inner += blocks[i].render(names[i]);
        return name + " {\n" + core::hcl::indent_lines(inner, "  ") + "}\n";
    }
};

struct Fixer {
    FixContext& ctx;
    const std::string& file;
    std::map<const Block*, Pending> created;  // parent -> blocks to add to it

    void apply(const Block& b, const Condition& c, std::size_t depth, Pending* pending)
    {
        if (c.op == Op::any) return apply(b, c.any.front(), depth, pending);
        const std::string& name = c.path[depth];
        bool leaf = depth + 1 == c.path.size();
        if (pending) {
            if (!pending->body.empty()) return;  // the rule's body is taken as written
            if (leaf && c.block) pending->child(name).body = c.fix;
            else if (leaf) pending->attrs.emplace_back(name, c.fix);
            else apply(b, c, depth + 1, &pending->child(name));
            return;
        }
        if (!leaf) {
            auto subs = sub_blocks(b, name);
            if (subs.empty()) apply(b, c, depth + 1, &created[&b].child(name));
            for (const Block* s : subs) apply(*s, c, depth + 1, nullptr);
            return;
        }
        if (c.block) {
            if (sub_blocks(b, name).empty()) {
                if (const Attribute* a = b.attribute(name)) ctx.module.editor(file).remove(*a);
                created[&b].child(name).body = c.fix;
            }
            return;
        }
        const Attribute* a = b.attribute(name);
        if (a && value_passes(ctx.module, c, std::string(a->expr(ctx.module.files.at(file).text)))) return;
        if (c.op == Op::absent) {
            if (a) ctx.module.editor(file).remove(*a);
            return;
        }
        ctx.module.editor(file).set(
            b, name, c.op == Op::contains && a ? merged(c, a->expr(ctx.module.files.at(file).text)) : c.fix);
    }

    void fix(const Block& b, const std::vector<Condition>& cs, const std::vector<Condition>& also = {})
    {
        bool any = false;
        for (const auto& c : cs)
            if (!passes(ctx.module, file, b, c)) apply(b, c, 0, nullptr), any = true;
        for (const auto& c : also)
            if (any && !passes(ctx.module, file, b, c)) apply(b, c, 0, nullptr);
        for (const auto& [parent, p] : created)
            for (std::size_t i = 0; i < p.names.size(); ++i)
                ctx.module.editor(file).add_block(*parent, p.blocks[i].render(p.names[i]));
    }
};

void fix_companion(const Companion& c, FixContext& ctx)
{
    auto existing = companions(ctx.module, c, ctx.block);
    for (auto [path, x] : existing)
        if (all_pass(ctx.module, *path, *x, c.require)) return;
    if (!existing.empty()) {
        const Block& other = *existing.front().second;
        if (ctx.fixed_elsewhere && ctx.fixed_elsewhere->count(other.address())) {
            ctx.left_alone = other.address() + " does not pass " + ctx.block.address() + "'s check; " +
                             other.address() +
                             " has a pull request of its own (for its own findings), so this fix leaves it alone";
            return;
        }
        Fixer{ctx, *existing.front().first, {}}.fix(other, c.require);
        return;
    }
    std::string text = c.add;
    for (auto at = text.find("${name}"); at != std::string::npos; at = text.find("${name}", at))
        text.replace(at, 7, ctx.block.labels[1]);
    ctx.module.editor(ctx.file).add_after(ctx.block, text);
}

// The resource uses the provider v3 inline form (its first block or attribute is written).
bool legacy_in_use(const Rule& r, const Block& b)
{
    if (r.legacy.empty()) return false;
    const std::string& first = r.legacy.front().path.front();
    return !sub_blocks(b, first).empty() || b.attribute(first);
}

void fix_rule(const Rule& r, FixContext& ctx)
{
    Fixer{ctx, ctx.file, {}}.fix(ctx.block, r.require, r.also);
    if (legacy_in_use(r, ctx.block)) Fixer{ctx, ctx.file, {}}.fix(ctx.block, r.legacy);
    else if (r.companion) fix_companion(*r.companion, ctx);
    for (const auto& n : r.notes) ctx.notes.push_back(n);
    for (const auto& v : r.variables) ctx.variables.push_back(v);
}

// ---- loading --------------------------------------------------------------------

std::string scalar(const json& v)
{
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    if (v.is_number()) {
        std::ostringstream s;
        s << v.get<double>();
        return s.str();
    }
    return v.dump();
}

// How a literal is written in HCL: strings quoted, the rest bare.
std::string hcl_literal(const json& v)
{
    if (v.is_string()) return "\"" + v.get<std::string>() + "\"";
    return scalar(v);
}

struct Reader {
    std::string where;  // "rds.yaml: CKV_AWS_16"

    core::Unexpected bad(const std::string& what) const
    {
        return core::fail(core::Errc::invalid_input, where + ": " + what,
                          "see \"Adding a check\" in docs/agents.md for the rule format");
    }

    core::Result<void> keys(const json& j, const std::set<std::string>& allowed, const std::string& what) const
    {
        if (!j.is_object()) return bad(what + " must be a mapping");
        for (auto it = j.begin(); it != j.end(); ++it)
            if (!allowed.count(it.key())) return bad(what + " has an unknown key '" + it.key() + "'");
        return {};
    }

    core::Result<std::vector<std::string>> strings(const json& j, const std::string& what) const
    {
        std::vector<std::string> out;
        if (j.is_string()) return std::vector<std::string>{j.get<std::string>()};
        if (!j.is_array()) return bad(what + " must be a list");
        for (const auto& x : j) {
            if (x.is_object() || x.is_array()) return bad(what + " must hold plain values");
            out.push_back(scalar(x));
        }
        return out;
    }

    core::Result<Condition> condition(const json& j, bool needs_fix) const
    {
        static const std::set<std::string> k_keys = {
            "attribute", "block",    "equals",       "in",       "not_in",  "at_least", "at_most", "present",
            "absent",    "contains", "contains_any", "excludes", "missing", "fix",      "when",    "any"};
        if (auto k = keys(j, k_keys, "a condition"); !k) return k.error();
        Condition c;
        if (j.contains("any")) {
            if (j.size() != 1) return bad("a condition with 'any' has nothing else: put the alternatives in it");
            if (!j["any"].is_array() || j["any"].empty()) return bad("'any' must list the alternatives");
            // Only the first alternative is written by the fix.
            for (std::size_t i = 0; i < j["any"].size(); ++i) {
                auto alt = condition(j["any"][i], needs_fix && i == 0);
                if (!alt) return alt.error();
                c.any.push_back(std::move(*alt));
            }
            c.op = Op::any;
            return c;
        }
        bool is_block = j.contains("block");
        if (is_block == j.contains("attribute")) return bad("a condition names exactly one of 'attribute' or 'block'");
        std::string path = j.value(is_block ? "block" : "attribute", "");
        if (path.empty()) return bad("a condition's attribute is empty");
        c.path = core::text::split(path, '.');
        c.block = is_block;
        std::string where_c = "'" + path + "'";
        int ops = 0;
        if (j.contains("equals"))
            ++ops, c.op = Op::equals, c.values = {scalar(j["equals"])}, c.fix = hcl_literal(j["equals"]);
        if (j.contains("in")) {
            auto v = strings(j["in"], where_c + " in");
            if (!v) return v.error();
            if (v->empty()) return bad(where_c + " in is empty");
            ++ops, c.op = Op::one_of, c.values = *v, c.fix = hcl_literal(j["in"].is_array() ? j["in"][0] : j["in"]);
        }
        if (j.contains("not_in")) {
            auto v = strings(j["not_in"], where_c + " not_in");
            if (!v) return v.error();
            ++ops, c.op = Op::none_of, c.values = *v, c.missing_passes = true;
        }
        for (const char* k : {"at_least", "at_most"})
            if (j.contains(k)) {
                if (!j[k].is_number()) return bad(where_c + " " + k + " must be a number");
                ++ops, c.op = std::string(k) == "at_least" ? Op::at_least : Op::at_most, c.number = j[k].get<double>();
                c.fix = scalar(j[k]);
            }
        for (const char* k : {"contains", "contains_any", "excludes"})
            if (j.contains(k)) {
                auto v = strings(j[k], where_c + " " + k);
                if (!v) return v.error();
                std::string op = k;
                ++ops,
                    c.op = op == "contains"   ? Op::contains
                           : op == "excludes" ? Op::excludes
                                              : Op::contains_any,
                    c.values = *v;
                if (c.op == Op::excludes) c.missing_passes = true;
                std::string list;
                for (const auto& x : *v) list += (list.empty() ? "" : ", ") + std::string("\"") + x + "\"";
                c.fix = c.op == Op::excludes ? "" : "[" + list + "]";
            }
        if (j.contains("present")) ++ops, c.op = Op::present;
        if (j.contains("absent")) ++ops, c.op = Op::absent, c.missing_passes = true;
        if (is_block && ops == 0) ops = 1, c.op = Op::present;
        if (ops != 1)
            return bad(where_c +
                       " needs exactly one of equals, in, not_in, at_least, at_most, present, absent, contains, "
                       "contains_any, excludes");
        if (is_block && c.op != Op::present) return bad("block " + where_c + " can only be required present");
        if (j.contains("missing")) {
            std::string m = j.value("missing", "");
            if (m != "pass" && m != "fail") return bad(where_c + " missing must be pass or fail");
            c.missing_passes = m == "pass";
        }
        if (j.contains("fix")) {
            if (!j["fix"].is_string()) return bad(where_c + " fix must be a string (an HCL expression or block body)");
            c.fix = j["fix"].get<std::string>();
        }
        if (j.contains("when")) {
            auto when = conditions(j["when"], where_c + " when", false);
            if (!when) return when.error();
            c.when = std::move(*when);
        }
        if (needs_fix && c.fix.empty() && c.op != Op::absent)
            return bad(where_c + " has no value to write: give 'fix' (an HCL expression, or the block's body)");
        return c;
    }

    core::Result<std::vector<Condition>> conditions(const json& j, const std::string& what, bool needs_fix = true) const
    {
        std::vector<Condition> out;
        if (j.is_null()) return out;
        if (!j.is_array()) return bad(what + " must be a list of conditions");
        for (const auto& x : j) {
            auto c = condition(x, needs_fix);
            if (!c) return c.error();
            out.push_back(std::move(*c));
        }
        return out;
    }

    core::Result<Rule> rule(const json& j) const
    {
        static const std::set<std::string> k_keys = {"id",   "title",     "types",  "when",  "require",
                                                     "also", "companion", "legacy", "notes", "variables"};
        if (auto k = keys(j, k_keys, "the check"); !k) return k.error();
        Rule r;
        auto types = strings(j.value("types", json()), "types");
        if (!types || types->empty()) return bad("types must list the resource types the check applies to");
        r.types = *types;
        auto when = conditions(j.value("when", json()), "when", false);
        if (!when) return when.error();
        r.when = std::move(*when);
        auto require = conditions(j.value("require", json()), "require");
        if (!require) return require.error();
        r.require = std::move(*require);
        for (const auto& a : j.value("also", json::array())) {
            if (auto k = keys(a, {"attribute", "fix"}, "an 'also' entry"); !k) return k.error();
            if (!a.value("fix", json()).is_string() || a.value("attribute", "").empty())
                return bad("an 'also' entry needs an attribute and its fix (an HCL expression)");
            Condition c;
            c.path = core::text::split(a.value("attribute", ""), '.');
            c.fix = a.value("fix", "");
            r.also.push_back(std::move(c));
        }
        if (j.contains("companion")) {
            const json& c = j["companion"];
            if (auto k = keys(c, {"type", "reference", "require", "add"}, "companion"); !k) return k.error();
            Companion comp{c.value("type", ""), c.value("reference", ""), {}, c.value("add", "")};
            if (comp.type.empty() || comp.reference.empty() || comp.add.empty())
                return bad(
                    "companion needs type, reference (the attribute naming this resource) and add (its Terraform)");
            auto creq = conditions(c.value("require", json()), "companion require");
            if (!creq) return creq.error();
            comp.require = std::move(*creq);
            r.companion = std::move(comp);
        }
        auto legacy = conditions(j.value("legacy", json()), "legacy");
        if (!legacy) return legacy.error();
        r.legacy = std::move(*legacy);
        if (!r.legacy.empty() && !r.companion)
            return bad("legacy names the inline form of a companion: give the companion too");
        for (const auto& c : r.legacy)
            if (c.op == Op::any) return bad("legacy conditions name attributes or blocks, not alternatives");
        if (r.require.empty() && !r.companion) return bad("the check requires nothing: give require or companion");
        auto notes = strings(j.value("notes", json::array()), "notes");
        if (!notes) return notes.error();
        r.notes = *notes;
        for (const auto& v : j.value("variables", json::array())) {
            if (auto k = keys(v, {"name", "type", "description"}, "a variable"); !k) return k.error();
            std::string name = v.value("name", ""), desc = v.value("description", "");
            if (name.empty() || desc.empty()) return bad("a variable needs a name and a description");
            // No default: only the owner knows the value, and terraform asks for it.
            r.variables.emplace_back(name, "variable \"" + name + "\" {\n  description = \"" + desc +
                                               "\"\n  type        = " + v.value("type", "string") + "\n}\n");
        }
        return r;
    }
};

}  // namespace

core::Result<std::vector<Check>> parse_rules(const std::string& text, const std::string& name)
{
    auto doc = core::yaml_to_json(text, name);
    if (!doc) return doc.error();
    Reader file{name};
    if (auto k = file.keys(*doc, {"family", "checks"}, "the file"); !k) return k.error();
    if (!doc->contains("checks") || !(*doc)["checks"].is_array()) return file.bad("'checks' must be a list");
    std::string family = doc->value("family", std::filesystem::path(name).stem().string());
    std::vector<Check> out;
    std::set<std::string> seen;
    for (const auto& j : (*doc)["checks"]) {
        std::string id = j.is_object() ? j.value("id", "") : "";
        if (id.empty()) return file.bad("a check has no id");
        if (!seen.insert(id).second) return file.bad(id + " is defined twice");
        Reader r{name + ": " + id};
        auto rule = r.rule(j);
        if (!rule) return rule.error();
        std::string title = j.value("title", "");
        if (title.empty()) return r.bad("the check has no title");
        auto shared = std::make_shared<const Rule>(std::move(*rule));
        Check c;
        c.id = id;
        c.title = title;
        c.types = shared->types;
        c.family = family;
        c.fails = [shared](const Module& m, const std::string& f, const Block& b) {
            return rule_fails(*shared, m, f, b);
        };
        c.fix = [shared](FixContext& ctx) { fix_rule(*shared, ctx); };
        out.push_back(std::move(c));
    }
    return out;
}

core::Result<std::vector<Check>> load_rules(const std::filesystem::path& dir)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".yaml") files.push_back(e.path());
    if (ec)
        return core::fail(core::Errc::unavailable,
                          "cannot read the fix rules in " + dir.string() + ": " + ec.message());
    std::sort(files.begin(), files.end());
    std::vector<Check> out;
    std::set<std::string> ids;
    for (const auto& p : files) {
        std::ifstream in(p);
        std::stringstream text;
        text << in.rdbuf();
        if (!in) return core::fail(core::Errc::unavailable, "cannot read " + p.string());
        auto checks = parse_rules(text.str(), p.string());
        if (!checks) return checks.error();
        for (auto& c : *checks) {
            if (!ids.insert(c.id).second)
                return core::fail(core::Errc::invalid_input,
                                  p.string() + ": " + c.id + " is already defined in another file");
            out.push_back(std::move(c));
        }
    }
    return out;
}

}  // namespace infra::plugins::agents::builtin
