// approve and reject through the binary: a production task waits for
// platform-oncall, its requester cannot approve it, another person can,
// and a rejected task is denied for good.
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

TEST(ApproveCli, ApprovalsAreRecordedAndTheRequesterCannotApprove)
{
    test::TempDir dir;
    test::RunOptions opts;
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    auto tasks = run_cli({"ingest", "checkov", (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string(),
                          "--repo", "acme/infra", "--environment", "production"}, opts);
    ASSERT_EQ(tasks.exit_code, 0) << tasks.err;
    auto all = test::json_lines(tasks.out);
    ASSERT_GE(all.size(), 2u);
    all[0]["payload"]["requestedBy"] = "alice";
    auto o = opts;
    o.stdin_data = all[0].dump() + "\n" + all[1].dump() + "\n";
    auto q = run_cli({"enqueue"}, o);
    EXPECT_EQ(q.exit_code, 4) << q.err;  // both wait for approval
    std::string first = all[0]["id"], second = all[1]["id"];

    auto self = run_cli({"approve", first, "--as", "alice"}, opts);
    EXPECT_EQ(self.exit_code, 3);
    EXPECT_NE(self.err.find("alice asked for task"), std::string::npos) << self.err;
    EXPECT_EQ(run_cli({"approve", first}, opts).exit_code, 64);  // --as is required

    auto ok = run_cli({"approve", first, "--as", "bob"}, opts);
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    auto out = json::parse(ok.out);
    EXPECT_EQ(out["state"], "queued");
    EXPECT_EQ(out["group"], "platform-oncall");
    auto shown = json::parse(run_cli({"queue", "show", first, "--json"}, opts).out);
    ASSERT_EQ(shown["approvals"].size(), 1u);
    EXPECT_EQ(shown["approvals"][0]["by"], "bob");
    EXPECT_GT(shown["approvals"][0].value("atMs", 0LL), 0LL);  // and when
    EXPECT_EQ(run_cli({"approve", first, "--as", "carol"}, opts).exit_code, 1);  // not waiting any more

    auto no = run_cli({"reject", second, "--as", "carol", "--reason", "change freeze"}, opts);
    ASSERT_EQ(no.exit_code, 0) << no.err;
    EXPECT_EQ(json::parse(no.out)["state"], "denied");
    EXPECT_EQ(json::parse(run_cli({"queue", "show", second, "--json"}, opts).out)["state"], "denied");
    EXPECT_EQ(run_cli({"approve", second, "--as", "bob"}, opts).exit_code, 1);
}

}  // namespace
}  // namespace infra
