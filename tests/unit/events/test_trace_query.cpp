// A task's trace read back from the audit log: its spans and those of no
// task around them (the intake that queued it, a mint inside its run), never
// another task's, whether they were recorded before schema 13 (spans indexed
// by trace) or after (a task's spans found with its other events); and each
// query of the lookup goes through an index, however large the log.
#include "core/events/audit.hpp"
#include "core/events/query.hpp"
#include "core/events/trace.hpp"
#include "core/store/db.hpp"
#include "core/store/migrations.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>

#include <cstdio>

using namespace infra::core;
using namespace infra::core::events;
using infra::test::TempDir;

namespace {

const std::string k_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string k_other_trace = "0af7651916cd43dd8448eb211c80319c";

// A span of task (or of none) in trace, child of parent, recorded at start.
void span(EventSink& sink, const std::string& name, const std::string& task, const std::string& trace,
          const std::string& parent, const std::string& id, std::int64_t start)
{
    record_span(sink, name, task, SpanContext{trace, parent}, start, start + 10, json::object(), id);
}

// A hex id of width digits for n, scattered as random ids are.
std::string id_of(int n, int width)
{
    char buf[40];
    std::snprintf(buf, sizeof buf, "%0*llx", width, static_cast<unsigned long long>(n + 1) * 0x9e3779b97f4a7c15ULL);
    return std::string(buf).substr(0, static_cast<std::size_t>(width));
}

// name (children...) of a tree, children in start order.
std::string shape(const SpanNode& n)
{
    std::string out = n.name();
    if (n.children.empty()) return out;
    out += " (";
    for (std::size_t i = 0; i < n.children.size(); ++i) out += (i ? ", " : "") + shape(n.children[i]);
    return out + ")";
}

class TraceQuery : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto d = store::Db::open((dir / "state.db").string(), true);
        ASSERT_TRUE(d);
        db = std::move(*d);
    }

    // The schema as it was at version (and its data), as an older
    // infra-agent left it.
    void migrate_to(int version)
    {
        ASSERT_TRUE(db->exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                             "applied_at TEXT NOT NULL)"));
        for (const auto& m : store::migrations()) {
            if (m.version > version) break;
            ASSERT_TRUE(db->exec(m.sql));
            if (m.after) {
                ASSERT_TRUE(m.after(*db));
            }
            ASSERT_TRUE(db->exec("INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) +
                                 ", 'x', '2026-01-01T00:00:00Z')"));
        }
    }

    void record(const MemorySink& sink) { ASSERT_TRUE(audit::append(*db, sink.events())); }

    std::string trace_shape(const std::string& task)
    {
        auto roots = trace_of(*db, task);
        EXPECT_TRUE(roots);
        if (!roots) return "";
        std::string out;
        for (const auto& r : *roots) out += (out.empty() ? "" : "; ") + shape(r);
        return out;
    }

    TempDir dir;
    std::unique_ptr<store::Db> db;
};

TEST_F(TraceQuery, ATasksSpansAndThoseOfNoTaskAroundItAreFoundAcrossTheMigration)
{
    migrate_to(12);
    // One intake queued tasks A and B in one trace; A's first run minted a
    // credential (a span of no task); B ran too; C is in a trace of its own.
    MemorySink before;
    span(before, "intake", "", k_trace, "", "1000000000000001", 100);
    span(before, "policy.evaluate", "A", k_trace, "1000000000000001", "100000000000000a", 110);
    span(before, "policy.evaluate", "B", k_trace, "1000000000000001", "100000000000000b", 120);
    span(before, "task.run", "A", k_trace, "1000000000000001", "200000000000000a", 200);
    span(before, "execute_tool read_file", "A", k_trace, "200000000000000a", "300000000000000a", 210);
    span(before, "credentials.mint", "", k_trace, "200000000000000a", "400000000000000a", 220);
    span(before, "task.run", "B", k_trace, "1000000000000001", "200000000000000b", 300);
    span(before, "credentials.mint", "", k_trace, "200000000000000b", "400000000000000b", 310);
    span(before, "task.run", "C", k_other_trace, "", "200000000000000c", 400);
    before.emit({"task.claimed", "A", "", json::object()});
    record(before);
    ASSERT_TRUE(store::migrate(*db));

    // A's second attempt, recorded after the migration.
    MemorySink after;
    span(after, "task.run", "A", k_trace, "1000000000000001", "500000000000000a", 500);
    span(after, "credentials.mint", "", k_trace, "500000000000000a", "600000000000000a", 510);
    record(after);

    EXPECT_EQ(trace_shape("A"),
              "intake (policy.evaluate, task.run (execute_tool read_file, credentials.mint), task.run "
              "(credentials.mint))");
    EXPECT_EQ(trace_shape("B"), "intake (policy.evaluate, task.run (credentials.mint))");
    EXPECT_EQ(trace_shape("C"), "task.run");
    auto a = trace_of(*db, "A");
    ASSERT_TRUE(a && a->size() == 1);
    for (const auto& child : a->front().children) EXPECT_EQ(child.event.task_id, "A");
    EXPECT_EQ(a->front().children[1].children[1].event.span_id, "400000000000000a");
    EXPECT_EQ(trace_shape("NOSUCHTASK"), "");
}

TEST_F(TraceQuery, EachQueryOfALookupGoesThroughAnIndex)
{
    ASSERT_TRUE(store::migrate(*db));
    // Many tasks, each in a trace of its own, and intakes of no task.
    for (int batch = 0; batch < 20; ++batch) {
        MemorySink sink;
        for (int i = 0; i < 100; ++i) {
            int n = batch * 100 + i;
            std::string task = "T" + std::to_string(n), trace = id_of(n, 32), intake = id_of(n, 16);
            span(sink, "intake", "", trace, "", intake, 1);
            span(sink, "task.run", task, trace, intake, id_of(n + 5000, 16), 2);
            sink.emit({"task.claimed", task, "", json::object()});
        }
        record(sink);
    }
    for (const char* where : {k_events_of_task, k_untasked_spans_of_trace}) {
        auto plan = db->prepare("EXPLAIN QUERY PLAN " + std::string(audit::k_select) + where);
        ASSERT_TRUE(plan);
        plan->bind(1, "x");
        int steps = 0;
        for (;;) {
            auto row = plan->step();
            ASSERT_TRUE(row);
            if (!*row) break;
            std::string detail = plan->text(3);
            EXPECT_NE(detail.find("USING INDEX"), std::string::npos) << where << ": " << detail;
            EXPECT_EQ(detail.find("TEMP B-TREE"), std::string::npos) << where << ": " << detail;
            ++steps;
        }
        EXPECT_GT(steps, 0) << where;
    }
    EXPECT_EQ(trace_shape("T1234"), "intake (task.run)");
    EXPECT_EQ(trace_of(*db, "T1234")->front().event.trace_id, id_of(1234, 32));
}

}  // namespace

TEST_F(TraceQuery, APrefixNamesTheTaskWhoseIdItIsOrStartsOnlyOne)
{
    ASSERT_TRUE(store::migrate(*db));
    MemorySink sink;
    for (const char* task : {"01ABC", "01ABCD", "01ABX", "03XYZ"})
        sink.emit({"task.claimed", task, "", json::object()});
    record(sink);
    auto exact = task_with_prefix(*db, "01ABC");  // also the start of 01ABCD: the exact id wins
    ASSERT_TRUE(exact && *exact);
    EXPECT_EQ(**exact, "01ABC");
    auto unique = task_with_prefix(*db, "03");
    ASSERT_TRUE(unique && *unique);
    EXPECT_EQ(**unique, "03XYZ");
    auto started = task_with_prefix(*db, "01ABX");
    ASSERT_TRUE(started && *started);
    EXPECT_EQ(**started, "01ABX");
    auto longer = task_with_prefix(*db, "01ABCD");
    ASSERT_TRUE(longer && *longer);
    EXPECT_EQ(**longer, "01ABCD");
    auto start = task_with_prefix(*db, "0");
    ASSERT_FALSE(start);
    EXPECT_EQ(start.error().code, Errc::usage);
    EXPECT_EQ(start.error().message, "task prefix '0' is ambiguous");
    auto none = task_with_prefix(*db, "04");
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
}
