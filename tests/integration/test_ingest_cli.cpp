// `infra-agent ingest` end to end: every sample, exit codes, bad input,
// --keep-going, --detect, goldens.
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>
#include <sstream>

using infra::test::fixture;
using infra::test::read_file;
using infra::test::run_cli;
using infra::test::RunOptions;
using infra::test::sample;

namespace {

std::vector<nlohmann::json> lines(const std::string& out)
{
    std::vector<nlohmann::json> v;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty()) v.push_back(nlohmann::json::parse(line));
    return v;
}

// Ids and ingest times differ on every run; the rest must not.
std::string masked(const std::string& out)
{
    std::string s = std::regex_replace(out, std::regex(R"("id":"[0-9A-Z]{26}")"), R"("id":"<id>")");
    s = std::regex_replace(s, std::regex(R"("sourceId":"[0-9A-Z]{26}")"), R"("sourceId":"<id>")");
    s = std::regex_replace(s, std::regex(R"("traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01")"),
                           R"("traceparent":"<traceparent>")");
    return std::regex_replace(s, std::regex(R"("timestamp":"20[0-9-]+T[0-9:.]+Z")"), R"("timestamp":"<time>")");
}

}  // namespace

TEST(IngestCli, GoldenCheckovTasks)
{
    auto r = run_cli({"ingest", "checkov", sample("scanners/checkov/list-form-report.json").string(), "--repo",
                      "acme/aws-secure-terraform"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(masked(r.out), read_file(fixture("golden/ingest-checkov-list-form.jsonl")));
}

TEST(IngestCli, GoldenAlertmanagerTasks)
{
    auto r = run_cli({"ingest", "alertmanager", sample("alertmanager/02_alertmanager.body.json").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(masked(r.out), read_file(fixture("golden/ingest-alertmanager.jsonl")));
}

TEST(IngestCli, EveryTaskIsValidForTheApiSource)
{
    // What ingest writes, `ingest api` reads back unchanged: the JSON Lines
    // contract between the steps of a pipeline.
    auto r = run_cli({"ingest", "--detect", sample("scanners/prowler/example_output_gcp.ocsf.json").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    RunOptions o;
    o.stdin_data = r.out;
    auto back = run_cli({"ingest", "api", "-"}, o);
    ASSERT_EQ(back.exit_code, 0) << back.err;
    EXPECT_EQ(lines(back.out), lines(r.out));
}

TEST(IngestCli, MalformedJsonNamesTheLineAndColumnAndPrintsNothing)
{
    RunOptions o;
    o.stdin_data = "{\"check_type\": \"terraform\",\n \"results\": {\"failed_checks\": [\n  {\"check_id\" \"x\"}]}}";
    auto r = run_cli({"ingest", "checkov"}, o);
    EXPECT_EQ(r.exit_code, 65);
    EXPECT_TRUE(r.out.empty());
    EXPECT_NE(r.err.find("infra-agent: error: cannot parse '<stdin>': line 3, column 15:"), std::string::npos) << r.err;
}

TEST(IngestCli, AReportOfAnotherScannerIsRefusedNotReadAsNoFindings)
{
    // tfsec's report has 'results' too, but a list of its own findings: read
    // as Checkov it used to give no tasks and exit 0, as if all had passed.
    auto tfsec = sample("scanners/tfsec/webserver-results.json").string();
    auto r = run_cli({"ingest", "checkov", tfsec});
    EXPECT_EQ(r.exit_code, 65) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out.substr(0, 200);
    EXPECT_NE(r.err.find("'" + tfsec + "': line 1: not a Checkov report"), std::string::npos) << r.err;
    // Prowler named a Checkov report's first field as missing, not the format.
    auto checkov = sample("scanners/checkov/list-form-report.json").string();
    auto p = run_cli({"ingest", "prowler", checkov});
    EXPECT_EQ(p.exit_code, 65) << p.err;
    EXPECT_TRUE(p.out.empty()) << p.out.substr(0, 200);
    EXPECT_NE(p.err.find("'" + checkov + "': line 2 (0): not a Prowler OCSF report"), std::string::npos) << p.err;
    // Each still reads its own.
    EXPECT_EQ(run_cli({"ingest", "tfsec", tfsec}).exit_code, 0);
    EXPECT_EQ(run_cli({"ingest", "checkov", checkov}).exit_code, 0);
}

TEST(IngestCli, TruncatedReportLeavesNoHalfOfItsTasks)
{
    std::string report = read_file(sample("scanners/checkov/list-form-report.json"));
    RunOptions o;
    o.stdin_data = report.substr(0, report.size() * 2 / 3);
    auto r = run_cli({"ingest", "checkov", "-"}, o);
    EXPECT_EQ(r.exit_code, 65);
    EXPECT_TRUE(r.out.empty()) << r.out.substr(0, 200);
}

TEST(IngestCli, KeepGoingProcessesTheRestOfAStream)
{
    RunOptions o;
    o.stdin_data =
        "{\"type\":\"chat\",\"trigger\":{\"source\":\"user\",\"provider\":\"chat\"},\"context\":{}}\n"
        "{\"type\":\"chat\",\"trigger\":\n"
        "{\"type\":\"deploy\",\"trigger\":{\"source\":\"user\",\"provider\":\"chat\"},\"context\":{}}\n"
        "{\"type\":\"drift-detection\",\"trigger\":{\"source\":\"api\",\"provider\":\"ci\"},\"context\":{}}\n";
    auto stop = run_cli({"ingest", "api", "--json"}, o);
    EXPECT_EQ(stop.exit_code, 65);
    EXPECT_EQ(lines(stop.out).size(), 1u);

    auto r = run_cli({"ingest", "api", "--keep-going", "--json"}, o);
    EXPECT_EQ(r.exit_code, 65);
    auto out = lines(r.out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[1]["type"], "drift-detection");
    EXPECT_NE(r.err.find("line 2, column"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("line 3: type: expected one of"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("2 records of '<stdin>' rejected"), std::string::npos) << r.err;
}

TEST(IngestCli, WrongSignatureExits65)
{
    auto dir = sample("github/deliveries");
    auto ok =
        run_cli({"ingest", "github", (dir / "pull_request.opened_1.body.json").string(), "--headers-file",
                 (dir / "pull_request.opened_1.headers.json").string(), "--secret", "It's a Secret to Everybody"});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(lines(ok.out).size(), 1u);
    auto bad = run_cli({"ingest", "github", (dir / "pull_request.opened_1.body.json").string(), "--headers-file",
                        (dir / "pull_request.opened_1.headers.json").string(), "--secret", "wrong secret"});
    EXPECT_EQ(bad.exit_code, 65);
    EXPECT_TRUE(bad.out.empty());
    EXPECT_EQ(bad.err.find("wrong secret"), std::string::npos);  // never echo a secret
}

TEST(IngestCli, SecretFromTheEnvironmentNamedInConfig)
{
    infra::test::TempDir dir;
    infra::test::write_file(dir / "c.yaml", "webhooks:\n  github:\n    secret_env: GH_HOOK_SECRET\n");
    auto d = sample("github/deliveries");
    RunOptions o;
    o.env["GH_HOOK_SECRET"] = "not the secret";
    auto r = run_cli({"--config", (dir / "c.yaml").string(), "ingest", "github", (d / "ping.none_1.body.json").string(),
                      "--headers-file", (d / "ping.none_1.headers.json").string()},
                     o);
    EXPECT_EQ(r.exit_code, 65);
    o.env["GH_HOOK_SECRET"] = "It's a Secret to Everybody";
    r = run_cli({"--config", (dir / "c.yaml").string(), "ingest", "github", (d / "ping.none_1.body.json").string(),
                 "--headers-file", (d / "ping.none_1.headers.json").string()},
                o);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("nothing to do: ping"), std::string::npos);
}

TEST(IngestCli, DetectAndUnknownFormats)
{
    auto r = run_cli({"ingest", "--detect", sample("scanners/tfsec/webserver-results.json").string(), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(lines(r.out).size(), 6u);
    RunOptions o;
    o.stdin_data = "just some text\n";
    auto junk = run_cli({"ingest", "--detect"}, o);
    EXPECT_EQ(junk.exit_code, 65);
    EXPECT_NE(junk.err.find("cannot tell the format of '<stdin>'"), std::string::npos);
    EXPECT_EQ(run_cli({"ingest", "checkov", "/no/such/file.json"}).exit_code, 1);
}

TEST(IngestCli, ScheduleByName)
{
    infra::test::TempDir dir;
    infra::test::write_file(dir / "c.yaml",
                            "schedules:\n  - name: nightly-drift\n    cron: \"0 3 * * *\"\n    signal:\n"
                            "      type: drift-detection\n      context: {repositoryId: acme/infra}\n");
    auto r = run_cli({"--config", (dir / "c.yaml").string(), "ingest", "schedule", "nightly-drift", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto t = lines(r.out);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0]["trigger"]["source"], "schedule");
    EXPECT_EQ(run_cli({"--config", (dir / "c.yaml").string(), "ingest", "schedule", "weekly"}).exit_code, 65);
}

TEST(IngestCli, HumanTableOnATerminalIsNotJson)
{
    // Not a terminal here, so --json is implied; the list of sources is text.
    auto r = run_cli({"ingest", "--list"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("checkov"), std::string::npos);
    EXPECT_NE(r.out.find("tfsec"), std::string::npos);
}
