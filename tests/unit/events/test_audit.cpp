// The audit log's SHA-256 chain: it holds as events are appended from
// several writers, and verify names the first event of each kind of
// tampering (changed, deleted, inserted, reordered, truncated), even when
// the tamperer recomputed hashes where that is all it takes.
#include "core/events/audit.hpp"
#include "core/events/trace.hpp"
#include "core/queue/event_stream.hpp"
#include "core/store/db.hpp"
#include "core/store/migrations.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace infra::core;
using namespace infra::core::events;
using infra::test::TempDir;

namespace {

class AuditTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        path = (dir / "state.db").string();
        auto d = store::Db::open(path, true);
        ASSERT_TRUE(d);
        db = std::move(*d);
        ASSERT_TRUE(store::migrate(*db));
    }

    void append(int n)
    {
        auto sink = StateSink::open(path);
        ASSERT_TRUE(sink);
        for (int i = 0; i < n; ++i) {
            Span s(**sink, "step", "T" + std::to_string(i % 3), {{"i", i}});
            (*sink)->emit({"task.tool", "T" + std::to_string(i % 3), "", {{"tool", "read_file"}, {"i", i}}});
        }
        (*sink)->flush();
    }

    // What someone with the database file can do: drop the guards first.
    void tamper(const std::string& sql)
    {
        ASSERT_TRUE(db->exec("DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;"));
        ASSERT_TRUE(db->exec(sql)) << sql;
    }

    // Recomputes the stored hash of one row as a careful tamperer would.
    void rehash(std::int64_t seq)
    {
        std::optional<audit::Record> r;
        ASSERT_TRUE(audit::scan(*db, seq, [&](const audit::Record& x) -> Status {
            if (!r) r = x;
            return {};
        }));
        ASSERT_TRUE(r && r->seq == seq);
        std::string h = audit::link_hash(r->prev_hash, seq, r->event, r->data_text);
        tamper("UPDATE events SET hash = '" + h + "' WHERE seq = " + std::to_string(seq));
    }

    audit::Problem broken()
    {
        auto rep = audit::verify(*db);
        EXPECT_TRUE(rep);
        if (!rep || !rep->problem) {
            ADD_FAILURE() << "verify found nothing";
            return {};
        }
        return *rep->problem;
    }

    TempDir dir;
    std::string path;
    std::unique_ptr<store::Db> db;
};

}  // namespace

TEST_F(AuditTest, AnUntouchedLogVerifiesAndItsHeadIsTheLastLink)
{
    append(10);
    auto rep = audit::verify(*db);
    ASSERT_TRUE(rep) << rep.error().message;
    EXPECT_FALSE(rep->problem) << rep->problem->message;
    EXPECT_EQ(rep->events, 20);
    ASSERT_TRUE(rep->head);
    EXPECT_EQ(rep->head->seq, 20);
    auto h = audit::head(*db);
    ASSERT_TRUE(h && *h);
    EXPECT_EQ((*h)->hash, rep->head->hash);
    // A head kept elsewhere still checks out after more events.
    audit::Head kept = **h;
    append(2);
    auto again = audit::verify(*db, kept);
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->problem);
    EXPECT_EQ(again->events, 24);
}

TEST_F(AuditTest, ConcurrentWritersKeepOneChain)
{
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) writers.emplace_back([this] { append(50); });
    for (auto& t : writers) t.join();
    auto rep = audit::verify(*db);
    ASSERT_TRUE(rep);
    EXPECT_FALSE(rep->problem) << rep->problem->message;
    EXPECT_EQ(rep->events, 400);
}

TEST_F(AuditTest, EventsLinkedBeforeAnotherWriterAppendedAreLinkedAgain)
{
    // Linked from the empty log; another writer appends first.
    std::vector<Event> mine;
    for (int i = 0; i < 150; ++i) mine.push_back({"task.tool", "M", "2026-12-06T00:00:00Z", {{"i", i}}});
    auto prepared = audit::prepare(mine, audit::Head{0, audit::k_genesis});
    EXPECT_EQ(prepared.last().seq, 150);
    append(3);
    auto tx = store::Transaction::begin(*db);
    ASSERT_TRUE(tx);
    auto h = audit::Appender(*db).append(prepared);
    ASSERT_TRUE(h) << h.error().message;
    ASSERT_TRUE(tx->commit());
    EXPECT_EQ(h->seq, 156);
    auto rep = audit::verify(*db);
    ASSERT_TRUE(rep);
    EXPECT_FALSE(rep->problem) << rep->problem->message;
    EXPECT_EQ(rep->events, 156);
    ASSERT_TRUE(rep->head);
    EXPECT_EQ(rep->head->hash, h->hash);
}

TEST_F(AuditTest, AnEventWithoutATraceJoinsItsTasksTraceFromTheLog)
{
    append(1);  // task T0's span, with its trace
    std::string trace;
    ASSERT_TRUE(audit::scan(*db, 1, [&](const audit::Record& r) -> Status {
        if (r.event.task_id == "T0" && !r.event.trace_id.empty()) trace = r.event.trace_id;
        return {};
    }));
    ASSERT_FALSE(trace.empty());
    auto tx = store::Transaction::begin(*db);
    ASSERT_TRUE(tx);
    Event later{"task.heartbeat", "T0", "2026-12-06T00:00:01Z"};
    ASSERT_TRUE(audit::append(*db, std::vector<Event>{later}));
    ASSERT_TRUE(tx->commit());
    std::string joined;
    ASSERT_TRUE(audit::scan(*db, 3, [&](const audit::Record& r) -> Status {
        joined = r.event.trace_id;
        return {};
    }));
    EXPECT_EQ(joined, trace);
    auto rep = audit::verify(*db);
    ASSERT_TRUE(rep);
    EXPECT_FALSE(rep->problem) << rep->problem->message;
}

TEST_F(AuditTest, SqlCannotChangeOrDeleteEventsWhileTheGuardsStand)
{
    append(2);
    EXPECT_FALSE(db->exec("UPDATE events SET data = '{}' WHERE seq = 1"));
    EXPECT_FALSE(db->exec("DELETE FROM events WHERE seq = 1"));
    auto rep = audit::verify(*db);
    EXPECT_FALSE(rep->problem);
}

TEST_F(AuditTest, AChangedEventIsNamed)
{
    append(5);
    tamper("UPDATE events SET data = json_set(data, '$.tool', 'shell') WHERE seq = 4");
    auto p = broken();
    EXPECT_EQ(p.seq, 4);
    EXPECT_EQ(p.kind, "changed");
}

TEST_F(AuditTest, AChangedEventWithItsHashRecomputedIsStillNamed)
{
    append(5);
    tamper("UPDATE events SET task_id = 'OTHER' WHERE seq = 4");
    rehash(4);
    auto p = broken();
    EXPECT_EQ(p.seq, 4);
    EXPECT_EQ(p.kind, "changed");
}

TEST_F(AuditTest, ADeletedEventIsNamed)
{
    append(5);
    tamper("DELETE FROM events WHERE seq = 6");
    auto p = broken();
    EXPECT_EQ(p.seq, 6);
    EXPECT_EQ(p.kind, "deleted");
}

TEST_F(AuditTest, DeletingAndRenumberingIsNamed)
{
    append(5);
    tamper("DELETE FROM events WHERE seq = 6; UPDATE events SET seq = seq - 1 WHERE seq > 6");
    auto p = broken();
    EXPECT_EQ(p.seq, 6);
    EXPECT_EQ(p.kind, "deleted");
}

TEST_F(AuditTest, TruncatingTheNewestEventsIsNamed)
{
    append(5);
    tamper("DELETE FROM events WHERE seq > 8");
    auto p = broken();
    EXPECT_EQ(p.seq, 9);
    EXPECT_EQ(p.kind, "deleted");
    // New events after the cut do not hide it.
    append(1);
    EXPECT_EQ(broken().kind, "deleted");
}

TEST_F(AuditTest, AnInsertedEventIsNamed)
{
    append(5);
    // Make room at seq 4 and forge an event there, linked and hashed as a
    // tamperer who knows the scheme would.
    tamper("UPDATE events SET seq = seq + 1000 WHERE seq >= 4; UPDATE events SET seq = seq - 999 WHERE seq >= 1004");
    std::optional<audit::Record> before;
    ASSERT_TRUE(audit::scan(*db, 3, [&](const audit::Record& r) -> Status {
        if (!before) before = r;
        return {};
    }));
    Event forged{"task.approved", "T1", "2026-11-24T00:00:00.000Z", {{"by", "mallory"}}};
    std::string text = forged.data.dump();
    std::string h = audit::link_hash(before->hash, 4, forged, text);
    tamper("INSERT INTO events (seq, time, task_id, type, data, prev_hash, hash) VALUES (4, '" + forged.time +
           "', 'T1', 'task.approved', '" + text + "', '" + before->hash + "', '" + h + "')");
    auto p = broken();
    EXPECT_EQ(p.seq, 4);
    EXPECT_EQ(p.kind, "inserted");
}

TEST_F(AuditTest, AnEventAppendedOutsideInfraAgentIsNamed)
{
    append(2);
    tamper("INSERT INTO events (seq, time, type, data) VALUES (5, '2026-11-24T00:00:00.000Z', 'task.approved', '{}')");
    auto p = broken();
    EXPECT_EQ(p.seq, 5);
    EXPECT_EQ(p.kind, "inserted");
}

TEST_F(AuditTest, ReorderedEventsAreNamed)
{
    append(5);
    // Swap the contents of 5 and 6, links and hashes included.
    tamper("UPDATE events SET seq = -5 WHERE seq = 5; UPDATE events SET seq = 5 WHERE seq = 6; "
           "UPDATE events SET seq = 6 WHERE seq = -5");
    auto p = broken();
    EXPECT_EQ(p.seq, 5);
    EXPECT_EQ(p.kind, "reordered");
}

TEST_F(AuditTest, ARewrittenChainFailsAgainstAHeadKeptElsewhere)
{
    append(3);
    auto kept = **audit::head(*db);
    // Rewrite event 2 and every link after it, meta head included.
    tamper("UPDATE events SET data = '{\"tool\":\"shell\"}' WHERE seq = 2");
    std::string prev;
    ASSERT_TRUE(audit::scan(*db, 1, [&](const audit::Record& r) -> Status {
        if (r.seq == 1) {
            prev = r.hash;
            return {};
        }
        std::string h = audit::link_hash(prev, r.seq, r.event, r.data_text);
        tamper("UPDATE events SET prev_hash = '" + prev + "', hash = '" + h + "' WHERE seq = " + std::to_string(r.seq));
        prev = h;
        return {};
    }));
    tamper("UPDATE meta SET value = '6:" + prev + "' WHERE key = 'audit.head'");
    auto self = audit::verify(*db);
    EXPECT_FALSE(self->problem);  // consistent with itself: only an outside copy tells
    auto rep = audit::verify(*db, kept);
    ASSERT_TRUE(rep && rep->problem);
    EXPECT_EQ(rep->problem->seq, kept.seq);
}

TEST_F(AuditTest, EventsFromBeforeTheChainAreAdopted)
{
    // A state db at schema 5 with events, then migrated.
    TempDir old;
    std::string p = (old / "s.db").string();
    auto d = store::Db::open(p, true);
    ASSERT_TRUE(d);
    ASSERT_TRUE((*d)->exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"));
    for (const auto& m : store::migrations()) {
        if (m.version > 5) break;
        ASSERT_TRUE((*d)->exec(m.sql));
        ASSERT_TRUE((*d)->exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", 'x', 'now')"));
    }
    ASSERT_TRUE((*d)->exec("INSERT INTO events (time, task_id, type, data) VALUES "
                           "('2026-01-01T00:00:00.000Z', 'T1', 'task.enqueued', '{}'), "
                           "('2026-01-01T00:00:01.000Z', 'T1', 'task.claimed', '{}')"));
    ASSERT_TRUE(store::migrate(**d));
    auto rep = audit::verify(**d);
    ASSERT_TRUE(rep);
    EXPECT_FALSE(rep->problem) << rep->problem->message;
    EXPECT_EQ(rep->events, 2);
    EXPECT_FALSE((*d)->exec("DELETE FROM events"));
}

namespace infra::core::events {
namespace {

TEST_F(AuditTest, WorkerEventsHandedOutAgainAfterACrashAreRecordedOnce)
{
    auto line = [](int i) {
        Event e{"task.tool", "T1", "", {{"i", i}}};
        stamp(e);
        return to_json(e).dump();
    };
    std::vector<queue::Queue::StreamEvent> batch = {{"1700000000000-0", line(0)}, {"1700000000000-1", line(1)}};
    ASSERT_TRUE(queue::apply_stream_events(*db, batch));
    // The server died before the stream removed them: the same ids come again, with one new event.
    batch.push_back({"1700000000001-0", line(2)});
    ASSERT_TRUE(queue::apply_stream_events(*db, batch));
    auto report = audit::verify(*db);
    ASSERT_TRUE(report);
    EXPECT_EQ(report->events, 3);
    EXPECT_FALSE(report->problem);
    // Once the stream has let go of them, the ids are forgotten.
    ASSERT_TRUE(queue::forget_stream_events(*db, {"1700000000000-0", "1700000000000-1", "1700000000001-0"}));
    auto left = db->prepare("SELECT COUNT(*) FROM stream_applied");
    ASSERT_TRUE(left);
    ASSERT_TRUE(left->step());
    EXPECT_EQ(left->integer(0), 0);
}

}  // namespace
}  // namespace infra::core::events
