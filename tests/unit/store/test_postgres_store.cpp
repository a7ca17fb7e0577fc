// The state store on a real PostgreSQL server: statements written with
// SQLite's placeholders run there, values round-trip, constraint failures
// are conflicts, transactions roll back, the schema has SQLite's versions,
// processes migrating at once take turns, and the audit chain holds with
// several writers.
#include "core/change/apply.hpp"
#include "core/events/audit.hpp"
#include "core/events/event.hpp"
#include "core/store/db.hpp"
#include "core/store/migrations.hpp"
#include "core/store/pg.hpp"
#include "support/servers.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace infra::core;
using store::pg::placeholders;

TEST(PgPlaceholders, NumberedInOrderOfFirstUse)
{
    auto p = placeholders("SELECT a FROM t WHERE a = ? AND b = ? LIMIT ?");
    EXPECT_EQ(p.text, "SELECT a FROM t WHERE a = $1 AND b = $2 LIMIT $3");
    EXPECT_EQ(p.order, (std::vector<int>{1, 2, 3}));

    // ?N may repeat; a bare ? after it is one past the largest index so far.
    p = placeholders("UPDATE c SET r = ?1 WHERE e > ?1 AND s = ?");
    EXPECT_EQ(p.text, "UPDATE c SET r = $1 WHERE e > $1 AND s = $2");
    EXPECT_EQ(p.order, (std::vector<int>{1, 2}));

    // Indexes left out of a statement built piece by piece are not parameters.
    p = placeholders("SELECT * FROM c WHERE TRUE AND provider = ?2 ORDER BY id LIMIT ?4");
    EXPECT_EQ(p.text, "SELECT * FROM c WHERE TRUE AND provider = $1 ORDER BY id LIMIT $2");
    EXPECT_EQ(p.order, (std::vector<int>{2, 4}));
}

TEST(PgPlaceholders, QuotesAndCommentsAreLeftAlone)
{
    auto p = placeholders("SELECT '?', \"we?rd\" FROM t -- what?\nWHERE x = ? AND y = 'it''s ?'");
    EXPECT_EQ(p.text, "SELECT '?', \"we?rd\" FROM t -- what?\nWHERE x = $1 AND y = 'it''s ?'");
    EXPECT_EQ(p.order, (std::vector<int>{1}));
    // An unterminated quote keeps the rest as it is.
    EXPECT_EQ(placeholders("SELECT 'abc ?").text, "SELECT 'abc ?");
}

namespace {

class PostgresStore : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server = new infra::test::PostgresServer(); }
    static void TearDownTestSuite()
    {
        delete server;
        server = nullptr;
    }

    void SetUp() override
    {
        ASSERT_TRUE(server->ok()) << server->error();
        // A fresh database per test.
        static int n = 0;
        name = "t" + std::to_string(++n);
        auto admin = store::Db::open(server->url(), false);
        ASSERT_TRUE(admin) << admin.error().message;
        ASSERT_TRUE((*admin)->exec("CREATE DATABASE " + name));
        auto d = store::Db::open(url(), false);
        ASSERT_TRUE(d) << d.error().message;
        db = std::move(*d);
    }

    std::string url() const { return server->url(name); }

    static infra::test::PostgresServer* server;
    std::string name;
    std::unique_ptr<store::Db> db;
};

infra::test::PostgresServer* PostgresStore::server = nullptr;

TEST_F(PostgresStore, ValuesRoundTripAndConstraintsAreConflicts)
{
    EXPECT_EQ(db->dialect(), store::Dialect::postgres);
    ASSERT_TRUE(db->exec("CREATE TABLE v (k TEXT PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, b BYTEA)"));
    auto ins = db->prepare("INSERT INTO v (k, i, r, b) VALUES (?, ?, ?, ?)");
    ASSERT_TRUE(ins);
    const std::string bytes("\x00\x01\xff zero", 8);
    ins->bind(1, "it's ?")
        .bind(2, std::int64_t{-9007199254740993})
        .bind(3, 0.1)
        .bind_blob(4, bytes.data(), bytes.size());
    ASSERT_TRUE(ins->run());
    EXPECT_EQ(db->changes(), 1);
    ins->reset();
    ins->bind(1, "null").bind_null(2).bind_null(3).bind_null(4);
    ASSERT_TRUE(ins->run());

    auto sel = db->prepare("SELECT k, i, r, b, i IS NULL FROM v ORDER BY k");
    ASSERT_TRUE(sel);
    ASSERT_TRUE(*sel->step());
    EXPECT_EQ(sel->text(0), "it's ?");
    EXPECT_EQ(sel->integer(1), -9007199254740993);
    EXPECT_DOUBLE_EQ(sel->real(2), 0.1);
    EXPECT_EQ(std::string(sel->blob(3)), bytes);
    EXPECT_EQ(sel->integer(4), 0);  // a boolean reads as 0 or 1
    ASSERT_TRUE(*sel->step());
    EXPECT_TRUE(sel->is_null(1));
    EXPECT_EQ(sel->integer(4), 1);
    EXPECT_FALSE(*sel->step());

    ins->reset();
    ins->bind(1, "null").bind(2, 1).bind(3, 1.0).bind_null(4);
    auto dup = ins->run();
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, Errc::conflict) << dup.error().message;

    auto upd = db->prepare("UPDATE v SET i = ?1 WHERE i IS NULL OR i < ?1");
    ASSERT_TRUE(upd);
    upd->bind(1, 7);
    ASSERT_TRUE(upd->run());
    EXPECT_EQ(db->changes(), 2);
}

// Statements are prepared once per connection; one whose table changed
// since (a migration run by a newer infra-agent, say) is prepared again.
TEST_F(PostgresStore, AStatementWhoseTableChangedIsPreparedAgain)
{
    ASSERT_TRUE(db->exec("CREATE TABLE w (a BIGINT); INSERT INTO w VALUES (1), (2), (3)"));
    auto count_above = [&](int n) {
        auto s = db->prepare("SELECT * FROM w WHERE a > ?");
        EXPECT_TRUE(s);
        s->bind(1, n);
        int rows = 0;
        for (;;) {
            auto r = s->step();
            EXPECT_TRUE(r) << r.error().message;
            if (!r || !*r) break;
            ++rows;
        }
        return rows;
    };
    EXPECT_EQ(count_above(1), 2);
    EXPECT_EQ(count_above(2), 1);  // the prepared statement again
    ASSERT_TRUE(db->exec("ALTER TABLE w ADD COLUMN b TEXT"));
    EXPECT_EQ(count_above(0), 3);
}

TEST_F(PostgresStore, AnUncommittedTransactionRollsBack)
{
    ASSERT_TRUE(db->exec("CREATE TABLE t (x BIGINT)"));
    {
        auto tx = store::Transaction::begin(*db);
        ASSERT_TRUE(tx);
        ASSERT_TRUE(db->exec("INSERT INTO t VALUES (1)"));
    }
    {
        auto tx = store::Transaction::begin(*db);
        ASSERT_TRUE(tx);
        ASSERT_TRUE(db->exec("INSERT INTO t VALUES (2)"));
        ASSERT_TRUE(tx->commit());
    }
    auto s = db->prepare("SELECT COALESCE(SUM(x), 0) FROM t");
    ASSERT_TRUE(s && *s->step());
    EXPECT_EQ(s->integer(0), 2);
}

// serve holds its connection for weeks: a restart of the database (here,
// the server ending the session) must not leave it failing until restarted.
TEST_F(PostgresStore, AClosedConnectionIsOpenedAgain)
{
    ASSERT_TRUE(db->exec("CREATE TABLE t (x BIGINT)"));
    auto admin = store::Db::open(server->url(), false);
    ASSERT_TRUE(admin);
    auto end_sessions = [&] {
        auto k = (*admin)->prepare("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ?");
        ASSERT_TRUE(k);
        k->bind(1, name);
        ASSERT_TRUE(k->step() && k->integer(0) == 1);
    };

    // A read runs again on a new connection.
    end_sessions();
    auto s = db->prepare("SELECT count(*) FROM t");
    ASSERT_TRUE(s);
    auto row = s->step();
    ASSERT_TRUE(row) << row.error().message;
    EXPECT_EQ(s->integer(0), 0);

    // A write is not sent twice: its error stands, and the next one goes through.
    end_sessions();
    auto ins = db->prepare("INSERT INTO t VALUES (?)");
    ASSERT_TRUE(ins);
    ins->bind(1, 1);
    EXPECT_FALSE(ins->run());
    ins->reset();
    ins->bind(1, 2);
    EXPECT_TRUE(ins->run());

    // A transaction starts again on a new connection too.
    end_sessions();
    {
        auto tx = store::Transaction::begin(*db);
        ASSERT_TRUE(tx) << tx.error().message;
        ASSERT_TRUE(db->exec("INSERT INTO t VALUES (3)"));
        ASSERT_TRUE(tx->commit());
    }
    auto sum = db->prepare("SELECT SUM(x) FROM t");
    ASSERT_TRUE(sum && *sum->step());
    EXPECT_EQ(sum->integer(0), 5);
}

TEST_F(PostgresStore, TheSchemaHasSQLitesVersionsAndMigratesOnce)
{
    const auto& lite = store::migrations();
    const auto& pg = store::migrations(store::Dialect::postgres);
    ASSERT_EQ(pg.size(), lite.size());
    for (std::size_t i = 0; i < pg.size(); ++i) {
        EXPECT_EQ(pg[i].version, lite[i].version);
        EXPECT_EQ(pg[i].name, lite[i].name);
    }

    // Processes starting at once take turns; each finds the schema current.
    std::vector<std::thread> threads;
    std::vector<std::string> errors(6);
    for (std::size_t i = 0; i < errors.size(); ++i)
        threads.emplace_back([&, i] {
            auto d = store::Db::open(url(), false);
            if (!d) {
                errors[i] = d.error().message;
                return;
            }
            if (auto st = store::migrate(**d); !st) errors[i] = st.error().message;
        });
    for (auto& t : threads) t.join();
    for (const auto& e : errors) EXPECT_EQ(e, "");
    EXPECT_EQ(*store::schema_version(*db), lite.back().version);
    auto n = db->prepare("SELECT COUNT(*) FROM schema_migrations");
    ASSERT_TRUE(n && *n->step());
    EXPECT_EQ(n->integer(0), static_cast<std::int64_t>(lite.size()));

    ASSERT_TRUE(db->exec("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01T00:00:00Z')"));
    auto st = store::migrate(*db);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("newer than this infra-agent knows"), std::string::npos);
}

TEST_F(PostgresStore, SeveralWritersKeepOneAuditChain)
{
    ASSERT_TRUE(store::migrate(*db));
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w)
        writers.emplace_back([&, w] {
            auto sink = events::StateSink::open(url());
            ASSERT_TRUE(sink) << sink.error().message;
            for (int i = 0; i < 650; ++i) {
                (*sink)->emit({"task.tool", "T" + std::to_string(w), "", {{"tool", "read_file"}, {"i", i}}});
                if (i % 100 == 99) (*sink)->flush();
            }
            (*sink)->flush();
        });
    for (auto& t : writers) t.join();
    auto report = events::audit::verify(*db);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->events, 2600);  // read through a cursor, 1000 rows at a time
    EXPECT_FALSE(report->problem) << report->problem->message;
    ASSERT_TRUE(report->head);
    EXPECT_EQ(report->head->seq, 2600);
    EXPECT_FALSE(db->exec("DELETE FROM events"));  // append-only
}

// The tier-4 records (approvals of plans, applies) keep their rules on
// PostgreSQL: one approval per group and plan, one apply per plan at a time
// and once.
TEST_F(PostgresStore, PlanApprovalsAndAppliesKeepTheirRules)
{
    ASSERT_TRUE(store::migrate(*db));
    change::ApplyStore s(*db);
    const std::string task = "01M8PLANTASK00000000000001", plan(64, 'a');
    ASSERT_TRUE(s.approve(task, {"security", "alice", plan, 2000}));
    ASSERT_TRUE(s.approve(task, {"platform", "bob", plan, 1000}));
    auto twice = s.approve(task, {"security", "carol", plan, 3000});
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, Errc::conflict);
    // One person approves one group of a plan, whatever the case of the name.
    auto other_group = s.approve(task, {"ops", " ALICE", plan, 2500});
    ASSERT_FALSE(other_group);
    EXPECT_EQ(other_group.error().code, Errc::denied);
    auto approvals = s.approvals(task);
    ASSERT_TRUE(approvals);
    ASSERT_EQ(approvals->size(), 2u);
    EXPECT_EQ((*approvals)[0].by, "bob");  // oldest first
    auto waiting = s.unapplied();
    ASSERT_TRUE(waiting) << waiting.error().message;
    EXPECT_EQ(*waiting, std::vector<std::string>{task});

    auto first = s.begin(task, plan, "alice", "host:1", std::chrono::minutes(2));
    ASSERT_TRUE(first) << first.error().message;
    auto second = s.begin(task, plan, "bob", "host:2", std::chrono::minutes(2));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Errc::denied);  // `apply` refuses it (exit 3)
    ASSERT_TRUE(s.finish(*first, true, {{"applied", true}}));
    EXPECT_FALSE(s.begin(task, plan, "bob", "host:2", std::chrono::minutes(2)));  // applied once
    auto applies = s.applies(task);
    ASSERT_TRUE(applies);
    ASSERT_EQ(applies->size(), 1u);
    EXPECT_EQ((*applies)[0]["state"], "applied") << (*applies)[0].dump();
    EXPECT_TRUE(s.unapplied()->empty());

    // An apply whose holder is gone is interrupted once its lease ends, and blocks its plan until recovered.
    auto died = s.begin(task, "another-plan", "carol", "gone:3", std::chrono::milliseconds(0));
    ASSERT_TRUE(died) << died.error().message;
    EXPECT_EQ(s.recover(task, "dana").error().code, Errc::conflict);  // still running, as far as anyone knows
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto ended = s.interrupt_ended(task);
    ASSERT_TRUE(ended) << ended.error().message;
    ASSERT_EQ(ended->size(), 1u);
    EXPECT_EQ((*ended)[0]["holder"], "gone:3");
    EXPECT_EQ(s.begin(task, "another-plan", "carol", "host:4", std::chrono::minutes(2)).error().code, Errc::denied);
    auto recovered = s.recover(task, "dana");
    ASSERT_TRUE(recovered) << recovered.error().message;
    EXPECT_EQ(*recovered, std::vector<std::string>{*died});
    EXPECT_TRUE(s.begin(task, "another-plan", "carol", "host:4", std::chrono::minutes(2)));
}

}  // namespace
