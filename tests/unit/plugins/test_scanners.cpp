// Scanner reports: Checkov, SARIF, Trivy, tfsec and Prowler, against the
// real reports in tests/fixtures/samples.
#include "core/scanner_rules.hpp"
#include "core/signals/tasks.hpp"
#include "support/fixtures.hpp"
#include "support/ingest.hpp"

#include <gtest/gtest.h>

using namespace infra;
using infra::test::ingest;
using infra::test::ingest_file;
using infra::test::sample;

namespace {

std::vector<std::string> rules_of(const test::Ingested& r)
{
    std::vector<std::string> out;
    for (const auto& t : r.tasks) out.push_back(t.payload["finding"]["canonicalRuleId"]);
    return out;
}

const core::json& finding(const core::AgentTask& t)
{
    return t.payload.at("finding");
}

}  // namespace

TEST(Checkov, ListFormReportGivesOneTaskPerFailedCheck)
{
    auto r = ingest_file("checkov", sample("scanners/checkov/list-form-report.json").string());
    ASSERT_TRUE(r.status) << r.status.error().message;
    ASSERT_EQ(r.tasks.size(), 8u);  // summary.failed of the terraform framework; the others have none
    const auto& t = r.tasks[0];
    EXPECT_EQ(t.type, core::TaskType::compliance_remediation);
    EXPECT_EQ(t.trigger.provider, "checkov");
    EXPECT_EQ(t.context.resource, "aws_s3_bucket.security_logs");
    EXPECT_EQ(finding(t)["ruleId"], "CKV2_AWS_6");
    EXPECT_EQ(finding(t)["file"], "main.tf");
    EXPECT_EQ(finding(t)["startLine"], 6);
    EXPECT_EQ(finding(t)["endLine"], 8);
    EXPECT_EQ(finding(t)["framework"], "terraform");
    // Checkov reports no severity without a platform key; the catalogue's is used.
    EXPECT_EQ(finding(t)["severity"], "high");
    EXPECT_EQ(t.context.priority, core::Priority::high);
    EXPECT_EQ(t.dedupe_key.size(), 32u);
}

TEST(Checkov, SuppressedChecksAreNotTasks)
{
    auto r = ingest_file("checkov", sample("scanners/checkov/with-suppressions-report.json").string());
    ASSERT_TRUE(r.status);
    ASSERT_EQ(r.tasks.size(), 1u);  // three skipped checks, one failed kubernetes check
    EXPECT_EQ(finding(r.tasks[0])["ruleId"], "CKV_K8S_40");
    EXPECT_EQ(finding(r.tasks[0])["file"], "k8s/juice-shop.yaml");
    EXPECT_EQ(finding(r.tasks[0])["framework"], "kubernetes");
}

TEST(Checkov, SingleObjectFormAndEnvironmentFromTags)
{
    auto r = ingest("checkov", R"({"check_type":"terraform","results":{"failed_checks":[
      {"check_id":"CKV_AWS_18","resource":"aws_s3_bucket.b","repo_file_path":"/envs/staging/s3.tf",
       "file_line_range":[1,4],"check_result":{"result":"FAILED"},"entity_tags":{"Environment":"prod"}},
      {"check_id":"CKV_AWS_21","resource":"aws_s3_bucket.b","repo_file_path":"/envs/staging/s3.tf",
       "file_line_range":[1,4],"check_result":{"result":"FAILED"},"entity_tags":null}]}})");
    ASSERT_TRUE(r.status) << r.status.error().message;
    ASSERT_EQ(r.tasks.size(), 2u);
    EXPECT_EQ(r.tasks[0].context.environment, "production");  // tags win over the path
    EXPECT_EQ(r.tasks[1].context.environment, "staging");     // from envs/staging/
}

TEST(Checkov, ARecordWithoutCheckIdRejectsTheWholeReport)
{
    std::string report = R"({"check_type":"terraform","results":{"failed_checks":[
      {"check_id":"CKV_AWS_18","file_line_range":[1,2]},{"resource":"x"}]}})";
    auto r = ingest("checkov", report);
    ASSERT_FALSE(r.status);
    EXPECT_EQ(r.status.error().code, core::Errc::invalid_input);
    EXPECT_NE(r.status.error().message.find("line 2 (results.failed_checks.1): check_id: missing"), std::string::npos)
        << r.status.error().message;
    EXPECT_TRUE(r.tasks.empty());
    EXPECT_EQ(r.aborted, 1u);

    core::signals::IngestOptions keep;
    keep.keep_going = true;
    auto k = ingest("checkov", report, keep);
    EXPECT_TRUE(k.status);
    EXPECT_EQ(k.tasks.size(), 1u);
    EXPECT_EQ(k.rejected.size(), 1u);
}

TEST(Checkov, SomethingElseIsNotACheckovReport)
{
    auto r = ingest("checkov", R"({"SchemaVersion":2,"Results":[]})");
    ASSERT_FALSE(r.status);
    EXPECT_NE(r.status.error().message.find("not a Checkov report"), std::string::npos);
}

TEST(Sarif, CheckovSarifWithoutToolStillIngests)
{
    auto r = ingest_file("sarif", sample("scanners/sarif/checkov-openapi.sarif").string());
    ASSERT_TRUE(r.status) << r.status.error().message;
    ASSERT_EQ(r.tasks.size(), 12u);
    EXPECT_EQ(finding(r.tasks[0])["ruleId"], "CKV_OPENAPI_4");
    EXPECT_EQ(finding(r.tasks[0])["file"], "v2/swagger_empty_paths.yaml");
    EXPECT_EQ(finding(r.tasks[0])["startLine"], 2);
    EXPECT_EQ(finding(r.tasks[0])["severity"], "high");  // level "error"
    EXPECT_EQ(r.tasks[0].trigger.provider, "sarif");
}

TEST(Sarif, SkipsPassingSuppressedAndFixedResults)
{
    auto r = ingest("sarif", R"({"version":"2.1.0","runs":[{"tool":{"driver":{"name":"tfsec","rules":[
        {"id":"aws-s3-enable-versioning","properties":{"security-severity":"5.5"}}]}},"results":[
      {"ruleIndex":0,"level":"warning","message":{"text":"no versioning"},
       "locations":[{"physicalLocation":{"artifactLocation":{"uri":"file:///src/s3%20x.tf"},"region":{"startLine":3}}}]},
      {"ruleId":"r2","kind":"pass"},
      {"ruleId":"r3","suppressions":[{"kind":"inSource"}]},
      {"ruleId":"r4","baselineState":"absent"}]}]})");
    ASSERT_TRUE(r.status) << r.status.error().message;
    ASSERT_EQ(r.tasks.size(), 1u);
    EXPECT_EQ(r.skipped.size(), 3u);
    EXPECT_EQ(finding(r.tasks[0])["ruleId"], "aws-s3-enable-versioning");
    EXPECT_EQ(finding(r.tasks[0])["canonicalRuleId"], "CKV_AWS_21");
    EXPECT_EQ(finding(r.tasks[0])["file"], "/src/s3 x.tf");
    EXPECT_EQ(r.tasks[0].trigger.provider, "tfsec");
}

TEST(Sarif, OtherVersionsAreRefused)
{
    auto r = ingest("sarif", R"({"version":"2.0.0","runs":[{"results":[{"ruleId":"x"}]}]})");
    ASSERT_FALSE(r.status);
    EXPECT_NE(r.status.error().message.find("expected SARIF 2.1.0"), std::string::npos);
}

TEST(Trivy, BothIdFormsMapToTheSameRules)
{
    auto now = ingest_file("trivy", sample("scanners/trivy/terraform-remote-module.json.golden").string());
    auto old =
        ingest_file("trivy", sample("scanners/trivy/terraform-remote-module.json.golden.pre-trivy-checks-v2").string());
    ASSERT_TRUE(now.status);
    ASSERT_TRUE(old.status);
    EXPECT_EQ(rules_of(now), (std::vector<std::string>{"CKV_AWS_18", "CKV_AWS_21", "CKV_AWS_145"}));
    ASSERT_GE(old.tasks.size(), 3u);
    // The same misconfiguration gets the same key whichever trivy-checks named it.
    for (const auto& t : now.tasks) {
        bool found = false;
        for (const auto& o : old.tasks) found = found || o.dedupe_key == t.dedupe_key;
        EXPECT_TRUE(found) << core::to_json(t).dump();
    }
    const auto& t = now.tasks[0];
    EXPECT_EQ(finding(t)["file"], "terraform-aws-modules/s3-bucket/aws/main.tf");
    EXPECT_EQ(t.context.resource, "module.bucket");
    EXPECT_EQ(finding(t)["severity"], "low");
    EXPECT_EQ(t.context.priority, core::Priority::low);
}

TEST(Trivy, AReportWithoutFailuresHasNoTasks)
{
    auto r =
        ingest_file("trivy", sample("scanners/trivy/terraform-exclude-misconfs-remote-module.json.golden").string());
    ASSERT_TRUE(r.status);
    EXPECT_TRUE(r.tasks.empty());
}

TEST(Tfsec, AbsolutePathsAreMadeRelativeWithRoot)
{
    core::signals::IngestOptions opt;
    opt.path_root = "/home/kali/Desktop/aws_demo";
    auto r = ingest_file("tfsec", sample("scanners/tfsec/webserver-results.json").string(), opt);
    ASSERT_TRUE(r.status);
    ASSERT_EQ(r.tasks.size(), 6u);
    EXPECT_EQ(finding(r.tasks[0])["file"], "main.tf");
    EXPECT_EQ(finding(r.tasks[1])["canonicalRuleId"], "CKV_AWS_8");  // AVD-AWS-0131
    EXPECT_EQ(r.tasks[3].context.priority, core::Priority::critical);
}

TEST(Prowler, FailedFindingsOnlyWithComplianceKept)
{
    auto r = ingest_file("prowler", sample("scanners/prowler/example_output_aws.ocsf.json").string());
    ASSERT_TRUE(r.status) << r.status.error().message;
    ASSERT_EQ(r.tasks.size(), 2u);  // 2 FAIL, 3 MANUAL
    EXPECT_EQ(r.skipped.size(), 3u);
    const auto& f = finding(r.tasks[0]);
    EXPECT_EQ(f["ruleId"], "accessanalyzer_enabled");
    EXPECT_EQ(f["framework"], "cloud:aws");
    EXPECT_TRUE(f.contains("compliance"));
    EXPECT_EQ(r.tasks[0].context.priority, core::Priority::low);
}

TEST(Prowler, EveryCloudSampleIngests)
{
    for (auto name : {"azure", "gcp", "kubernetes"}) {
        auto r = ingest_file("prowler",
                             sample(std::string("scanners/prowler/example_output_") + name + ".ocsf.json").string());
        ASSERT_TRUE(r.status) << name << ": " << r.status.error().message;
        EXPECT_FALSE(r.tasks.empty()) << name;
        for (const auto& t : r.tasks) EXPECT_EQ(t.type, core::TaskType::compliance_remediation);
    }
}

TEST(Prowler, JsonLinesWork)
{
    auto r = ingest("prowler", "{\"metadata\":{\"event_code\":\"a\"},\"status_code\":\"FAIL\",\"severity\":\"High\"}\n"
                               "{\"metadata\":{\"event_code\":\"b\"},\"status_code\":\"PASS\"}\n");
    ASSERT_TRUE(r.status);
    ASSERT_EQ(r.tasks.size(), 1u);
    EXPECT_EQ(r.tasks[0].context.priority, core::Priority::high);
}

// The promise of the dedupe key: one resource and rule, one key, whether
// Checkov's JSON, its SARIF, or GitHub's code-scanning alert reported it.
TEST(DedupeKey, SameFindingFromCheckovSarifAndCodeScanningAgree)
{
    core::signals::IngestOptions opt;
    opt.repository_id = "Acme/Infra";
    auto checkov = ingest("checkov", R"({"check_type":"terraform","results":{"failed_checks":[
      {"check_id":"CKV_AWS_18","resource":"aws_s3_bucket.data","file_path":"/main.tf",
       "repo_file_path":"/terraform/main.tf","file_line_range":[12,20],"check_result":{"result":"FAILED"}}]}})",
                          opt);
    auto sarif = ingest("sarif", R"({"version":"2.1.0","runs":[{"tool":{"driver":{"name":"Checkov"}},"results":[
      {"ruleId":"CKV_AWS_18","level":"error","locations":[{"physicalLocation":{
        "artifactLocation":{"uri":"terraform/main.tf"},"region":{"startLine":12,"endLine":20}}}]}]}]})",
                        opt);
    auto alert_body = R"({"action":"created","commit_oid":"abc","alert":{"number":3,
      "rule":{"id":"CKV_AWS_18","severity":"error"},"tool":{"name":"Checkov"},
      "most_recent_instance":{"location":{"path":"terraform/main.tf","start_line":12,"end_line":20}}},
      "repository":{"full_name":"acme/infra","owner":{"login":"acme"}}})";
    core::signals::IngestOptions gh;
    gh.headers["x-github-event"] = "code_scanning_alert";
    auto alert = ingest("github", alert_body, gh);
    ASSERT_EQ(checkov.tasks.size(), 1u);
    ASSERT_EQ(sarif.tasks.size(), 1u);
    ASSERT_EQ(alert.tasks.size(), 1u) << (alert.status ? "" : alert.status.error().message);
    EXPECT_EQ(checkov.tasks[0].dedupe_key, sarif.tasks[0].dedupe_key);
    EXPECT_EQ(checkov.tasks[0].dedupe_key, alert.tasks[0].dedupe_key);
    // A different rule or file is different work.
    auto other = ingest("sarif", R"({"version":"2.1.0","runs":[{"results":[
      {"ruleId":"CKV_AWS_21","locations":[{"physicalLocation":{
        "artifactLocation":{"uri":"terraform/main.tf"},"region":{"startLine":12}}}]}]}]})",
                        opt);
    EXPECT_NE(other.tasks[0].dedupe_key, checkov.tasks[0].dedupe_key);
}

TEST(DedupeKey, TrivyAndCheckovIdsShareTheCatalogue)
{
    EXPECT_EQ(core::scanner_rules::canonical_id("AVD-AWS-0089"), "CKV_AWS_18");
    EXPECT_EQ(core::scanner_rules::canonical_id("AWS-0089"), "CKV_AWS_18");
    EXPECT_EQ(core::scanner_rules::canonical_id("aws-s3-enable-bucket-logging"), "CKV_AWS_18");
    EXPECT_EQ(core::scanner_rules::canonical_id("avd-aws-0107"), "AWS-0107");
    EXPECT_EQ(core::scanner_rules::canonical_id("java/sql-injection"), "java/sql-injection");
}

TEST(Environment, ComesFromPathsAndAliases)
{
    EXPECT_EQ(core::signals::environment_from_path("envs/prod/eu/main.tf"), "production");
    EXPECT_EQ(core::signals::environment_from_path("stage/main.tf"), "staging");
    EXPECT_EQ(core::signals::environment_from_path("prod.tf"), "");
    // Directories only, in any case, the deepest first; empty ones pass.
    EXPECT_EQ(core::signals::environment_from_path("/QA//modules/Dev/main.tf"), "development");
    EXPECT_EQ(core::signals::environment_from_path("/Staging/"), "staging");
    EXPECT_EQ(core::signals::environment_from_path("envs/production-eu/prod"), "");
    EXPECT_EQ(core::signals::environment_from_path("/"), "");
    EXPECT_EQ(core::signals::normalize_environment("PRD"), "production");
    EXPECT_EQ(core::signals::normalize_environment("prod-eu"), "prod-eu");
}
