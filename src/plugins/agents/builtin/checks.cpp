#include "plugins/agents/builtin/checks.hpp"

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
        bool right = end == expr.size() || !(std::isalnum(static_cast<unsigned char>(expr[end])) || expr[end] == '_' || expr[end] == '-');
        if (left && right) return true;
    }
    return false;
}

}  // namespace

std::vector<std::pair<const std::string*, const Block*>> Module::related(const std::string& type, const std::string& attr,
                                                                         const std::string& target_type,
                                                                         const std::string& target_name) const
{
    std::vector<std::pair<const std::string*, const Block*>> out;
    for (const auto& [path, f] : files)
        for (const Block* b : f.resources(type))
            if (const Attribute* a = b->attribute(attr); a && refers(a->expr(f.text), target_type, target_name))
                out.push_back({&path, b});
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

std::string expr_of(const Module& m, const std::string& file, const Block& b, const char* attr)
{
    const Attribute* a = b.attribute(attr);
    return a ? std::string(a->expr(m.files.at(file).text)) : std::string();
}

std::string unquote(std::string s)
{
    s = std::string(core::text::trim(s));
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
    return s;
}

bool is_true(const std::string& e) { return core::text::trim(e) == "true"; }

const std::string& name_of(const Block& b) { return b.labels[1]; }

// The file of a block of the module, for edits elsewhere than the failing block.
bool contains(const core::hcl::Body& body, const Block& b)
{
    for (const auto& x : body.blocks)
        if (&x == &b || contains(x.body, b)) return true;
    return false;
}

const std::string& file_of(const Module& m, const Block& b)
{
    for (const auto& [path, f] : m.files)
        if (contains(f.body, b)) return path;
    static const std::string k_none;
    return k_none;
}

void add_resource(FixContext& c, const std::string& text) { c.module.editor(c.file).add_after(c.block, text); }

void set(FixContext& c, const Block& b, const char* attr, const std::string& value)
{
    c.module.editor(file_of(c.module, b)).set(b, attr, value);
}

// ---- S3 ------------------------------------------------------------------

// The SSE algorithm a bucket is configured with (inline or separate), or "".
std::string sse_algorithm(const Module& m, const std::string& file, const Block& bucket)
{
    if (const Block* inl = bucket.block("server_side_encryption_configuration"))
        if (const Block* rule = inl->block("rule"))
            if (const Block* d = rule->block("apply_server_side_encryption_by_default"))
                return unquote(expr_of(m, file, *d, "sse_algorithm"));
    for (auto [path, b] : m.related("aws_s3_bucket_server_side_encryption_configuration", "bucket", "aws_s3_bucket", name_of(bucket)))
        if (const Block* rule = b->block("rule"))
            if (const Block* d = rule->block("apply_server_side_encryption_by_default"))
                return unquote(expr_of(m, *path, *d, "sse_algorithm"));
    return {};
}

void fix_sse(FixContext& c)
{
    const Module& m = c.module;
    const std::string& name = name_of(c.block);
    if (const Block* inl = c.block.block("server_side_encryption_configuration"))
        if (const Block* rule = inl->block("rule"))
            if (const Block* d = rule->block("apply_server_side_encryption_by_default")) {
                set(c, *d, "sse_algorithm", "\"aws:kms\"");
                return;
            }
    for (auto [path, b] : m.related("aws_s3_bucket_server_side_encryption_configuration", "bucket", "aws_s3_bucket", name))
        if (const Block* rule = b->block("rule"))
            if (const Block* d = rule->block("apply_server_side_encryption_by_default")) {
                set(c, *d, "sse_algorithm", "\"aws:kms\"");
                return;
            }
    add_resource(c, "resource \"aws_s3_bucket_server_side_encryption_configuration\" \"" + name + "\" {\n"
                    "  bucket = aws_s3_bucket." + name + ".id\n\n"
                    "  rule {\n"
                    "    apply_server_side_encryption_by_default {\n"
                    "      sse_algorithm = \"aws:kms\"\n"
                    "    }\n"
                    "    bucket_key_enabled = true\n"
                    "  }\n"
                    "}\n");
    c.notes.push_back("Objects are now encrypted with the AWS managed KMS key (aws/s3); set kms_master_key_id to use your own key.");
}

bool versioning_enabled(const Module& m, const std::string& file, const Block& bucket)
{
    if (const Block* v = bucket.block("versioning")) return is_true(expr_of(m, file, *v, "enabled"));
    for (auto [path, b] : m.related("aws_s3_bucket_versioning", "bucket", "aws_s3_bucket", name_of(bucket)))
        if (const Block* vc = b->block("versioning_configuration"))
            if (unquote(expr_of(m, *path, *vc, "status")) == "Enabled") return true;
    return false;
}

void fix_versioning(FixContext& c)
{
    const Module& m = c.module;
    if (const Block* v = c.block.block("versioning")) {
        set(c, *v, "enabled", "true");
        return;
    }
    for (auto [path, b] : m.related("aws_s3_bucket_versioning", "bucket", "aws_s3_bucket", name_of(c.block)))
        if (const Block* vc = b->block("versioning_configuration")) {
            set(c, *vc, "status", "\"Enabled\"");
            return;
        }
    const std::string& name = name_of(c.block);
    add_resource(c, "resource \"aws_s3_bucket_versioning\" \"" + name + "\" {\n"
                    "  bucket = aws_s3_bucket." + name + ".id\n\n"
                    "  versioning_configuration {\n"
                    "    status = \"Enabled\"\n"
                    "  }\n"
                    "}\n");
}

bool logging_enabled(const Module& m, const std::string&, const Block& bucket)
{
    return bucket.block("logging") || !m.related("aws_s3_bucket_logging", "bucket", "aws_s3_bucket", name_of(bucket)).empty();
}

void fix_logging(FixContext& c)
{
    const std::string& name = name_of(c.block);
    add_resource(c, "resource \"aws_s3_bucket_logging\" \"" + name + "\" {\n"
                    "  bucket        = aws_s3_bucket." + name + ".id\n"
                    "  target_bucket = var.s3_access_log_bucket\n"
                    "  target_prefix = \"" + name + "/\"\n"
                    "}\n");
    c.variables.push_back({"s3_access_log_bucket",
                           "variable \"s3_access_log_bucket\" {\n"
                           "  description = \"Name of the bucket that receives S3 server access logs.\"\n"
                           "  type        = string\n"
                           "}\n"});
    c.notes.push_back("Set var.s3_access_log_bucket to the bucket that collects access logs (never this bucket itself).");
}

const std::vector<std::string> k_pab = {"block_public_acls", "block_public_policy", "ignore_public_acls",
                                        "restrict_public_buckets"};

std::vector<std::pair<const std::string*, const Block*>> pabs(const Module& m, const Block& bucket)
{
    return m.related("aws_s3_bucket_public_access_block", "bucket", "aws_s3_bucket", name_of(bucket));
}

bool pab_ok(const Module& m, const Block& bucket)
{
    for (auto [path, b] : pabs(m, bucket))
        if (is_true(expr_of(m, *path, *b, "block_public_acls")) && is_true(expr_of(m, *path, *b, "block_public_policy")))
            return true;
    return false;
}

void fix_pab(FixContext& c)
{
    auto existing = pabs(c.module, c.block);
    if (!existing.empty()) {
        for (const auto& a : k_pab) set(c, *existing.front().second, a.c_str(), "true");
        return;
    }
    const std::string& name = name_of(c.block);
    add_resource(c, "resource \"aws_s3_bucket_public_access_block\" \"" + name + "\" {\n"
                    "  bucket                  = aws_s3_bucket." + name + ".id\n"
                    "  block_public_acls       = true\n"
                    "  block_public_policy     = true\n"
                    "  ignore_public_acls      = true\n"
                    "  restrict_public_buckets = true\n"
                    "}\n");
}

bool public_acl(const std::string& acl) { return acl == "public-read" || acl == "public-read-write"; }

bool has_lifecycle(const Module& m, const std::string& file, const Block& bucket)
{
    return bucket.block("lifecycle_rule") ||
           !m.related("aws_s3_bucket_lifecycle_configuration", "bucket", "aws_s3_bucket", name_of(bucket)).empty();
}

void fix_lifecycle(FixContext& c)
{
    const std::string& name = name_of(c.block);
    add_resource(c, "resource \"aws_s3_bucket_lifecycle_configuration\" \"" + name + "\" {\n"
                    "  bucket = aws_s3_bucket." + name + ".id\n\n"
                    "  rule {\n"
                    "    id     = \"abort-incomplete-multipart-uploads\"\n"
                    "    status = \"Enabled\"\n\n"
                    "    filter {}\n\n"
                    "    abort_incomplete_multipart_upload {\n"
                    "      days_after_initiation = 7\n"
                    "    }\n"
                    "  }\n"
                    "}\n");
    c.notes.push_back("The lifecycle rule only cleans up incomplete multipart uploads; add expiration rules that fit the data.");
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

// An ingress rule (a block, or a rule resource) that opens port (or every
// port, when port is -1) to the whole internet.
bool open_to_world(const Module& m, const std::string& file, const Block& rule, long long port)
{
    std::string protocol = unquote(expr_of(m, file, rule, "protocol"));
    bool all = protocol == "-1" || protocol == "all";
    long long from = num(expr_of(m, file, rule, "from_port")), to = num(expr_of(m, file, rule, "to_port"));
    bool covers = port < 0 ? (all || (from <= 0 && to >= 65535)) : (all || (from <= port && port <= to));
    if (!covers) return false;
    std::string v4 = expr_of(m, file, rule, "cidr_blocks") + expr_of(m, file, rule, "cidr_ipv4");
    std::string v6 = expr_of(m, file, rule, "ipv6_cidr_blocks") + expr_of(m, file, rule, "cidr_ipv6");
    return v4.find("\"0.0.0.0/0\"") != std::string::npos || v6.find("\"::/0\"") != std::string::npos;
}

std::vector<const Block*> ingress_rules(const Module& m, const std::string& file, const Block& b)
{
    std::vector<const Block*> out;
    const std::string& type = b.labels[0];
    if (type == "aws_security_group") {
        for (const auto& x : b.body.blocks)
            if (x.type == "ingress") out.push_back(&x);
    } else if (type == "aws_security_group_rule") {
        if (unquote(expr_of(m, file, b, "type")) == "ingress") out.push_back(&b);
    } else if (type == "aws_vpc_security_group_ingress_rule") {
        out.push_back(&b);
    }
    return out;
}

struct PortCheck {
    long long port;
    const char* variable;
    const char* what;
};

std::function<bool(const Module&, const std::string&, const Block&)> fails_port(long long port)
{
    return [port](const Module& m, const std::string& file, const Block& b) {
        for (const Block* r : ingress_rules(m, file, b))
            if (open_to_world(m, file, *r, port)) return true;
        return false;
    };
}

std::function<void(FixContext&)> fix_port(long long port, std::string variable, std::string what)
{
    return [=](FixContext& c) {
        const Module& m = c.module;
        for (const Block* r : ingress_rules(m, c.file, c.block)) {
            if (!open_to_world(m, c.file, *r, port)) continue;
            if (r->attribute("cidr_ipv4")) {
                set(c, *r, "cidr_ipv4", "var." + variable + "[0]");
            } else if (r->attribute("cidr_blocks") &&
                       expr_of(m, c.file, *r, "cidr_blocks").find("\"0.0.0.0/0\"") != std::string::npos) {
                set(c, *r, "cidr_blocks", "var." + variable);
            }
            if (expr_of(m, c.file, *r, "ipv6_cidr_blocks").find("\"::/0\"") != std::string::npos)
                set(c, *r, "ipv6_cidr_blocks", "[]");
            if (r->attribute("cidr_ipv6") && expr_of(m, c.file, *r, "cidr_ipv6").find("\"::/0\"") != std::string::npos)
                c.module.editor(c.file).remove(*r->attribute("cidr_ipv6"));
        }
        c.variables.push_back({variable, "variable \"" + variable + "\" {\n"
                                         "  description = \"CIDR blocks allowed to reach " + what + "; empty closes it.\"\n"
                                         "  type        = list(string)\n"
                                         "  default     = []\n"
                                         "}\n"});
        c.notes.push_back("The world-open rule now admits only var." + variable + " (empty by default): list the networks that need " + what + ".");
    };
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
        set(c, c.block, "description", type == "aws_security_group" ? "\"Security group " + name_of(c.block) + "\"" : "\"Rule " + name_of(c.block) + "\"");
    if (type == "aws_security_group")
        for (const auto& x : c.block.body.blocks)
            if ((x.type == "ingress" || x.type == "egress") && !x.attribute("description")) {
                std::string from = unquote(expr_of(m, c.file, x, "from_port")), to = unquote(expr_of(m, c.file, x, "to_port"));
                std::string ports = from == to ? from : from + "-" + to;
                set(c, x, "description", "\"" + x.type + " " + ports + "\"");
            }
    c.notes.push_back("Descriptions were generated; replace them with the reason each rule exists.");
}

// ---- compute -----------------------------------------------------------------

bool unencrypted_devices(const Module& m, const std::string& file, const Block& b)
{
    const Block* root = b.block("root_block_device");
    if (!root || !is_true(expr_of(m, file, *root, "encrypted"))) return true;
    for (const auto& x : b.body.blocks)
        if (x.type == "ebs_block_device" && !x.attribute("snapshot_id") && !is_true(expr_of(m, file, x, "encrypted")))
            return true;
    return false;
}

void fix_devices(FixContext& c)
{
    const Module& m = c.module;
    if (const Block* root = c.block.block("root_block_device"))
        set(c, *root, "encrypted", "true");
    else
        c.module.editor(c.file).add_block(c.block, "root_block_device {\n  encrypted = true\n}\n");
    for (const auto& x : c.block.body.blocks)
        if (x.type == "ebs_block_device" && !x.attribute("snapshot_id") && !is_true(expr_of(m, c.file, x, "encrypted")))
            set(c, x, "encrypted", "true");
    c.notes.push_back("Encrypting an existing volume replaces it: plan the change in a maintenance window.");
}

bool imds_v1(const Module& m, const std::string& file, const Block& b)
{
    const Block* md = b.block("metadata_options");
    if (!md) return true;
    if (unquote(expr_of(m, file, *md, "http_endpoint")) == "disabled") return false;
    return unquote(expr_of(m, file, *md, "http_tokens")) != "required";
}

void fix_imds(FixContext& c)
{
    if (const Block* md = c.block.block("metadata_options"))
        set(c, *md, "http_tokens", "\"required\"");
    else
        c.module.editor(c.file).add_block(c.block, "metadata_options {\n  http_endpoint = \"enabled\"\n  http_tokens   = \"required\"\n}\n");
    c.notes.push_back("Software on the instance must use IMDSv2 (session tokens); current AWS SDKs do.");
}

// A check that one attribute has one value.
Check attribute_check(std::string id, std::string title, std::vector<std::string> types, std::string attr,
                      std::string value, std::string note = {},
                      std::function<bool(const std::string&)> ok = nullptr)
{
    Check c;
    c.id = std::move(id);
    c.title = std::move(title);
    c.types = std::move(types);
    c.fails = [attr, value, ok](const Module& m, const std::string& file, const Block& b) {
        std::string e = std::string(core::text::trim(expr_of(m, file, b, attr.c_str())));
        return ok ? !ok(e) : e != value;
    };
    c.fix = [attr, value, note](FixContext& ctx) {
        set(ctx, ctx.block, attr.c_str(), value);
        if (!note.empty()) ctx.notes.push_back(note);
    };
    return c;
}

std::vector<Check> build()
{
    std::vector<Check> v;
    auto bucket_check = [&](std::string id, std::string title, auto fails, auto fix) {
        v.push_back({std::move(id), std::move(title), {"aws_s3_bucket"}, fails, fix});
    };
    bucket_check("CKV_AWS_19", "S3 bucket encrypted at rest",
                 [](const Module& m, const std::string& f, const Block& b) {
                     auto a = sse_algorithm(m, f, b);
                     return a != "aws:kms" && a != "AES256";
                 },
                 fix_sse);
    bucket_check("CKV_AWS_145", "S3 bucket encrypted with KMS by default",
                 [](const Module& m, const std::string& f, const Block& b) { return sse_algorithm(m, f, b) != "aws:kms"; },
                 fix_sse);
    bucket_check("CKV_AWS_21", "S3 bucket versioning enabled",
                 [](const Module& m, const std::string& f, const Block& b) { return !versioning_enabled(m, f, b); },
                 fix_versioning);
    bucket_check("CKV_AWS_18", "S3 bucket access logging enabled",
                 [](const Module& m, const std::string& f, const Block& b) { return !logging_enabled(m, f, b); },
                 fix_logging);
    bucket_check("CKV2_AWS_6", "S3 bucket has a public access block",
                 [](const Module& m, const std::string&, const Block& b) { return !pab_ok(m, b); }, fix_pab);
    bucket_check("CKV2_AWS_61", "S3 bucket has a lifecycle configuration",
                 [](const Module& m, const std::string& f, const Block& b) { return !has_lifecycle(m, f, b); },
                 fix_lifecycle);
    const char* pab_ids[] = {"CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"};
    for (std::size_t i = 0; i < 4; ++i)
        v.push_back(attribute_check(pab_ids[i], "S3 public access block sets " + k_pab[i],
                                    {"aws_s3_bucket_public_access_block"}, k_pab[i], "true"));
    v.push_back({"CKV_AWS_20", "S3 bucket ACL does not allow public read", {"aws_s3_bucket", "aws_s3_bucket_acl"},
                 [](const Module& m, const std::string& f, const Block& b) { return public_acl(unquote(expr_of(m, f, b, "acl"))); },
                 [](FixContext& c) {
                     set(c, c.block, "acl", "\"private\"");
                     c.notes.push_back("The bucket is no longer public: serve public content through CloudFront instead.");
                 }});

    const std::vector<std::string> sg_types = {"aws_security_group", "aws_security_group_rule",
                                               "aws_vpc_security_group_ingress_rule"};
    v.push_back({"CKV_AWS_24", "No security group allows ingress from 0.0.0.0/0 to port 22", sg_types, fails_port(22),
                 fix_port(22, "allowed_ssh_cidr_blocks", "SSH (port 22)")});
    v.push_back({"CKV_AWS_25", "No security group allows ingress from 0.0.0.0/0 to port 3389", sg_types, fails_port(3389),
                 fix_port(3389, "allowed_rdp_cidr_blocks", "RDP (port 3389)")});
    v.push_back({"CKV_AWS_260", "No security group allows ingress from 0.0.0.0/0 to port 80", sg_types, fails_port(80),
                 fix_port(80, "allowed_http_cidr_blocks", "HTTP (port 80)")});
    v.push_back({"CKV_AWS_277", "No security group allows ingress from 0.0.0.0/0 to all ports", sg_types, fails_port(-1),
                 fix_port(-1, "allowed_ingress_cidr_blocks", "every port")});
    v.push_back({"CKV_AWS_23", "Security group and rules have descriptions", {"aws_security_group", "aws_security_group_rule"},
                 missing_descriptions, fix_descriptions});

    const std::vector<std::string> rds = {"aws_db_instance"};
    v.push_back(attribute_check("CKV_AWS_16", "RDS instance storage encrypted", rds, "storage_encrypted", "true",
                                "storage_encrypted forces a new database: restore from a snapshot or migrate, with a maintenance window."));
    v.push_back(attribute_check("CKV_AWS_17", "RDS instance not publicly accessible", {"aws_db_instance", "aws_rds_cluster_instance"},
                                "publicly_accessible", "false"));
    v.push_back(attribute_check("CKV_AWS_133", "RDS instance has backup retention", rds, "backup_retention_period", "7", {},
                                [](const std::string& e) { return num(e) >= 1; }));
    v.push_back(attribute_check("CKV_AWS_293", "RDS instance has deletion protection", rds, "deletion_protection", "true"));
    v.push_back(attribute_check("CKV_AWS_157", "RDS instance is Multi-AZ", rds, "multi_az", "true",
                                "Multi-AZ adds a standby instance and its cost."));
    v.push_back(attribute_check("CKV_AWS_226", "RDS instance upgrades minor versions automatically", rds,
                                "auto_minor_version_upgrade", "true", {},
                                [](const std::string& e) { return e.empty() || e == "true"; }));

    v.push_back(attribute_check("CKV_AWS_3", "EBS volume encrypted", {"aws_ebs_volume"}, "encrypted", "true",
                                "Encrypting an existing volume replaces it: snapshot and restore."));
    v.push_back({"CKV_AWS_8", "EC2 instance and launch configuration block devices encrypted",
                 {"aws_instance", "aws_launch_configuration"}, unencrypted_devices, fix_devices});
    v.push_back({"CKV_AWS_79", "EC2 instance metadata service requires tokens (IMDSv2)",
                 {"aws_instance", "aws_launch_template", "aws_launch_configuration"}, imds_v1, fix_imds});
    v.push_back(attribute_check("CKV_AWS_126", "EC2 instance detailed monitoring enabled", {"aws_instance"}, "monitoring", "true"));
    v.push_back(attribute_check("CKV_AWS_135", "EC2 instance is EBS optimized", {"aws_instance"}, "ebs_optimized", "true"));

    v.push_back(attribute_check("CKV_AWS_7", "KMS key rotation enabled", {"aws_kms_key"}, "enable_key_rotation", "true"));
    v.push_back(attribute_check("CKV_AWS_36", "CloudTrail log file validation enabled", {"aws_cloudtrail"},
                                "enable_log_file_validation", "true"));
    Check trail = attribute_check("CKV_AWS_35", "CloudTrail logs encrypted with KMS", {"aws_cloudtrail"}, "kms_key_id",
                                  "var.cloudtrail_kms_key_arn", {}, [](const std::string& e) { return !e.empty(); });
    auto base_fix = trail.fix;
    trail.fix = [base_fix](FixContext& c) {
        base_fix(c);
        c.variables.push_back({"cloudtrail_kms_key_arn",
                               "variable \"cloudtrail_kms_key_arn\" {\n"
                               "  description = \"ARN of the KMS key that encrypts CloudTrail logs (its policy must allow CloudTrail).\"\n"
                               "  type        = string\n"
                               "}\n"});
        c.notes.push_back("Set var.cloudtrail_kms_key_arn to a key whose policy lets CloudTrail encrypt with it.");
    };
    v.push_back(trail);
    return v;
}

}  // namespace

const std::vector<Check>& checks()
{
    static const std::vector<Check> k_checks = build();
    return k_checks;
}

const Check* find_check(const std::string& id)
{
    for (const auto& c : checks())
        if (c.id == id) return &c;
    return nullptr;
}

}  // namespace infra::plugins::agents::builtin
