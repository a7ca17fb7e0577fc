#include "core/scanner_rules.hpp"

#include "core/text.hpp"

#include <cctype>
#include <unordered_map>

namespace infra::core::scanner_rules {
namespace {

// Sources: Checkov's check definitions, the tfsec/Trivy check ids they
// correspond to, and ../shared notes on AWS provider v4 fixes.
const std::vector<Rule>& table()
{
    static const std::vector<Rule> k_rules = {
        {"CKV_AWS_19",
         "S3 bucket encrypted at rest",
         "high",
         {"AVD-AWS-0088", "aws-s3-enable-bucket-encryption", "s3_bucket_default_encryption"}},
        {"CKV_AWS_145",
         "S3 bucket encrypted with KMS by default",
         "medium",
         {"AVD-AWS-0132", "aws-s3-encryption-customer-key"}},
        {"CKV_AWS_18",
         "S3 bucket access logging enabled",
         "low",
         {"AVD-AWS-0089", "aws-s3-enable-bucket-logging", "s3_bucket_server_access_logging_enabled"}},
        {"CKV_AWS_21",
         "S3 bucket versioning enabled",
         "medium",
         {"AVD-AWS-0090", "aws-s3-enable-versioning", "s3_bucket_object_versioning"}},
        {"CKV2_AWS_6",
         "S3 bucket has a public access block",
         "high",
         {"AVD-AWS-0094", "aws-s3-specify-public-access-block", "s3_bucket_level_public_access_block"}},
        {"CKV_AWS_53",
         "S3 public access block blocks public ACLs",
         "high",
         {"AVD-AWS-0086", "aws-s3-block-public-acls"}},
        {"CKV_AWS_54",
         "S3 public access block blocks public policy",
         "high",
         {"AVD-AWS-0087", "aws-s3-block-public-policy"}},
        {"CKV_AWS_55",
         "S3 public access block ignores public ACLs",
         "high",
         {"AVD-AWS-0091", "aws-s3-ignore-public-acls"}},
        {"CKV_AWS_56",
         "S3 public access block restricts public buckets",
         "high",
         {"AVD-AWS-0093", "aws-s3-no-public-buckets"}},
        {"CKV_AWS_20",
         "S3 bucket ACL does not allow public read",
         "critical",
         {"AVD-AWS-0092", "aws-s3-no-public-access-with-acl"}},
        {"CKV_AWS_24", "No security group allows ingress from 0.0.0.0/0 to port 22", "high", {}},
        {"CKV_AWS_25", "No security group allows ingress from 0.0.0.0/0 to port 3389", "high", {}},
        {"CKV_AWS_260", "No security group allows ingress from 0.0.0.0/0 to port 80", "medium", {}},
        {"CKV_AWS_277", "No security group allows ingress from 0.0.0.0/0 to all ports", "critical", {}},
        {"CKV_AWS_23",
         "Security group and rules have descriptions",
         "low",
         {"AVD-AWS-0124", "aws-ec2-add-description-to-security-group-rule", "AVD-AWS-0099",
          "aws-ec2-add-description-to-security-group"}},
        {"CKV_AWS_16",
         "RDS instance storage encrypted",
         "high",
         {"AVD-AWS-0080", "aws-rds-encrypt-instance-storage-data", "rds_instance_storage_encrypted"}},
        {"CKV_AWS_17", "RDS instance not publicly accessible", "critical", {"rds_instance_no_public_access"}},
        {"CKV_AWS_133",
         "RDS instance has backup retention",
         "medium",
         {"AVD-AWS-0077", "aws-rds-specify-backup-retention", "rds_instance_backup_enabled"}},
        {"CKV_AWS_3",
         "EBS volume encrypted",
         "high",
         {"AVD-AWS-0026", "aws-ec2-enable-volume-encryption", "ec2_ebs_volume_encryption"}},
        {"CKV_AWS_8",
         "EC2 instance and launch configuration block devices encrypted",
         "high",
         {"AVD-AWS-0131", "aws-ec2-enable-at-rest-encryption", "AVD-AWS-0008",
          "aws-ec2-enable-launch-config-at-rest-encryption"}},
        {"CKV_AWS_79",
         "EC2 instance metadata service requires tokens (IMDSv2)",
         "high",
         {"AVD-AWS-0028", "aws-ec2-enforce-http-token-imds", "ec2_instance_imdsv2_enabled"}},
        {"CKV_AWS_35",
         "CloudTrail logs encrypted with KMS",
         "medium",
         {"AVD-AWS-0015", "aws-cloudtrail-encryption-customer-key", "cloudtrail_kms_encryption_enabled"}},
        {"CKV_AWS_36",
         "CloudTrail log file validation enabled",
         "medium",
         {"AVD-AWS-0016", "aws-cloudtrail-enable-log-validation", "cloudtrail_log_file_validation_enabled"}},
        {"CKV_AWS_7",
         "KMS key rotation enabled",
         "medium",
         {"AVD-AWS-0065", "aws-kms-auto-rotate-keys", "kms_cmk_rotation_enabled"}},
        {"CKV_AWS_40", "IAM policies attached only to groups or roles", "medium", {}},
        {"CKV_AWS_62", "IAM policy does not allow full '*:*' administrative privileges", "critical", {}},
        {"CKV_AWS_63", "IAM policy does not allow '*' as an action", "high", {}},
        {"CKV_AWS_274", "AdministratorAccess policy not attached", "critical", {}},
        {"CKV_AWS_144", "S3 bucket has cross-region replication", "low", {}},
        {"CKV2_AWS_61", "S3 bucket has a lifecycle configuration", "low", {}},
        {"CKV2_AWS_62", "S3 bucket has event notifications", "low", {}},
        {"CKV_AWS_126",
         "EC2 instance detailed monitoring enabled",
         "low",
         {"ec2_instance_detailed_monitoring_enabled"}},
        {"CKV_AWS_293", "RDS instance has deletion protection", "medium", {"rds_instance_deletion_protection"}},
        {"CKV_AWS_157", "RDS instance is Multi-AZ", "medium", {"rds_instance_multi_az"}},
        {"CKV_AWS_226",
         "RDS instance upgrades minor versions automatically",
         "low",
         {"rds_instance_minor_version_upgrade_enabled"}},
        {"CKV_AWS_135", "EC2 instance is EBS optimized", "low", {}},
        {"CKV_AWS_5",
         "OpenSearch domain encrypted at rest",
         "high",
         {"AVD-AWS-0048", "aws-elastic-search-enable-domain-encryption",
          "opensearch_service_domains_encryption_at_rest_enabled"}},
        {"CKV_AWS_6",
         "OpenSearch domain encrypts node-to-node traffic",
         "high",
         {"AVD-AWS-0043", "aws-elastic-search-enable-in-transit-encryption",
          "opensearch_service_domains_node_to_node_encryption_enabled"}},
        {"CKV_AWS_83",
         "OpenSearch domain enforces HTTPS",
         "high",
         {"AVD-AWS-0046", "aws-elastic-search-enforce-https",
          "opensearch_service_domains_https_communications_enforced"}},
        {"CKV_AWS_228",
         "OpenSearch domain requires TLS 1.2 or later",
         "high",
         {"AVD-AWS-0126", "aws-elastic-search-use-secure-tls-policy"}},
        {"CKV_AWS_26",
         "SNS topic encrypted",
         "high",
         {"AVD-AWS-0095", "aws-sns-enable-topic-encryption", "sns_topics_kms_encryption_at_rest_enabled"}},
        {"CKV_AWS_27",
         "SQS queue encrypted",
         "high",
         {"AVD-AWS-0096", "aws-sqs-enable-queue-encryption", "sqs_queues_server_side_encryption_enabled"}},
        {"CKV_AWS_51",
         "ECR repository tags are immutable",
         "high",
         {"AVD-AWS-0031", "aws-ecr-enforce-immutable-repository"}},
        {"CKV_AWS_158",
         "CloudWatch log group encrypted with KMS",
         "low",
         {"AVD-AWS-0017", "aws-cloudwatch-log-group-customer-key", "cloudwatch_log_group_kms_encryption_enabled"}},
        {"CKV_AWS_338",
         "CloudWatch log group keeps logs at least a year",
         "low",
         {"cloudwatch_log_group_retention_policy_specific_days_enabled"}},
        {"CKV_AWS_119",
         "DynamoDB table encrypted with a customer managed KMS key",
         "low",
         {"AVD-AWS-0025", "aws-dynamodb-table-customer-key", "dynamodb_tables_kms_cmk_encryption_enabled"}},
        {"CKV_AWS_47",
         "DAX cluster encrypted at rest",
         "high",
         {"AVD-AWS-0023", "aws-dynamodb-enable-at-rest-encryption", "dynamodb_accelerator_cluster_encryption_enabled"}},
        {"CKV_AWS_131", "ALB drops invalid HTTP headers", "high", {"AVD-AWS-0052", "aws-elb-drop-invalid-headers"}},
        {"CKV_AWS_150", "Load balancer has deletion protection", "medium", {"elbv2_deletion_protection"}},
        {"CKV_AWS_328",
         "Load balancer uses defensive or strictest desync mitigation",
         "medium",
         {"elbv2_desync_mitigation_mode"}},
        {"CKV_AWS_43",
         "Kinesis stream encrypted",
         "high",
         {"AVD-AWS-0064", "aws-kinesis-enable-in-transit-encryption"}},
        {"CKV_AWS_50", "Lambda function traces with X-Ray", "low", {"AVD-AWS-0066", "aws-lambda-enable-tracing"}},
        {"CKV_AWS_161",
         "RDS instance has IAM database authentication",
         "medium",
         {"AVD-AWS-0176", "aws-rds-enable-iam-auth", "rds_instance_iam_authentication_enabled"}},
        {"CKV_AWS_129",
         "RDS instance exports its logs to CloudWatch",
         "medium",
         {"rds_instance_integration_cloudwatch_logs"}},
        {"CKV_AWS_353",
         "RDS instance has Performance Insights enabled",
         "low",
         {"AVD-AWS-0133", "aws-rds-enable-performance-insights"}},
        {"CKV_AWS_149",
         "Secrets Manager secret encrypted with a customer managed KMS key",
         "low",
         {"AVD-AWS-0098", "aws-ssm-secret-use-customer-key"}},
        {"CKV_AWS_189",
         "EBS volume encrypted with a customer managed KMS key",
         "low",
         {"AVD-AWS-0027", "aws-ec2-volume-encryption-customer-key"}},
        {"CKV_AWS_106", "EBS encryption by default enabled", "high", {"ec2_ebs_default_encryption"}},
        {"CKV_AWS_134",
         "ElastiCache Redis cluster keeps automatic backups",
         "medium",
         {"AVD-AWS-0050", "aws-elasticache-enable-backup-retention", "elasticache_redis_cluster_backup_enabled"}},
        {"CKV_AWS_68",
         "CloudFront distribution has a WAF web ACL",
         "high",
         {"AVD-AWS-0011", "aws-cloudfront-enable-waf"}},
        {"CKV_AWS_120", "API Gateway stage caching enabled", "low", {"AVD-AWS-0190", "aws-api-gateway-enable-cache"}},
        {"CKV_AWS_206",
         "API Gateway domain uses a modern TLS security policy",
         "high",
         {"AVD-AWS-0005", "aws-api-gateway-use-secure-tls-policy"}},
        {"CKV_AWS_78",
         "CodeBuild project artifacts stay encrypted",
         "high",
         {"AVD-AWS-0018", "aws-codebuild-enable-encryption"}},
        {"CKV_AWS_48", "MQ broker logs general activity", "low", {"AVD-AWS-0071", "aws-mq-enable-general-logging"}},
        {"CKV_AWS_197", "MQ broker logs audit events", "medium", {"AVD-AWS-0070", "aws-mq-enable-audit-logging"}},
        {"CKV_AWS_156",
         "WorkSpaces root volume encrypted",
         "high",
         {"AVD-AWS-0109", "aws-workspaces-enable-disk-encryption"}},
        {"CKV_AWS_85",
         "DocumentDB cluster exports audit and profiler logs",
         "medium",
         {"AVD-AWS-0020", "aws-documentdb-enable-log-export"}},
        {"CKV_AWS_182",
         "DocumentDB cluster encrypted with a customer managed KMS key",
         "low",
         {"AVD-AWS-0022", "aws-documentdb-encryption-customer-key"}},
        {"CKV_AWS_238", "GuardDuty detector enabled", "medium", {"guardduty_is_enabled"}},
        {"CKV_AWS_343",
         "Redshift cluster takes automatic snapshots",
         "medium",
         {"redshift_cluster_automated_snapshot"}},
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
    bool looks_short =
        avd ||
        (id.find('/') == std::string::npos &&
         (id.find('_') != std::string::npos || (id.size() < 16 && std::isupper(static_cast<unsigned char>(id[0])))));
    if (looks_short)
        for (auto& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return id;
}

const std::vector<Rule>& catalogue()
{
    return table();
}

}  // namespace infra::core::scanner_rules
