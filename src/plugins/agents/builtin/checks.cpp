#include "plugins/agents/builtin/checks.hpp"
#include "core/share.hpp"
#include "plugins/agents/builtin/rule_checks.hpp"
#include "plugins/agents/builtin/values.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <regex>

namespace infra::plugins::agents::builtin {

using core::hcl::Attribute;
using core::hcl::Block;
using core::hcl::File;

core::hcl::Editor& Module::editor(const std::string& path)
{
    auto it = editors.find(path);
    if (it == editors.end()) it = editors.emplace(path, std::make_unique<core::hcl::Editor>(files.at(path))).first;
    return *it->second;
}

std::pair<const std::string*, const Block*> Module::find(const std::string& type, const std::string& name) const
{
    for (const auto& [path, f] : files)
        if (const Block* b = f.resource(type, name)) return {&path, b};
    return {nullptr, nullptr};
}

namespace {

// expr refers to type.name (its id, bucket, arn or name).
bool refers(std::string_view expr, const std::string& type, const std::string& name)
{
    std::string needle = type + "." + name;
    for (std::size_t pos = expr.find(needle); pos != std::string_view::npos; pos = expr.find(needle, pos + 1)) {
        std::size_t end = pos + needle.size();
        bool left = pos == 0 || !(std::isalnum(static_cast<unsigned char>(expr[pos - 1])) || expr[pos - 1] == '_');
        bool right = end == expr.size() ||
                     !(std::isalnum(static_cast<unsigned char>(expr[end])) || expr[end] == '_' || expr[end] == '-');
        if (left && right) return true;
    }
    return false;
}

}  // namespace

std::vector<std::pair<const std::string*, const Block*>> Module::related(const std::string& type,
                                                                         const std::string& attr,
                                                                         const std::string& target_type,
                                                                         const std::string& target_name) const
{
    // A resource refers to the target by address (aws_s3_bucket.x.id), or by
    // the same name expression the target uses (bucket = var.bucket_name).
    std::string target_name_expr;
    auto [tf, target] = find(target_type, target_name);
    if (target)
        if (const Attribute* n = target->attribute(attr)) target_name_expr = std::string(n->expr(files.at(*tf).text));
    std::vector<std::pair<const std::string*, const Block*>> out;
    for (const auto& [path, f] : files)
        for (const Block* b : f.resources(type)) {
            const Attribute* a = b->attribute(attr);
            if (!a) continue;
            auto e = a->expr(f.text);
            if (refers(e, target_type, target_name) || (!target_name_expr.empty() && e == target_name_expr))
                out.push_back({&path, b});
        }
    return out;
}

bool Module::has_variable(const std::string& name) const
{
    for (const auto& [path, f] : files)
        for (const auto& b : f.body.blocks)
            if (b.type == "variable" && b.labels.size() == 1 && b.labels[0] == name) return true;
    return false;
}

namespace {

// ---- helpers -------------------------------------------------------------

bool is_true(const std::string& e)
{
    return core::text::lower(core::text::trim(e)) == "true";
}

const std::string& name_of(const Block& b)
{
    return b.labels[1];
}

void add_resource(FixContext& c, const std::string& text)
{
    c.module.editor(c.file).add_after(c.block, text);
}

void set(FixContext& c, const Block& b, const char* attr, const std::string& value)
{
    c.module.editor(file_of(c.module, b)).set(b, attr, value);
}

// ---- S3 ------------------------------------------------------------------

// The SSE algorithm a bucket is configured with (inline or separate), or "".
std::string or_missing(std::string v)
{
    return v.empty() ? "(missing)" : v;
}

// The SSE algorithm a bucket is configured with (inline or separate); ""
// when nothing configures it (AWS then applies SSE-S3 by default).
std::string sse_algorithm(const Module& m, const std::string& file, const Block& bucket)
{
    if (const Block* inl = sub_block(bucket, "server_side_encryption_configuration"))
        if (const Block* rule = sub_block(*inl, "rule"))
            if (const Block* d = sub_block(*rule, "apply_server_side_encryption_by_default"))
                return or_missing(resolve(m, expr_of(m, file, *d, "sse_algorithm")));
    for (auto [path, b] :
         m.related("aws_s3_bucket_server_side_encryption_configuration", "bucket", "aws_s3_bucket", name_of(bucket))) {
        if (const Block* rule = sub_block(*b, "rule"))
            if (const Block* d = sub_block(*rule, "apply_server_side_encryption_by_default"))
                return or_missing(resolve(m, expr_of(m, *path, *d, "sse_algorithm")));
        return "(missing)";  // configured, but with no algorithm
    }
    return {};
}

void fix_sse(FixContext& c)
{
    const Module& m = c.module;
    const std::string& name = name_of(c.block);
    if (const Block* inl = sub_block(c.block, "server_side_encryption_configuration"))
        if (const Block* rule = sub_block(*inl, "rule"))
            if (const Block* d = sub_block(*rule, "apply_server_side_encryption_by_default")) {
                set(c, *d, "sse_algorithm", "\"aws:kms\"");
                return;
            }
    for (auto [path, b] :
         m.related("aws_s3_bucket_server_side_encryption_configuration", "bucket", "aws_s3_bucket", name))
        if (const Block* rule = sub_block(*b, "rule"))
            if (const Block* d = sub_block(*rule, "apply_server_side_encryption_by_default")) {
                set(c, *d, "sse_algorithm", "\"aws:kms\"");
                return;
            }
    add_resource(c, "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"" + name +
                        "\" {\n"
                        "  bucket = aws_s3_bucket." +
                        name +
                        ".id\n\n"
                        "  rule {\n"
                        "    apply_server_side_encryption_by_default {\n"
                        "      sse_algorithm = \"aws:kms\"\n"
                        "    }\n"
                        "    bucket_key_enabled = true\n"
                        "  }\n"
                        "}\n");
    c.notes.push_back(
        "Objects are now encrypted with the AWS managed KMS key (aws/s3); set kms_master_key_id to use your own key.");
}

bool public_acl(const std::string& acl)
{
    return acl == "public-read" || acl == "public-read-write" || acl == "website" || acl == "authenticated-read";
}

// A grant block of an ACL that lets everyone (or every AWS account) read.
bool public_grant(const Module& m, const std::string& file, const Block& grant)
{
    std::string text = m.files.at(file).text.substr(grant.line_start, grant.end - grant.line_start);
    bool everyone = text.find("global/AllUsers") != std::string::npos ||
                    text.find("global/AuthenticatedUsers") != std::string::npos;
    auto perm = unquote(expr_of(m, file, grant, "permission"));
    return everyone && (perm == "READ" || perm == "FULL_CONTROL" || perm == "READ_ACP");
}

std::vector<const Block*> grants(const Block& b)
{
    std::vector<const Block*> out;
    for (const auto& x : b.body.blocks) {
        if (x.type == "grant") out.push_back(&x);
        if (x.type == "access_control_policy")
            for (const auto& g : x.body.blocks)
                if (g.type == "grant") out.push_back(&g);
    }
    return out;
}

bool acl_public(const Module& m, const std::string& file, const Block& b)
{
    if (public_acl(resolve(m, expr_of(m, file, b, "acl")))) return true;
    for (const Block* g : grants(b))
        if (public_grant(m, file, *g)) return true;
    return false;
}

bool bucket_public(const Module& m, const std::string& file, const Block& b)
{
    if (acl_public(m, file, b)) return true;
    if (b.labels[0] == "aws_s3_bucket")
        for (auto [path, acl] : m.related("aws_s3_bucket_acl", "bucket", "aws_s3_bucket", name_of(b)))
            if (acl_public(m, *path, *acl)) return true;
    return false;
}

void fix_acl(FixContext& c)
{
    auto fix_one = [&](const std::string& file, const Block& b) {
        if (public_acl(resolve(c.module, expr_of(c.module, file, b, "acl")))) set(c, b, "acl", "\"private\"");
        for (const Block* g : grants(b))
            if (public_grant(c.module, file, *g)) c.module.editor(file).remove(*g);
    };
    fix_one(c.file, c.block);
    if (c.block.labels[0] == "aws_s3_bucket")
        for (auto [path, acl] : c.module.related("aws_s3_bucket_acl", "bucket", "aws_s3_bucket", name_of(c.block)))
            fix_one(*path, *acl);
    c.notes.push_back("The bucket is no longer public: serve public content through CloudFront instead.");
}

// ---- security groups -------------------------------------------------------

long long num(const std::string& e)
{
    try {
        return std::stoll(unquote(e));
    } catch (...) {
        return -1;
    }
}

// One ingress rule: a nested block, one object of an `ingress = [...]`
// list, or a rule resource; its attributes as spans of the file's text.
struct IngressRule {
    std::string file;
    const Block* block = nullptr;  // when it is a block
    std::map<std::string, std::pair<std::size_t, std::size_t>> attrs;
    std::size_t object_open = 0;  // when it is an object: offset of its '{'

    std::string get(const Module& m, const std::string& name) const
    {
        auto it = attrs.find(name);
        if (it == attrs.end()) return {};
        return m.files.at(file).text.substr(it->second.first, it->second.second - it->second.first);
    }
    bool has(const std::string& name) const { return attrs.count(name) > 0; }
};

IngressRule from_block(const std::string& file, const Block& b)
{
    IngressRule r;
    r.file = file;
    r.block = &b;
    for (const auto& a : b.body.attributes) r.attrs[a.name] = {a.expr_start, a.expr_end};
    return r;
}

// The objects of a list literal `[{...}, {...}]`, parsed as bodies. Commas
// between an object's attributes become newlines of the same length, so the
// offsets still point into the file.
void objects_of(const std::string& text, std::size_t start, std::size_t end, const std::string& file,
                std::vector<IngressRule>& out)
{
    int depth = 0;
    std::size_t open = 0;
    bool in_string = false;
    for (std::size_t i = start; i < end; ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{' && depth++ == 0) open = i;
        else if (c == '}' && --depth == 0) {
            std::string inner = text.substr(open + 1, i - open - 1);
            int d = 0;
            bool str = false;
            for (auto& ch : inner) {
                if (str) {
                    if (ch == '"') str = false;
                    continue;
                }
                if (ch == '"') str = true;
                else if (ch == '[' || ch == '{' || ch == '(') ++d;
                else if (ch == ']' || ch == '}' || ch == ')') --d;
                else if (ch == ',' && d == 0) ch = '\n';
            }
            auto parsed = core::hcl::parse(inner, file);
            if (!parsed) continue;
            IngressRule r;
            r.file = file;
            r.object_open = open;
            for (const auto& a : parsed->body.attributes)
                r.attrs[a.name] = {open + 1 + a.expr_start, open + 1 + a.expr_end};
            out.push_back(std::move(r));
        }
    }
}

// The rules of one direction ("ingress" or "egress") a resource holds.
std::vector<IngressRule> sg_rules(const Module& m, const std::string& file, const Block& b,
                                  const std::string& direction)
{
    std::vector<IngressRule> out;
    const std::string& type = b.labels[0];
    const std::string& text = m.files.at(file).text;
    if (type == "aws_security_group") {
        for (const auto& x : b.body.blocks) {
            if (x.type == direction) out.push_back(from_block(file, x));
            if (x.type == "dynamic" && x.labels.size() == 1 && x.labels[0] == direction)
                if (const Block* content = x.block("content")) out.push_back(from_block(file, *content));
        }
        if (const Attribute* list = b.attribute(direction))
            objects_of(text, list->expr_start, list->expr_end, file, out);
    } else if (type == "aws_security_group_rule") {
        if (unquote(expr_of(m, file, b, "type")) == direction) out.push_back(from_block(file, b));
    } else if (type == "aws_vpc_security_group_" + direction + "_rule") {
        out.push_back(from_block(file, b));
    }
    return out;
}

std::vector<IngressRule> ingress_rules(const Module& m, const std::string& file, const Block& b)
{
    return sg_rules(m, file, b, "ingress");
}

const char* const k_sources[] = {"cidr_blocks",     "ipv6_cidr_blocks",         "security_groups",
                                 "prefix_list_ids", "source_security_group_id", "cidr_ipv4",
                                 "cidr_ipv6",       "prefix_list_id",           "referenced_security_group_id"};

// A list literal without one quoted item ("[\"a\", \"b\"]" without b).
std::string without(const std::string& list, const std::string& item)
{
    std::string t(core::text::trim(list));
    if (t.size() < 2 || t.front() != '[' || t.back() != ']') return list;
    std::vector<std::string> kept;
    for (auto& part : core::text::split(t.substr(1, t.size() - 2), ',')) {
        std::string p(core::text::trim(part));
        if (p.empty() || p == "\"" + item + "\"") continue;
        kept.push_back(p);
    }
    std::string out = "[";
    for (std::size_t i = 0; i < kept.size(); ++i) out += (i ? ", " : "") + kept[i];
    return out + "]";
}

bool no_source(const Module& m, const IngressRule& r)
{
    for (const char* k : k_sources) {
        std::string v(core::text::trim(r.get(m, k)));
        if (!v.empty() && v != "[]" && v != "null") return false;
    }
    return true;
}

// Checkov's reading: protocol -1 (or all), or the range 0-0 or -1 to -1, means every port.
bool covers(const Module& m, const IngressRule& r, long long port)
{
    std::string protocol = resolve(m, r.has("ip_protocol") ? r.get(m, "ip_protocol") : r.get(m, "protocol"));
    long long from = num(resolve(m, r.get(m, "from_port"))), to = num(resolve(m, r.get(m, "to_port")));
    bool every = protocol == "-1" || protocol == "all" || (from == 0 && to == 0) || (from == -1 && to == -1) ||
                 (from <= 0 && to >= 65535 && from != -1);
    if (port < 0) return every;
    return every || (from >= 0 && from <= port && port <= to);
}

bool world_cidr(const Module& m, const IngressRule& r)
{
    std::string v4 = r.get(m, "cidr_blocks") + r.get(m, "cidr_ipv4");
    std::string v6 = r.get(m, "ipv6_cidr_blocks") + r.get(m, "cidr_ipv6");
    return v4.find("\"0.0.0.0/0\"") != std::string::npos || v6.find("\"::/0\"") != std::string::npos;
}

bool open_to_world(const Module& m, const IngressRule& r, long long port)
{
    // A rule for the group's own members (self) is not open to anyone else.
    if (!covers(m, r, port) || is_true(r.get(m, "self"))) return false;
    return world_cidr(m, r) || no_source(m, r);
}

// Checkov's reading of egress to every port: the range 0-0 or -1 to -1, to the world.
bool egress_to_world(const Module& m, const IngressRule& r)
{
    long long from = num(resolve(m, r.get(m, "from_port"))), to = num(resolve(m, r.get(m, "to_port")));
    bool every = (from == 0 && to == 0) || (from == -1 && to == -1);
    return every && !is_true(r.get(m, "self")) && world_cidr(m, r);
}

bool fails_egress(const Module& m, const std::string& file, const Block& b)
{
    for (const auto& r : sg_rules(m, file, b, "egress"))
        if (egress_to_world(m, r)) return true;
    return false;
}

std::function<bool(const Module&, const std::string&, const Block&)> fails_port(long long port)
{
    return [port](const Module& m, const std::string& file, const Block& b) {
        for (const auto& r : ingress_rules(m, file, b))
            if (open_to_world(m, r, port)) return true;
        return false;
    };
}

// Who may be reached, for a variable's description and the pull request.
struct Reach {
    std::string direction;  // ingress or egress
    std::string variable;
    std::string list_description;  // of the list variable
    std::string cidr_description;  // of the single-network variable
    std::string note;
};

std::function<void(FixContext&)> fix_open(Reach reach, std::function<bool(const Module&, const IngressRule&)> open)
{
    return [=](FixContext& c) {
        const Module& m = c.module;
        const std::string& variable = reach.variable;
        bool list_var = false, string_var = false;
        for (const auto& r : sg_rules(m, c.file, c.block, reach.direction)) {
            if (!open(m, r)) continue;
            auto& ed = c.module.editor(r.file);
            auto span = [&](const char* k) { return r.attrs.at(k); };
            bool vpc_rule = r.block && r.block->labels.size() == 2 &&
                            r.block->labels[0] == "aws_vpc_security_group_" + reach.direction + "_rule";
            if (r.has("cidr_ipv4") || vpc_rule) {
                if (r.has("cidr_ipv4"))
                    ed.replace(span("cidr_ipv4").first, span("cidr_ipv4").second, "var." + variable + "_cidr");
                else if (!r.has("cidr_ipv6")) ed.set(*r.block, "cidr_ipv4", "var." + variable + "_cidr");
                if (r.has("cidr_ipv6") && r.get(m, "cidr_ipv6").find("\"::/0\"") != std::string::npos && r.block)
                    if (const Attribute* a = r.block->attribute("cidr_ipv6")) ed.remove(*a);
                string_var = true;
                continue;
            }
            // The world range leaves the lists; other networks stay.
            std::string v4 = without(r.get(m, "cidr_blocks"), "0.0.0.0/0");
            std::string v6 = without(r.get(m, "ipv6_cidr_blocks"), "::/0");
            bool v4_world = r.has("cidr_blocks") && v4 != r.get(m, "cidr_blocks");
            bool v6_world = r.has("ipv6_cidr_blocks") && v6 != r.get(m, "ipv6_cidr_blocks");
            if (v6_world) ed.replace(span("ipv6_cidr_blocks").first, span("ipv6_cidr_blocks").second, v6);
            bool v4_left = r.has("cidr_blocks") && v4 != "[]";
            bool v6_left = r.has("ipv6_cidr_blocks") && v6 != "[]";
            if (v4_world) {
                ed.replace(span("cidr_blocks").first, span("cidr_blocks").second,
                           v4 == "[]" ? "var." + variable : "concat(" + v4 + ", var." + variable + ")");
                list_var = true;
            } else if (!v4_left && !v6_left && r.block && (no_source(m, r) || v6_world)) {
                ed.set(*r.block, "cidr_blocks", "var." + variable);
                list_var = true;
            }
        }
        if (list_var)
            c.variables.push_back({variable, "variable \"" + variable +
                                                 "\" {\n"
                                                 "  description = \"" +
                                                 reach.list_description +
                                                 "; empty closes it.\"\n"
                                                 "  type        = list(string)\n"
                                                 "  default     = []\n"
                                                 "}\n"});
        if (string_var)
            c.variables.push_back({variable + "_cidr", "variable \"" + variable +
                                                           "_cidr\" {\n"
                                                           "  description = \"" +
                                                           reach.cidr_description +
                                                           ".\"\n"
                                                           "  type        = string\n"
                                                           "}\n"});
        c.notes.push_back("The world-open rule now admits only var." + variable + (string_var ? "_cidr" : "") + ": " +
                          reach.note);
    };
}

std::function<void(FixContext&)> fix_port(long long port, std::string variable, std::string what)
{
    Reach reach{"ingress", variable, "CIDR blocks allowed to reach " + what,
                "The network (CIDR) allowed to reach " + what, "list the networks that need " + what + "."};
    return fix_open(reach, [port](const Module& m, const IngressRule& r) { return open_to_world(m, r, port); });
}

bool missing_descriptions(const Module& m, const std::string& file, const Block& b)
{
    if (!b.attribute("description")) return true;
    if (b.labels[0] == "aws_security_group")
        for (const auto& x : b.body.blocks)
            if ((x.type == "ingress" || x.type == "egress") && !x.attribute("description")) return true;
    return false;
}

void fix_descriptions(FixContext& c)
{
    const Module& m = c.module;
    const std::string& type = c.block.labels[0];
    if (!c.block.attribute("description"))
        set(c, c.block, "description",
            type == "aws_security_group" ? "\"Security group " + name_of(c.block) + "\""
                                         : "\"Rule " + name_of(c.block) + "\"");
    if (type == "aws_security_group")
        for (const auto& x : c.block.body.blocks)
            if ((x.type == "ingress" || x.type == "egress") && !x.attribute("description")) {
                std::string from = unquote(expr_of(m, c.file, x, "from_port")),
                            to = unquote(expr_of(m, c.file, x, "to_port"));
                std::string ports = from == to ? from : from + "-" + to;
                set(c, x, "description", "\"" + x.type + " " + ports + "\"");
            }
    c.notes.push_back("Descriptions were generated; replace them with the reason each rule exists.");
}

// ---- compute -----------------------------------------------------------------

bool device_encrypted(const Module& m, const std::string& file, const Block& d)
{
    if (d.attribute("snapshot_id")) return true;  // encrypted as its snapshot is
    auto e = resolve(m, expr_of(m, file, d, "encrypted"));
    return is_true(e) || (unknown(e) && !e.empty());
}

bool unencrypted_devices(const Module& m, const std::string& file, const Block& b)
{
    if (const Block* root = sub_block(b, "root_block_device")) {
        if (!device_encrypted(m, file, *root)) return true;
    } else if (const Attribute* a = b.attribute("root_block_device")) {
        auto v = resolve(m, std::string(a->expr(m.files.at(file).text)));
        std::string compact;
        for (char ch : v)
            if (!std::isspace(static_cast<unsigned char>(ch))) compact += ch;
        if (compact.find("encrypted=true") == std::string::npos) return true;
    } else {
        return true;  // no root device block: the default root volume is not encrypted
    }
    for (const auto& x : b.body.blocks)
        if (x.type == "ebs_block_device" && !device_encrypted(m, file, x)) return true;
    return false;
}

void fix_devices(FixContext& c)
{
    const Module& m = c.module;
    auto& ed = c.module.editor(c.file);
    if (const Block* root = sub_block(c.block, "root_block_device")) {
        if (!device_encrypted(m, c.file, *root)) set(c, *root, "encrypted", "true");
    } else {
        if (const Attribute* a = c.block.attribute("root_block_device")) ed.remove(*a);
        ed.add_block(c.block, "root_block_device {\n  encrypted = true\n}\n");
    }
    for (const auto& x : c.block.body.blocks)
        if (x.type == "ebs_block_device" && !device_encrypted(m, c.file, x)) set(c, x, "encrypted", "true");
    c.notes.push_back("Encrypting an existing volume replaces it: plan the change in a maintenance window.");
}

std::vector<Check> build()
{
    std::vector<Check> v;
    auto bucket_check = [&](std::string id, std::string title, auto fails, auto fix) {
        v.push_back({std::move(id), std::move(title), {"aws_s3_bucket"}, fails, fix, {}});
    };
    // Checkov's semantics: with no configuration AWS encrypts with SSE-S3, so
    // only a configured algorithm other than AES256 or KMS fails CKV_AWS_19.
    bucket_check(
        "CKV_AWS_19", "S3 bucket encrypted at rest",
        [](const Module& m, const std::string& f, const Block& b) {
            auto a = sse_algorithm(m, f, b);
            return !a.empty() && !unknown(a) && a != "aws:kms" && a != "AES256" && a != "aws:kms:dsse";
        },
        fix_sse);
    bucket_check(
        "CKV_AWS_145", "S3 bucket encrypted with KMS by default",
        [](const Module& m, const std::string& f, const Block& b) {
            auto a = sse_algorithm(m, f, b);
            return !unknown(a) && a != "aws:kms" && a != "aws:kms:dsse";
        },
        fix_sse);
    v.push_back({"CKV_AWS_20",
                 "S3 bucket ACL does not allow public read",
                 {"aws_s3_bucket", "aws_s3_bucket_acl"},
                 bucket_public,
                 fix_acl,
                 {}});

    const std::vector<std::string> sg_types = {"aws_security_group", "aws_security_group_rule",
                                               "aws_vpc_security_group_ingress_rule"};
    v.push_back({"CKV_AWS_24",
                 "No security group allows ingress from 0.0.0.0/0 to port 22",
                 sg_types,
                 fails_port(22),
                 fix_port(22, "allowed_ssh_cidr_blocks", "SSH (port 22)"),
                 {}});
    v.push_back({"CKV_AWS_25",
                 "No security group allows ingress from 0.0.0.0/0 to port 3389",
                 sg_types,
                 fails_port(3389),
                 fix_port(3389, "allowed_rdp_cidr_blocks", "RDP (port 3389)"),
                 {}});
    v.push_back({"CKV_AWS_260",
                 "No security group allows ingress from 0.0.0.0/0 to port 80",
                 sg_types,
                 fails_port(80),
                 fix_port(80, "allowed_http_cidr_blocks", "HTTP (port 80)"),
                 {}});
    v.push_back({"CKV_AWS_277",
                 "No security group allows ingress from 0.0.0.0/0 to all ports",
                 sg_types,
                 fails_port(-1),
                 fix_port(-1, "allowed_ingress_cidr_blocks", "every port"),
                 {}});
    Reach egress{"egress", "allowed_egress_cidr_blocks", "CIDR blocks the group may send traffic to on every port",
                 "The network (CIDR) the group may send traffic to on every port",
                 "list the destinations the instances must reach (package mirrors, AWS endpoints, peers)."};
    v.push_back({"CKV_AWS_382",
                 "No security group allows egress to 0.0.0.0/0 on all ports",
                 {"aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_egress_rule"},
                 fails_egress,
                 fix_open(egress, egress_to_world),
                 {}});
    v.push_back({"CKV_AWS_23",
                 "Security group and rules have descriptions",
                 {"aws_security_group", "aws_security_group_rule"},
                 missing_descriptions,
                 fix_descriptions,
                 {}});

    v.push_back({"CKV_AWS_8",
                 "EC2 instance and launch configuration block devices encrypted",
                 {"aws_instance", "aws_launch_configuration"},
                 unencrypted_devices,
                 fix_devices,
                 {}});
    return v;
}

}  // namespace

const std::vector<Check>& code_checks()
{
    static const std::vector<Check> k_checks = build();
    return k_checks;
}

core::Result<const std::vector<Check>*> checks()
{
    static const auto k_all = []() -> core::Result<std::vector<Check>> {
        auto dir = core::share_dir("fixes");
        if (dir.empty())
            return core::fail(core::Errc::not_found,
                              "cannot find the builtin agent's fix rules (share/infra-agent/fixes)",
                              "reinstall infra-agent: the package installs them next to the policy bundle");
        auto loaded = load_rules(dir);
        if (!loaded) return loaded.error();
        std::vector<Check> all = code_checks();
        for (auto& c : *loaded) {
            if (std::any_of(all.begin(), all.end(), [&](const Check& x) { return x.id == c.id; }))
                return core::fail(core::Errc::invalid_input,
                                  c.id + " is both a C++ check and a fix rule in " + dir.string());
            all.push_back(std::move(c));
        }
        return all;
    }();
    if (!k_all) return k_all.error();
    return &*k_all;
}

const Check* find_check(const std::string& id)
{
    auto all = checks();
    if (!all) return nullptr;
    for (const auto& c : **all)
        if (c.id == id) return &c;
    return nullptr;
}

}  // namespace infra::plugins::agents::builtin
