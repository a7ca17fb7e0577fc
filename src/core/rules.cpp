#include "core/rules.hpp"

#include "core/text.hpp"

#include <cctype>
#include <unordered_map>

namespace infra::core::rules {
namespace {

// Sources: Checkov's check definitions, the tfsec/Trivy check ids they
// correspond to, and ../shared notes on AWS provider v4 fixes.
const std::vector<Rule>& table()
{
    static const std::vector<Rule> k_rules = {
        {"CKV_AWS_19", "S3 bucket encrypted at rest", "high",
         {"AVD-AWS-0088", "aws-s3-enable-bucket-encryption"}},
        {"CKV_AWS_145", "S3 bucket encrypted with KMS by default", "medium",
         {"AVD-AWS-0132", "aws-s3-encryption-customer-key"}},
        {"CKV_AWS_18", "S3 bucket access logging enabled", "low",
         {"AVD-AWS-0089", "aws-s3-enable-bucket-logging"}},
        {"CKV_AWS_21", "S3 bucket versioning enabled", "medium",
         {"AVD-AWS-0090", "aws-s3-enable-versioning"}},
        {"CKV2_AWS_6", "S3 bucket has a public access block", "high",
         {"AVD-AWS-0094", "aws-s3-specify-public-access-block"}},
        {"CKV_AWS_53", "S3 public access block blocks public ACLs", "high",
         {"AVD-AWS-0086", "aws-s3-block-public-acls"}},
        {"CKV_AWS_54", "S3 public access block blocks public policy", "high",
         {"AVD-AWS-0087", "aws-s3-block-public-policy"}},
        {"CKV_AWS_55", "S3 public access block ignores public ACLs", "high",
         {"AVD-AWS-0091", "aws-s3-ignore-public-acls"}},
        {"CKV_AWS_56", "S3 public access block restricts public buckets", "high",
         {"AVD-AWS-0093", "aws-s3-no-public-buckets"}},
        {"CKV_AWS_20", "S3 bucket ACL does not allow public read", "critical",
         {"AVD-AWS-0092", "aws-s3-no-public-access-with-acl"}},
        {"CKV_AWS_24", "No security group allows ingress from 0.0.0.0/0 to port 22", "high", {}},
        {"CKV_AWS_25", "No security group allows ingress from 0.0.0.0/0 to port 3389", "high", {}},
        {"CKV_AWS_260", "No security group allows ingress from 0.0.0.0/0 to port 80", "medium", {}},
        {"CKV_AWS_277", "No security group allows ingress from 0.0.0.0/0 to all ports", "critical", {}},
        {"CKV_AWS_23", "Security group and rules have descriptions", "low",
         {"AVD-AWS-0124", "aws-ec2-add-description-to-security-group-rule", "AVD-AWS-0099",
          "aws-ec2-add-description-to-security-group"}},
        {"CKV_AWS_16", "RDS instance storage encrypted", "high",
         {"AVD-AWS-0080", "aws-rds-encrypt-instance-storage-data"}},
        {"CKV_AWS_17", "RDS instance not publicly accessible", "critical", {}},
        {"CKV_AWS_133", "RDS instance has backup retention", "medium",
         {"AVD-AWS-0077", "aws-rds-specify-backup-retention"}},
        {"CKV_AWS_3", "EBS volume encrypted", "high",
         {"AVD-AWS-0026", "aws-ec2-enable-volume-encryption"}},
        {"CKV_AWS_8", "EC2 instance and launch configuration block devices encrypted", "high",
         {"AVD-AWS-0131", "aws-ec2-enable-at-rest-encryption", "AVD-AWS-0008",
          "aws-ec2-enable-launch-config-at-rest-encryption"}},
        {"CKV_AWS_79", "EC2 instance metadata service requires tokens (IMDSv2)", "high",
         {"AVD-AWS-0028", "aws-ec2-enforce-http-token-imds"}},
        {"CKV_AWS_35", "CloudTrail logs encrypted with KMS", "medium",
         {"AVD-AWS-0015", "aws-cloudtrail-encryption-customer-key"}},
        {"CKV_AWS_36", "CloudTrail log file validation enabled", "medium",
         {"AVD-AWS-0016", "aws-cloudtrail-enable-log-validation"}},
        {"CKV_AWS_7", "KMS key rotation enabled", "medium",
         {"AVD-AWS-0065", "aws-kms-auto-rotate-keys"}},
        {"CKV_AWS_40", "IAM policies attached only to groups or roles", "medium", {}},
        {"CKV_AWS_62", "IAM policy does not allow full '*:*' administrative privileges", "critical", {}},
        {"CKV_AWS_63", "IAM policy does not allow '*' as an action", "high", {}},
        {"CKV_AWS_274", "AdministratorAccess policy not attached", "critical", {}},
        {"CKV_AWS_144", "S3 bucket has cross-region replication", "low", {}},
        {"CKV2_AWS_61", "S3 bucket has a lifecycle configuration", "low", {}},
        {"CKV2_AWS_62", "S3 bucket has event notifications", "low", {}},
        {"CKV_AWS_126", "EC2 instance detailed monitoring enabled", "low", {}},
        {"CKV_AWS_293", "RDS instance has deletion protection", "medium", {}},
        {"CKV_AWS_157", "RDS instance is Multi-AZ", "medium", {}},
        {"CKV_AWS_226", "RDS instance upgrades minor versions automatically", "low", {}},
        {"CKV_AWS_135", "EC2 instance is EBS optimized", "low", {}},
    };
    return k_rules;
}

std::string key_of(std::string_view id)
{
    std::string k = text::lower(text::trim(id));
    if (k.rfind("avd-", 0) == 0) k = k.substr(4);
    return k;
}

const std::unordered_map<std::string, const Rule*>& index()
{
    static const auto k_index = [] {
        std::unordered_map<std::string, const Rule*> m;
        for (const auto& r : table()) {
            m.emplace(key_of(r.id), &r);
            for (auto a : r.aliases) m.emplace(key_of(a), &r);
        }
        return m;
    }();
    return k_index;
}

}  // namespace

const Rule* find(std::string_view rule_id)
{
    auto it = index().find(key_of(rule_id));
    return it == index().end() ? nullptr : it->second;
}

std::string canonical_id(std::string_view rule_id)
{
    if (const Rule* r = find(rule_id)) return std::string(r->id);
    std::string id(text::trim(rule_id));
    bool avd = id.size() > 4 && text::lower(id.substr(0, 4)) == "avd-";
    if (avd) id = id.substr(4);
    // Scanner ids such as AWS-0107 or CKV_K8S_40 are upper case; long ids
    // (aws-ec2-...) and CodeQL ids (java/sql-injection) keep their case.
    bool looks_short = avd || (id.find('/') == std::string::npos &&
                       (id.find('_') != std::string::npos ||
                        (id.size() < 16 && std::isupper(static_cast<unsigned char>(id[0])))));
    if (looks_short)
        for (auto& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return id;
}

const std::vector<Rule>& catalogue() { return table(); }

}  // namespace infra::core::rules
