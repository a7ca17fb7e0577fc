// What a program reading stdout can rely on: every JSON line a command
// writes is an AgentTask (CLI.md's shape, whose "type" is the task type), a
// standard format, or a record whose "type" names what it is and whose
// "formatVersion" is its shape's version.
#include "support/fixtures.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>

namespace infra {
namespace {

using nlohmann::json;
using test::run_cli;

class RecordsCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        opts.cwd = dir.path().string();
        opts.env["INFRA_AGENT_HOME"] = (dir / "home").string();
        ASSERT_EQ(run_cli({"init", "-q"}, opts).exit_code, 0);
        test::write_file(dir / "home" / "config.yaml",
                         "schedules:\n  - name: nightly\n    cron: \"0 3 * * *\"\n    signal:\n"
                         "      type: drift-detection\n");
    }

    /// The JSON lines of a command that must succeed.
    std::vector<json> lines_of(const std::vector<std::string>& args, const std::string& in = "")
    {
        auto o = opts;
        o.stdin_data = in;
        auto r = run_cli(args, o);
        EXPECT_EQ(r.exit_code, 0) << json(args).dump() << ": " << r.err;
        return test::json_lines(r.out);
    }

    test::TempDir dir;
    test::RunOptions opts;
};

TEST_F(RecordsCli, EveryLineIsATaskOrARecordThatNamesItsKind)
{
    auto report = test::read_file(test::sample("scanners/checkov/list-form-report.json"));
    auto tasks = lines_of({"ingest", "checkov"}, report);
    ASSERT_FALSE(tasks.empty());
    std::string stream;
    for (const auto& t : tasks) {
        // AgentTask: the task type, and no record fields (the pipeline reads it back as it is).
        EXPECT_EQ(t["type"], "compliance-remediation") << t.dump();
        EXPECT_FALSE(t.contains("formatVersion")) << t.dump();
        stream += t.dump() + "\n";
    }
    auto enqueued = lines_of({"enqueue", "--json"}, stream);
    ASSERT_EQ(enqueued.size(), tasks.size());
    std::string id = enqueued.front()["id"];
    auto token = lines_of({"creds", "mint", "git:fetch:repo=acme/infra", "--task", id, "--json"});
    ASSERT_EQ(token.size(), 1u);

    // Each command with the kinds of record it writes.
    std::vector<std::pair<std::vector<std::string>, std::set<std::string>>> commands = {
        {{"version", "--json"}, {"version"}},
        {{"config", "list", "--json"}, {"config"}},
        {{"config", "get", "schedules", "--json"}, {"setting"}},
        {{"config", "path", "--json"}, {"paths"}},
        {{"plugins", "--json"}, {"plugin"}},
        {{"ingest", "--list", "--json"}, {"source"}},
        {{"queue", "ls", "--json"}, {"task"}},
        {{"queue", "show", id, "--json"}, {"task"}},
        {{"queue", "stats", "--json"}, {"stats"}},
        {{"creds", "ls", "--json"}, {"credential"}},
        {{"events", "--json"}, {"event"}},
        {{"trace", id, "--json"}, {"span"}},
        {{"audit", "export"}, {"audit"}},
        {{"audit", "head", "--json"}, {"audit-head"}},
        {{"schedule", "ls", "--json"}, {"schedule"}},
        {{"policy", "digest", "--type", "compliance-remediation", "--json"}, {"digest"}},
        {{"creds", "revoke", "--task", id, "--json"}, {"revoke"}},
    };
    std::map<std::string, json> first;
    for (const auto& [args, kinds] : commands) {
        auto lines = lines_of(args);
        EXPECT_FALSE(lines.empty()) << json(args).dump();
        for (const auto& line : lines) {
            ASSERT_TRUE(line.is_object()) << json(args).dump() << ": " << line.dump();
            ASSERT_TRUE(line.contains("type") && line["type"].is_string()) << json(args).dump() << ": " << line.dump();
            EXPECT_TRUE(kinds.count(line["type"].get<std::string>())) << json(args).dump() << ": " << line.dump();
            EXPECT_EQ(line.value("formatVersion", 0), 1) << json(args).dump() << ": " << line.dump();
            first.emplace(line["type"].get<std::string>(), line);
        }
    }
    // A queue entry's task type is "taskType"; a schedule's too.
    EXPECT_EQ(first["task"]["taskType"], "compliance-remediation") << first["task"].dump();
    EXPECT_EQ(first["task"]["id"].get<std::string>().size(), 26u);
    EXPECT_EQ(first["schedule"]["taskType"], "drift-detection") << first["schedule"].dump();
    // An event keeps its name; an audit line its hash chain.
    EXPECT_EQ(first["event"]["event"], "span") << first["event"].dump();
    EXPECT_EQ(first["event"]["data"]["name"], "ingest") << first["event"].dump();
    EXPECT_EQ(first["audit"]["hash"].get<std::string>().size(), 64u) << first["audit"].dump();
    EXPECT_TRUE(first["source"].contains("summary")) << first["source"].dump();
    EXPECT_EQ(first["credential"]["taskId"], id) << first["credential"].dump();

    // No record at all for a task with no events; stderr says so.
    auto none = run_cli({"events", "--task", "NOSUCHTASK", "--json"}, opts);
    EXPECT_EQ(none.exit_code, 0) << none.err;
    EXPECT_EQ(none.out, "");
    EXPECT_NE(none.err.find("no events of task 'NOSUCHTASK'"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace infra
