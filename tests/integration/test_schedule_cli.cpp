// `schedule ls`, `schedule crontab` and `schedule run` over the schedules of
// config.yaml; a bad entry is an error that names it.
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace infra {
namespace {

namespace fs = std::filesystem;
using test::run_cli;

TEST(ScheduleCli, ListCrontabAndRun)
{
    test::TempDir dir;
    test::RunOptions opts;
    opts.cwd = dir.path().string();
    opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    ASSERT_EQ(run_cli({"init"}, opts).exit_code, 0);
    test::write_file(dir / "home" / "config.yaml",
                     "schedules:\n"
                     "  - name: nightly-drift\n    cron: '0 2 * * *'\n    timezone: Europe/Berlin\n"
                     "    signal: {type: drift-detection, context: {repositoryId: acme/infra}}\n"
                     "  - name: hourly\n    cron: '@hourly'\n"
                     "    signal: {type: drift-detection, context: {repositoryId: acme/other}}\n");

    auto ls = run_cli({"schedule", "ls", "--json"}, opts);
    ASSERT_EQ(ls.exit_code, 0) << ls.err;
    auto rows = test::json_lines(ls.out);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0]["name"], "nightly-drift");
    EXPECT_EQ(rows[0]["timezone"], "Europe/Berlin");
    std::string next = rows[0]["next"];
    // 02:00 in Berlin is 01:00 or 00:00 UTC.
    EXPECT_TRUE(next.find("T01:00:00") != std::string::npos || next.find("T00:00:00") != std::string::npos) << next;
    EXPECT_EQ(rows[1]["timezone"], "UTC");

    auto tab = run_cli({"schedule", "crontab"}, opts);
    ASSERT_EQ(tab.exit_code, 0) << tab.err;
    EXPECT_NE(tab.out.find("CRON_TZ=Europe/Berlin\n0 2 * * * "), std::string::npos) << tab.out;
    EXPECT_NE(tab.out.find("schedule run nightly-drift\n"), std::string::npos) << tab.out;
    EXPECT_NE(tab.out.find("CRON_TZ=UTC\n@hourly "), std::string::npos) << tab.out;

    auto run = run_cli({"schedule", "run", "nightly-drift", "--json"}, opts);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    auto first = test::json_lines(run.out).at(0);
    EXPECT_EQ(first["state"], "queued");
    EXPECT_EQ(first["duplicate"], false);
    // Fired again while its task is unfinished: the same task, not a second one.
    auto again = test::json_lines(run_cli({"schedule", "run", "nightly-drift", "--json"}, opts).out).at(0);
    EXPECT_EQ(again["duplicate"], true);
    EXPECT_EQ(again["id"], first["id"]);
    auto shown = test::json_lines(run_cli({"queue", "show", first["id"], "--json"}, opts).out).at(0);
    EXPECT_EQ(shown["task"]["trigger"]["source"], "schedule");
    EXPECT_EQ(shown["task"]["payload"]["schedule"], "nightly-drift");

    EXPECT_EQ(run_cli({"schedule", "run", "weekly"}, opts).exit_code, 64);
    test::write_file(dir / "home" / "config.yaml",
                     "schedules:\n  - {name: x, cron: '0 25 * * *', signal: {type: drift-detection}}\n");
    auto bad = run_cli({"schedule", "ls"}, opts);
    EXPECT_EQ(bad.exit_code, 65);
    EXPECT_NE(bad.err.find("schedules[0].cron: cron field 2 (hour): 25 is out of range 0-23"), std::string::npos)
        << bad.err;
}

}  // namespace
}  // namespace infra
