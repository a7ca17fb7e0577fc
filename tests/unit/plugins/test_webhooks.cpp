// Webhooks and alerts: GitHub, Alertmanager, PagerDuty, CloudWatch via SNS,
// and the direct sources (chat, api, schedule).
#include "core/json_stream.hpp"
#include "core/signals/tasks.hpp"
#include "core/text.hpp"
#include "support/fixtures.hpp"
#include "support/ingest.hpp"

#include <gtest/gtest.h>

using namespace infra;
using infra::test::ingest;
using infra::test::read_file;
using infra::test::sample;

namespace {

constexpr const char* k_github_secret = "It's a Secret to Everybody";

core::signals::IngestOptions github_headers(const std::string& id)
{
    core::signals::IngestOptions opt;
    auto h = core::json_stream::parse_document(read_file(sample("github/deliveries/" + id + ".headers.json")), id);
    for (auto it = h->begin(); it != h->end(); ++it) opt.headers[core::text::lower(it.key())] = it->get<std::string>();
    return opt;
}

test::Ingested delivery(const std::string& id, bool with_secret = true)
{
    auto opt = github_headers(id);
    if (with_secret) opt.secret = k_github_secret;
    return ingest("github", read_file(sample("github/deliveries/" + id + ".body.json")), opt, id);
}

}  // namespace

TEST(GitHub, EverySampleDeliveryVerifiesAndIsATaskOrSkipped)
{
    auto index = core::json_stream::parse_document(read_file(sample("github/deliveries/INDEX.json")), "INDEX.json");
    ASSERT_TRUE(index);
    ASSERT_EQ((*index)["secret"], k_github_secret);
    int tasks = 0;
    for (const auto& item : (*index)["items"]) {
        auto r = delivery(item["id"]);
        ASSERT_TRUE(r.status) << item["id"] << ": " << r.status.error().message;
        EXPECT_EQ(r.tasks.size() + r.skipped.size() > 0, true) << item["id"];
        for (const auto& t : r.tasks) EXPECT_EQ(t.trigger.source_id, item["delivery"]);
        tasks += static_cast<int>(r.tasks.size());
    }
    EXPECT_EQ(tasks, 4);  // pull_request opened + synchronize, failed check_run, code_scanning_alert
}

TEST(WebhookBody, ReadsAsNlohmannsParserDoesAndExplainsWhatItCannotRead)
{
    auto read = [](std::string text) {
        auto src = core::ByteSource::from_string(std::move(text), "body.json");
        return core::signals::read_body(*src, core::signals::IngestOptions{});
    };
    auto index = core::json_stream::parse_document(read_file(sample("github/deliveries/INDEX.json")), "INDEX.json");
    ASSERT_TRUE(index);
    for (const auto& item : (*index)["items"]) {
        std::string text = read_file(sample("github/deliveries/" + item["id"].get<std::string>() + ".body.json"));
        auto body = read(text);
        ASSERT_TRUE(body) << item["id"] << ": " << body.error().message;
        EXPECT_EQ(body->dump(), nlohmann::json::parse(text).dump()) << item["id"];
    }
    // Numbers keep nlohmann's types: unsigned unless negative, beyond 64 bits a double.
    auto numbers = read(
        R"({"n": 7, "m": -7, "big": 18446744073709551615, "huge": 184467440737095516150, "x": 1.5, "s": "\u00e9"})");
    ASSERT_TRUE(numbers);
    EXPECT_TRUE((*numbers)["n"].is_number_unsigned());
    EXPECT_TRUE((*numbers)["m"].is_number_integer() && !(*numbers)["m"].is_number_unsigned());
    EXPECT_EQ((*numbers)["big"].get<std::uint64_t>(), 18446744073709551615u);
    EXPECT_TRUE((*numbers)["huge"].is_number_float());
    EXPECT_EQ((*numbers)["s"], "\u00e9");
    EXPECT_EQ(read(R"({"a": 1, "a": 2})")->at("a"), 2);

    auto broken = read("{\n  \"a\": [1, 2,\n}");
    ASSERT_FALSE(broken);
    EXPECT_EQ(broken.error().code, core::Errc::invalid_input);
    EXPECT_NE(broken.error().message.find("line 3"), std::string::npos) << broken.error().message;
    auto deep = read("{\"a\": " + std::string(300, '[') + std::string(300, ']') + "}");
    ASSERT_FALSE(deep);
    EXPECT_NE(deep.error().message.find("nesting deeper than"), std::string::npos) << deep.error().message;
    auto scalar = read("[1]");
    ASSERT_FALSE(scalar);
    EXPECT_NE(scalar.error().message.find("expected a JSON object"), std::string::npos);
}

TEST(GitHub, ATamperedBodyFailsTheSignature)
{
    auto opt = github_headers("pull_request.opened_1");
    opt.secret = k_github_secret;
    std::string body = read_file(sample("github/deliveries/pull_request.opened_1.body.json"));
    body[body.size() / 2] ^= 1;
    auto r = ingest("github", body, opt);
    ASSERT_FALSE(r.status);
    EXPECT_EQ(r.status.error().code, core::Errc::unauthenticated);
    EXPECT_NE(r.status.error().message.find("X-Hub-Signature-256 does not match"), std::string::npos);
    EXPECT_TRUE(r.tasks.empty());

    opt.secret = "another secret";
    EXPECT_FALSE(ingest("github", read_file(sample("github/deliveries/pull_request.opened_1.body.json")), opt).status);
    opt.headers.erase("x-hub-signature-256");
    opt.secret = k_github_secret;
    auto missing = ingest("github", read_file(sample("github/deliveries/pull_request.opened_1.body.json")), opt);
    EXPECT_NE(missing.status.error().message.find("missing X-Hub-Signature-256"), std::string::npos);
}

TEST(GitHub, PullRequestBecomesAReview)
{
    auto r = delivery("pull_request.opened_1");
    ASSERT_EQ(r.tasks.size(), 1u);
    const auto& t = r.tasks[0];
    EXPECT_EQ(t.type, core::TaskType::pr_review);
    EXPECT_EQ(t.trigger.source, "webhook");
    EXPECT_EQ(t.context.repository_id, "Codertocat/Hello-World");
    EXPECT_EQ(t.context.organization_id, "Codertocat");
    EXPECT_EQ(t.payload["number"], 2);
    EXPECT_EQ(t.context.agent_slug, "llm");
    // opened and synchronize of one PR are the same review.
    EXPECT_EQ(delivery("pull_request.synchronize_1").tasks[0].dedupe_key, t.dedupe_key);
}

TEST(GitHub, EventIsInferredWithoutTheHeader)
{
    core::signals::IngestOptions opt;
    auto r = ingest("github", read_file(sample("github/deliveries/check_run.completed_1.body.json")), opt);
    ASSERT_TRUE(r.status);
    ASSERT_EQ(r.tasks.size(), 1u);
    EXPECT_EQ(r.tasks[0].type, core::TaskType::incident_triage);
    EXPECT_EQ(r.tasks[0].payload["conclusion"], "failure");
}

TEST(GitHub, CommentCommandsAndLoopGuards)
{
    std::string body = read_file(sample("github/deliveries/issue_comment.created_1.body.json"));
    auto j = nlohmann::json::parse(body);
    core::signals::IngestOptions opt;
    opt.headers["x-github-event"] = "issue_comment";

    j["comment"]["body"] = "/infra-agent fix please encrypt the bucket\nthanks";
    auto fix = ingest("github", j.dump(), opt);
    ASSERT_EQ(fix.tasks.size(), 1u) << (fix.status ? "" : fix.status.error().message);
    EXPECT_EQ(fix.tasks[0].type, core::TaskType::chat);
    EXPECT_EQ(fix.tasks[0].payload["requestsChange"], true);
    EXPECT_EQ(fix.tasks[0].payload["message"], "please encrypt the bucket");

    j["comment"]["body"] = "/infra-agent deploy";
    auto bad = ingest("github", j.dump(), opt);
    ASSERT_FALSE(bad.status);
    EXPECT_NE(bad.status.error().message.find("unknown command 'deploy'"), std::string::npos);

    j["comment"]["body"] = "/infra-agentfix";
    EXPECT_TRUE(ingest("github", j.dump(), opt).tasks.empty());

    j["comment"]["body"] = "/infra-agent fix";
    j["comment"]["user"]["type"] = "Bot";
    auto bot = ingest("github", j.dump(), opt);
    EXPECT_TRUE(bot.tasks.empty());
    EXPECT_EQ(bot.skipped, (std::vector<std::string>{"comment by a bot"}));
}

TEST(GitHub, PushToTheDefaultBranchChecksDrift)
{
    std::string body = read_file(sample("github/deliveries/push.none_1.body.json"));
    auto j = nlohmann::json::parse(body);
    core::signals::IngestOptions opt;
    opt.headers["x-github-event"] = "push";
    EXPECT_TRUE(ingest("github", j.dump(), opt).tasks.empty());  // a tag push
    j["ref"] = "refs/heads/master";
    auto r = ingest("github", j.dump(), opt);
    ASSERT_EQ(r.tasks.size(), 1u);
    EXPECT_EQ(r.tasks[0].type, core::TaskType::drift_detection);
}

TEST(GitHub, OwnBranchesAreIgnored)
{
    auto j = nlohmann::json::parse(read_file(sample("github/deliveries/pull_request.opened_1.body.json")));
    j["pull_request"]["head"]["ref"] = "infra-agent/compliance-remediation/25e037cfc583";
    core::signals::IngestOptions opt;
    opt.headers["x-github-event"] = "pull_request";
    auto r = ingest("github", j.dump(), opt);
    EXPECT_TRUE(r.tasks.empty());
}

TEST(GitHub, WrongShapesAreDataErrorsNotCrashes)
{
    core::signals::IngestOptions opt;
    opt.headers["x-github-event"] = "pull_request";
    auto r = ingest("github", R"({"action":"opened","pull_request":"nope","number":1})", opt);
    ASSERT_FALSE(r.status);
    EXPECT_EQ(r.status.error().code, core::Errc::invalid_input);
    auto arr = ingest("github", "[1,2]", opt);
    ASSERT_FALSE(arr.status);
    EXPECT_NE(arr.status.error().message.find("expected a JSON object"), std::string::npos);
}

TEST(Alertmanager, FiringAlertsOnlyWithLabels)
{
    auto r = ingest("alertmanager", read_file(sample("alertmanager/02_alertmanager.body.json")));
    ASSERT_TRUE(r.status);
    ASSERT_EQ(r.tasks.size(), 2u);
    const auto& t = r.tasks[0];
    EXPECT_EQ(t.type, core::TaskType::incident_triage);
    EXPECT_EQ(t.trigger.source, "alert");
    EXPECT_EQ(t.trigger.source_id, "d914cbde6f9c647f");
    EXPECT_EQ(t.trigger.timestamp, "2026-11-24T11:47:27.724Z");
    EXPECT_EQ(t.context.priority, core::Priority::critical);
    EXPECT_EQ(t.context.resource, "aws_instance.web_host");
    EXPECT_NE(r.tasks[0].dedupe_key, r.tasks[1].dedupe_key);
    auto resolved = ingest("alertmanager", read_file(sample("alertmanager/03_alertmanager.body.json")));
    EXPECT_TRUE(resolved.tasks.empty());
    EXPECT_EQ(resolved.skipped.size(), 2u);
}

TEST(Alertmanager, TruncatedGroupsSayHowManyWereLeftOut)
{
    auto r = ingest("alertmanager", read_file(sample("alertmanager/01_alertmanager-truncated.body.json")));
    ASSERT_EQ(r.tasks.size(), 1u);
    EXPECT_GT(r.tasks[0].payload["truncatedAlerts"].get<int>(), 0);
}

TEST(Alertmanager, BearerTokenIsChecked)
{
    core::signals::IngestOptions opt;
    opt.secret = "test-token-not-secret";
    opt.headers["authorization"] = "Bearer test-token-not-secret";
    EXPECT_TRUE(ingest("alertmanager", read_file(sample("alertmanager/05_alertmanager-bearer.body.json")), opt).status);
    opt.headers["authorization"] = "Bearer wrong";
    EXPECT_FALSE(
        ingest("alertmanager", read_file(sample("alertmanager/05_alertmanager-bearer.body.json")), opt).status);
}

TEST(Alertmanager, OtherVersionsAreRefused)
{
    auto r = ingest("alertmanager", R"({"version":"3","alerts":[]})");
    ASSERT_FALSE(r.status);
    EXPECT_NE(r.status.error().message.find("version: expected webhook format version \"4\", got '3'"),
              std::string::npos);
}

TEST(PagerDuty, SignatureVectorAndIncidentTask)
{
    auto vec = nlohmann::json::parse(read_file(sample("pagerduty/vector.json")));
    std::string body = read_file(sample("pagerduty/vector.body.json"));
    core::signals::IngestOptions opt;
    opt.secret = vec["secret"];
    opt.headers["x-pagerduty-signature"] = vec["valid"];
    auto ok = ingest("pagerduty", body, opt);
    ASSERT_TRUE(ok.status) << ok.status.error().message;
    ASSERT_EQ(ok.tasks.size(), 1u);
    EXPECT_EQ(ok.tasks[0].payload["incidentId"], "PGR0VU2");
    // Several signatures while a secret rotates: one matching is enough.
    opt.headers["x-pagerduty-signature"] = vec["mismatch"].get<std::string>() + "," + vec["valid"].get<std::string>();
    EXPECT_TRUE(ingest("pagerduty", body, opt).status);
    opt.headers["x-pagerduty-signature"] = vec["mismatch"];
    auto bad = ingest("pagerduty", body, opt);
    ASSERT_FALSE(bad.status);
    EXPECT_NE(bad.status.error().message.find("X-PagerDuty-Signature does not match"), std::string::npos);
}

TEST(PagerDuty, ServiceEventsAreNotIncidents)
{
    auto r = ingest("pagerduty", read_file(sample("pagerduty/event_02_service.updated.json")));
    ASSERT_TRUE(r.status);
    EXPECT_TRUE(r.tasks.empty());
    ASSERT_EQ(r.skipped.size(), 1u);
}

TEST(CloudWatch, AlarmThroughSnsBecomesATask)
{
    auto r = ingest("cloudwatch", read_file(sample("cloudwatch/cloudwatch-alarm-sns-payload-single-metric.json")));
    ASSERT_TRUE(r.status) << r.status.error().message;
    ASSERT_EQ(r.tasks.size(), 1u);
    EXPECT_EQ(r.tasks[0].payload["alarmName"], "EXAMPLE");
    EXPECT_EQ(r.tasks[0].trigger.timestamp, "2015-06-03T17:43:27.123Z");
    EXPECT_TRUE(ingest("cloudwatch", read_file(sample("cloudwatch/cloudwatch-alarm-sns-payload-multiple-metrics.json")))
                    .status);
}

TEST(CloudWatch, APlainSnsMessageIsRefusedWithAReason)
{
    auto r = ingest("cloudwatch", read_file(sample("cloudwatch/sns-event.json")));
    ASSERT_FALSE(r.status);
    EXPECT_NE(r.status.error().message.find("Records[0].Sns.Message: not a CloudWatch alarm"), std::string::npos);
}

TEST(Chat, TextAndJsonMessages)
{
    auto text = ingest("chat", "  why is the bucket public?\n");
    ASSERT_EQ(text.tasks.size(), 1u);
    EXPECT_EQ(text.tasks[0].payload["message"], "why is the bucket public?");
    EXPECT_EQ(text.tasks[0].payload["requestsChange"], false);
    auto json = ingest("chat", R"({"message":"fix it","user":"ana","requestsChange":true})");
    ASSERT_EQ(json.tasks.size(), 1u);
    EXPECT_EQ(json.tasks[0].payload["user"], "ana");
    EXPECT_FALSE(ingest("chat", "   ").status);
}

TEST(Chat, WronglyTypedFieldsAreErrorsNotCrashes)
{
    // Found by fuzzing: a string where a boolean belongs threw out of the parser.
    auto r = ingest("chat", R"({"message":"fix","requestsChange":"ana"})");
    ASSERT_FALSE(r.status);
    EXPECT_NE(r.status.error().message.find("requestsChange: expected true or false"), std::string::npos)
        << r.status.error().message;
    EXPECT_TRUE(r.tasks.empty());
    auto typed = ingest("chat", R"({"message":"fix","user":7,"channel":["x"]})");
    ASSERT_TRUE(typed.status) << typed.status.error().message;
    ASSERT_EQ(typed.tasks.size(), 1u);
    EXPECT_FALSE(typed.tasks[0].payload.contains("user"));
}

TEST(Api, FillsIdsAndValidates)
{
    auto r = ingest("api", R"({"type":"drift-detection","trigger":{"source":"api","provider":"ci"},
                               "context":{"repositoryId":"acme/infra"}})");
    ASSERT_TRUE(r.status) << r.status.error().message;
    ASSERT_EQ(r.tasks.size(), 1u);
    EXPECT_EQ(r.tasks[0].id.size(), 26u);
    EXPECT_FALSE(r.tasks[0].dedupe_key.empty());
    EXPECT_EQ(r.tasks[0].context.organization_id, "acme");
    auto bad = ingest("api", R"({"type":"drift-detection","trigger":{"source":"api"},"context":{}})");
    ASSERT_FALSE(bad.status);
    EXPECT_NE(bad.status.error().message.find("trigger.provider: missing"), std::string::npos);
}

TEST(Schedule, NamedScheduleFromConfig)
{
    core::signals::IngestOptions opt;
    opt.schedules = nlohmann::json::parse(R"([{"name":"nightly-drift","cron":"0 3 * * *",
      "signal":{"type":"drift-detection","context":{"repositoryId":"acme/infra","priority":"low"}}}])");
    auto r = ingest("schedule", R"({"schedule":"nightly-drift","firedAt":"2026-11-24T03:00:00Z"})", opt);
    ASSERT_TRUE(r.status) << r.status.error().message;
    ASSERT_EQ(r.tasks.size(), 1u);
    EXPECT_EQ(r.tasks[0].trigger.source, "schedule");
    EXPECT_EQ(r.tasks[0].trigger.timestamp, "2026-11-24T03:00:00.000Z");
    EXPECT_EQ(r.tasks[0].context.priority, core::Priority::low);
    auto missing = ingest("schedule", R"({"schedule":"weekly"})", opt);
    ASSERT_FALSE(missing.status);
    EXPECT_NE(missing.status.error().message.find("no schedule named 'weekly'"), std::string::npos);
    EXPECT_EQ(missing.status.error().hint, "known schedules: nightly-drift");
}

TEST(Detect, RecognisesEverySampleFormat)
{
    const auto& reg = test::builtin_signals();
    std::vector<std::pair<std::string, std::string>> cases = {
        {"scanners/checkov/list-form-report.json", "checkov"},
        {"scanners/checkov/with-suppressions-report.json", "checkov"},
        {"scanners/sarif/checkov-openapi.sarif", "sarif"},
        {"scanners/trivy/terraform-remote-module.json.golden", "trivy"},
        {"scanners/tfsec/webserver-results.json", "tfsec"},
        {"scanners/prowler/example_output_aws.ocsf.json", "prowler"},
        {"alertmanager/02_alertmanager.body.json", "alertmanager"},
        {"pagerduty/vector.body.json", "pagerduty"},
        {"cloudwatch/cloudwatch-alarm-sns-payload-single-metric.json", "cloudwatch"},
        {"github/deliveries/pull_request.opened_1.body.json", "github"},
    };
    for (const auto& [file, want] : cases) {
        std::string text = read_file(sample(file));
        core::signals::DetectInput in{std::string_view(text).substr(0, 65536), nullptr};
        auto got = reg.detect(in, file);
        ASSERT_TRUE(got) << file << ": " << got.error().message;
        EXPECT_EQ((*got)->name(), want) << file;
    }
    core::signals::DetectInput junk{"hello world", nullptr};
    EXPECT_FALSE(reg.detect(junk, "junk"));
}
