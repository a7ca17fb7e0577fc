// PostgreSQL as the state store (`state.url: postgres://...`), through the
// real binary against a real server: remediate keeps every record there
// (decisions, the queue, events and the audit chain, pull requests) and
// nothing in the home; the audit log is append-only in the server too, and
// verify still finds a change made behind its back; processes writing at
// once keep one chain; a bad or unreachable state.url is a clear error.
#include "core/store/migrations.hpp"
#include "core/store/pg.hpp"
#include "support/fixtures.hpp"
#include "support/git_http.hpp"
#include "support/run.hpp"
#include "support/servers.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>

namespace infra {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::run_cli;

std::int64_t count(core::store::pg::Conn& c, const std::string& sql)
{
    auto r = c.query(sql);
    if (!r) {
        ADD_FAILURE() << r.error().message;
        return -1;
    }
    return r->integer(0, 0);
}

std::string task(int i)
{
    char id[32];
    std::snprintf(id, sizeof id, "01M8PGSTATE0000000000%05d", i);
    return json{{"id", id},
                {"type", "compliance-remediation"},
                {"title", "enable versioning"},
                {"trigger", {{"source", "api"}, {"provider", "test"}, {"timestamp", "2026-11-25T07:00:00Z"}}},
                {"context", {{"agentSlug", "exec"}, {"environment", "staging"}, {"repositoryId", "acme/infra"}}},
                {"payload", {{"requestsChange", true}}},
                {"dedupeKey", std::string("pg-state-") + id}}
               .dump() +
           "\n";
}

TEST(PostgresState, RemediateKeepsEveryRecordInTheServer)
{
    test::PostgresServer pg;
    ASSERT_TRUE(pg.ok()) << pg.error();
    test::TempDir dir;
    fs::path repo = dir / "infra", home = repo / ".infra-agent";
    test::checkout_scanned_repo(repo);
    std::string report = (fs::path(INFRA_SOURCE_DIR) / "examples/reports/checkov-aws-secure-terraform.json").string();
    test::write_file(home / "config.yaml", "state:\n  url: " + pg.url() + "\nvalidation:\n  steps: [terraform-fmt]\n");
    test::RunOptions opts;
    opts.cwd = repo.string();
    opts.env["INFRA_AGENT_HOME"] = std::nullopt;

    auto init = run_cli({"init", "--json"}, opts);
    ASSERT_EQ(init.exit_code, 0) << init.err;
    auto inited = json::parse(init.out);
    EXPECT_EQ(inited["stateDb"], pg.url()) << init.out;
    EXPECT_EQ(inited["schemaVersion"], infra::core::store::migrations().back().version) << init.out;

    auto r = run_cli({"remediate", report}, opts);
    EXPECT_EQ(r.exit_code, 1) << r.err;  // three findings have no builtin fix
    int opened = 0;
    std::string task_id;
    for (const auto& l : test::json_lines(r.out))
        if (l["state"] == "opened") {
            ++opened;
            task_id = l["taskId"].get<std::string>();
        }
    EXPECT_EQ(opened, 5) << r.out;
    ASSERT_FALSE(task_id.empty()) << r.out;
    // Nothing was written beside the config: no state.db, no WAL.
    for (const auto& e : fs::directory_iterator(home))
        EXPECT_EQ(e.path().filename().string().find("state.db"), std::string::npos) << e.path();

    auto conn = core::store::pg::Conn::open(pg.url());
    ASSERT_TRUE(conn) << conn.error().message;
    auto& c = **conn;
    // Two tasks: the bucket's seven findings (one pull request), and the detector's one.
    EXPECT_EQ(count(c, "SELECT count(*) FROM pull_requests"), 1);
    EXPECT_EQ(count(c, "SELECT count(*) FROM decisions"), 2);
    EXPECT_EQ(count(c, "SELECT count(*) FROM infra_queue"), 2);  // the queue is the PostgreSQL queue
    EXPECT_EQ(count(c, "SELECT count(*) FROM events WHERE type = 'task.succeeded'"), 1);
    EXPECT_EQ(count(c, "SELECT count(*) FROM report_findings"), 8);
    EXPECT_EQ(count(c, "SELECT max(version) FROM schema_migrations"), infra::core::store::migrations().back().version);

    // The commands that read the state read it from the server.
    EXPECT_EQ(test::json_lines(run_cli({"pr", "ls", "--json"}, opts).out).size(), 1u);
    auto ev = run_cli({"events", "--task", task_id, "--type", "task.*", "--json"}, opts);
    EXPECT_EQ(ev.exit_code, 0) << ev.err;
    auto events = test::json_lines(ev.out);
    ASSERT_FALSE(events.empty()) << ev.err << task_id;
    EXPECT_EQ(events.back()["event"], "task.succeeded");
    auto trace = run_cli({"trace", task_id, "--json"}, opts);
    ASSERT_EQ(trace.exit_code, 0) << trace.err;
    EXPECT_NE(trace.out.find("\"name\":\"queue.enqueue\""), std::string::npos) << trace.out.substr(0, 2000);
    EXPECT_NE(trace.out.find("\"stage\":\"claim\""), std::string::npos) << trace.out.substr(0, 2000);
    auto metrics = run_cli({"metrics"}, opts);
    ASSERT_EQ(metrics.exit_code, 0) << metrics.err;
    EXPECT_NE(metrics.out.find("infra_agent_policy_decisions_total{outcome=\"allowed\"} 2"), std::string::npos)
        << metrics.out;
    EXPECT_NE(metrics.out.find(
                  "infra_agent_task_duration_seconds_count{type=\"compliance-remediation\",outcome=\"succeeded\"} 1"),
              std::string::npos)
        << metrics.out;
    EXPECT_NE(metrics.out.find("infra_agent_errors_total{kind=\"task_dead\"} 1"), std::string::npos) << metrics.out;
    // Replaying the recorded decisions against the bundle itself changes none.
    auto replay = run_cli({"policy", "replay", "--json", "--detailed-exitcode", "--no-bundle",
                           (fs::path(INFRA_SOURCE_DIR) / "share/policies").string()},
                          opts);
    EXPECT_EQ(replay.exit_code, 0) << replay.err << replay.out;
    auto verify = run_cli({"audit", "verify"}, opts);
    EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
    auto exported = run_cli({"audit", "export"}, opts);
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    auto lines = test::json_lines(exported.out);
    EXPECT_EQ(static_cast<std::int64_t>(lines.size()), count(c, "SELECT count(*) FROM events"));
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back()["hash"], json::parse(run_cli({"audit", "head", "--json"}, opts).out)["hash"]);

    // Append-only in the server as in SQLite ...
    auto upd = c.query("UPDATE events SET data = '{}' WHERE seq = 2");
    ASSERT_FALSE(upd);
    EXPECT_NE(upd.error().message.find("the audit log is append-only: events cannot be changed"), std::string::npos)
        << upd.error().message;
    auto del = c.query("DELETE FROM events WHERE seq = 2");
    ASSERT_FALSE(del);
    EXPECT_NE(del.error().message.find("cannot be deleted"), std::string::npos) << del.error().message;
    EXPECT_FALSE(c.exec("TRUNCATE events"));
    // ... and a change made by someone who turned the guard off is found.
    ASSERT_TRUE(c.exec("ALTER TABLE events DISABLE TRIGGER events_no_update; "
                       "UPDATE events SET data = '{\"forged\":true}' WHERE seq = 3; "
                       "ALTER TABLE events ENABLE TRIGGER events_no_update"));
    verify = run_cli({"audit", "verify", "--json"}, opts);
    EXPECT_EQ(verify.exit_code, 1) << verify.out << verify.err;
    EXPECT_NE(verify.out.find("\"seq\":3"), std::string::npos) << verify.out;
}

TEST(PostgresState, ProcessesWritingAtOnceKeepOneChain)
{
    test::PostgresServer pg;
    ASSERT_TRUE(pg.ok()) << pg.error();
    test::TempDir dir;
    test::write_file(dir / "home/config.yaml",
                     "state:\n  url: " + pg.url() + "\nexec:\n  command: [sh, -c, \"echo done by exec\"]\n");
    test::RunOptions o;
    o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    test::write_file(dir / "ws/main.tf", "status = 1\n");

    // Someone watching: each poll of --follow is its own snapshot of the log.
    ASSERT_EQ(run_cli({"init", "--home", (dir / "home").string()}, o).exit_code, 0);
    test::Background follow({"events", "--follow", "--json", "--type", "task.succeeded"}, o);

    // Four enqueuers and two workers at once, all appending to one audit log.
    std::vector<std::unique_ptr<test::Background>> procs;
    for (int p = 0; p < 4; ++p) {
        std::string in;
        for (int i = 0; i < 25; ++i) in += task(p * 100 + i);
        test::write_file(dir / ("tasks" + std::to_string(p)), in);
        procs.push_back(std::make_unique<test::Background>(
            std::vector<std::string>{"enqueue", "--json", (dir / ("tasks" + std::to_string(p))).string()}, o));
    }
    for (int w = 0; w < 2; ++w)
        procs.push_back(std::make_unique<test::Background>(
            std::vector<std::string>{"worker", "--drain", "--json", "--workspace", (dir / "ws").string()}, o));
    for (auto& p : procs) EXPECT_EQ(p->stop(0, 60000), 0) << p->err();  // signal 0: only waits

    // What the workers left is drained now.
    auto w = run_cli({"worker", "--drain", "--json", "--workspace", (dir / "ws").string()}, o);
    ASSERT_EQ(w.exit_code, 0) << w.err;
    auto conn = core::store::pg::Conn::open(pg.url());
    ASSERT_TRUE(conn) << conn.error().message;
    EXPECT_EQ(count(**conn, "SELECT count(*) FROM events WHERE type = 'task.succeeded'"), 100);
    EXPECT_EQ(count(**conn, "SELECT count(*) FROM decisions"), 100);
    std::set<std::string> seen;
    for (int i = 0; i < 100 && seen.size() < 100; ++i) {
        auto line = json::parse(follow.read_line(20000), nullptr, false);
        if (!line.is_object()) break;
        seen.insert(line.value("taskId", ""));
    }
    EXPECT_EQ(seen.size(), 100u) << follow.err();
    follow.stop(SIGTERM);
    // One chain: consecutive sequence numbers, each event linked to the one before.
    EXPECT_EQ(count(**conn, "SELECT max(seq) - count(*) FROM events"), 0);
    auto verify = run_cli({"audit", "verify", "--json"}, o);
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

    // The credential ledger: mint, reuse, look up by prefix, verify, revoke.
    auto minted =
        run_cli({"creds", "mint", "git:push:repo=acme/infra", "--task", "01M8PGSTATE000000000000001", "--json"}, o);
    ASSERT_EQ(minted.exit_code, 0) << minted.err;
    auto cred = json::parse(minted.out);
    auto again = json::parse(
        run_cli({"creds", "mint", "git:push:repo=acme/infra", "--task", "01M8PGSTATE000000000000001", "--json"}, o)
            .out);
    EXPECT_EQ(again["id"], cred["id"]);  // a live one is handed out again
    auto check = o;
    check.stdin_data = cred["token"].get<std::string>();
    EXPECT_EQ(run_cli({"creds", "verify", "--scope", "git:push:repo=acme/infra"}, check).exit_code, 0);
    auto ledger = test::json_lines(run_cli({"creds", "ls", "--json"}, o).out);
    ASSERT_EQ(ledger.size(), 1u);
    EXPECT_EQ(ledger[0]["reuses"], 1) << ledger[0].dump();
    EXPECT_EQ(run_cli({"creds", "revoke", cred["id"].get<std::string>().substr(0, 12)}, o).exit_code, 0);
    EXPECT_EQ(run_cli({"creds", "verify"}, check).exit_code, 3);
    EXPECT_TRUE(test::json_lines(run_cli({"creds", "ls", "--json"}, o).out).empty());
    EXPECT_EQ(count(**conn, "SELECT count(*) FROM credentials WHERE revoked_at IS NOT NULL"), 1);
}

// Workers killed (SIGKILL) in the middle of writing: a transaction either
// lands whole or not at all, so the chain the survivors extend still holds
// and every task ends succeeded.
TEST(PostgresState, WorkersKilledWhileWritingLeaveAChainThatHolds)
{
    test::PostgresServer pg;
    ASSERT_TRUE(pg.ok()) << pg.error();
    test::TempDir dir;
    test::write_file(dir / "home/config.yaml", "state:\n  url: " + pg.url() +
                                                   "\nexec:\n  command: [sh, -c, \"sleep 0.05; echo done by exec\"]\n");
    test::RunOptions o;
    o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    test::write_file(dir / "ws/main.tf", "status = 1\n");
    std::string in;
    for (int i = 0; i < 60; ++i) in += task(i);
    o.stdin_data = in;
    ASSERT_EQ(run_cli({"enqueue"}, o).exit_code, 0);
    o.stdin_data.clear();

    auto worker = [&] {
        return std::make_unique<test::Background>(
            std::vector<std::string>{"worker", "--drain", "--lease", "2s", "--workspace", (dir / "ws").string()}, o);
    };
    std::vector<std::unique_ptr<test::Background>> workers;
    for (int w = 0; w < 3; ++w) workers.push_back(worker());
    int kills = 0;
    for (int round = 0; round < 12; ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds(150 + 40 * (round % 3)));
        auto& victim = workers[static_cast<std::size_t>(round % 3)];
        if (victim->stop(SIGKILL, 5000) == 128 + SIGKILL) ++kills;
        victim = worker();
    }
    for (auto& w : workers) EXPECT_EQ(w->stop(0, 60000), 0) << w->err();
    // Leases of killed workers expire; a last worker runs what they held.
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    auto last = run_cli({"worker", "--drain", "--json", "--workspace", (dir / "ws").string()}, o);
    ASSERT_EQ(last.exit_code, 0) << last.err;

    auto ls = test::json_lines(run_cli({"queue", "ls", "--json", "--limit", "100"}, o).out);
    ASSERT_EQ(ls.size(), 60u);
    for (const auto& t : ls) EXPECT_EQ(t["state"], "succeeded") << t.dump();
    auto verify = run_cli({"audit", "verify", "--json"}, o);
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    auto report = json::parse(verify.out, nullptr, false);
    std::printf("chaos (postgres state): 60 tasks, 3 workers, %d kills, audit chain of %s events %s\n", kills,
                report.is_object() ? report.value("events", json(0)).dump().c_str() : "?",
                verify.exit_code == 0 ? "holds" : "broken");
    EXPECT_GT(kills, 0);
}

TEST(PostgresState, ABadOrUnreachableStateUrlIsAClearError)
{
    test::TempDir dir;
    test::RunOptions o;
    o.env["INFRA_AGENT_HOME"] = (dir / "home").string();
    test::write_file(dir / "home/config.yaml", "state:\n  url: mysql://db.example/infra\n");
    auto r = run_cli({"events"}, o);
    EXPECT_EQ(r.exit_code, 65) << r.err;
    EXPECT_NE(r.err.find("state.url 'mysql://db.example/infra' is neither sqlite://PATH nor postgres://"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(dir / "home/state.db"));  // no silent fall back to the local file

    std::string down = "postgres://infra:hunter2-secret@127.0.0.1:" + std::to_string(test::free_port()) + "/infra";
    o.env["INFRA_AGENT_STATE_URL"] = down;  // the environment overrides the file
    r = run_cli({"audit", "verify"}, o);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("cannot connect to 'postgres://infra:***@127.0.0.1:"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "home/state.db"));
    // Where the state is, without the password, as listings end up in logs.
    auto where = json::parse(run_cli({"config", "path", "--json"}, o).out);
    EXPECT_EQ(where["stateEngine"], "postgresql");
    EXPECT_EQ(where["state"].get<std::string>().find("hunter2"), std::string::npos) << where.dump();
    auto listed = run_cli({"config", "list"}, o);
    EXPECT_NE(listed.out.find("state.url=postgres://infra:***@127.0.0.1:"), std::string::npos) << listed.out;
    EXPECT_EQ(listed.out.find("hunter2"), std::string::npos) << listed.out;

    // sqlite://PATH, relative to the home, is a SQLite file elsewhere.
    o.env["INFRA_AGENT_STATE_URL"] = "sqlite://records/infra.db";
    fs::create_directories(dir / "home/records");
    auto init = run_cli({"init", "--json", "--home", (dir / "home").string()}, o);
    ASSERT_EQ(init.exit_code, 0) << init.err;
    EXPECT_TRUE(fs::exists(dir / "home/records/infra.db"));
    EXPECT_FALSE(fs::exists(dir / "home/state.db"));
}

}  // namespace
}  // namespace infra
