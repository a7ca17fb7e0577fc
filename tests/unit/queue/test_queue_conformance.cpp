// The queue's contract, run against every backend: SQLite, and PostgreSQL
// and Redis Streams on real servers each test starts for itself.
#include "core/queue/queue.hpp"
#include "plugins/queues/postgres_queue.hpp"
#include "plugins/queues/redis_queue.hpp"
#include "plugins/queues/sqlite_queue.hpp"
#include "support/fixtures.hpp"
#include "support/run.hpp"
#include "support/servers.hpp"

#include <gtest/gtest.h>

#include <csignal>

#include <map>
#include <mutex>
#include <thread>

using namespace infra::core;
using namespace infra::core::queue;
using infra::test::TempDir;

namespace {

AgentTask make_task(const std::string& id, Priority p = Priority::normal, const std::string& key = "",
                    const std::string& agent = "test")
{
    AgentTask t;
    t.id = id;
    t.type = TaskType::compliance_remediation;
    t.trigger = {"api", "test", "", "2026-11-24T12:00:00.000Z"};
    t.context.agent_slug = agent;
    t.context.priority = p;
    t.dedupe_key = key.empty() ? "k-" + id : key;
    return t;
}

EnqueueItem item(AgentTask t, State s = State::queued, Millis delay = Millis(0), int max_attempts = 3)
{
    json decision = {{"allowed", true}, {"tier", 2}, {"requiredApprovals", json::array()}};
    if (s == State::pending_approval) decision["requiredApprovals"] = json::array({"sec", "ops"});
    return {std::move(t), decision, s, delay, max_attempts};
}

struct QueueConformance : ::testing::TestWithParam<std::string> {
    TempDir dir;
    std::unique_ptr<infra::test::PostgresServer> postgres;
    std::unique_ptr<infra::test::RedisServer> redis;
    std::string url;
    std::unique_ptr<Queue> q;

    void SetUp() override
    {
        if (GetParam() == "postgres") {
            postgres = std::make_unique<infra::test::PostgresServer>();
            ASSERT_TRUE(postgres->ok()) << postgres->error();
            url = postgres->url();
        } else if (GetParam() == "redis") {
            redis = std::make_unique<infra::test::RedisServer>();
            ASSERT_TRUE(redis->ok()) << redis->error();
            url = redis->url();
        } else {
            url = "sqlite://" + (dir / "q.db").string();
        }
        auto opened = open();
        ASSERT_TRUE(opened) << opened.error().message;
        q = std::move(*opened);
    }

    /// Another handle on the same queue, as another process would have.
    Result<std::unique_ptr<Queue>> open()
    {
        Registry backends;
        backends.add("sqlite", infra::plugins::queues::open_sqlite_url);
        backends.add("postgres", infra::plugins::queues::open_postgres_url);
        backends.add("redis", infra::plugins::queues::open_redis_url);
        return backends.open(url);
    }
    std::vector<std::string> claim_ids(std::size_t n, Millis lease = Millis(30000))
    {
        std::vector<std::string> ids;
        auto leases = q->claim("w", n, lease);
        EXPECT_TRUE(leases);
        for (auto& l : *leases) ids.push_back(l.id);
        return ids;
    }
};

}  // namespace

TEST_P(QueueConformance, PriorityThenFirstInFirstOut)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("a", Priority::low)));
    items.push_back(item(make_task("b", Priority::normal)));
    items.push_back(item(make_task("c", Priority::critical)));
    items.push_back(item(make_task("d", Priority::normal)));
    items.push_back(item(make_task("e", Priority::high)));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    EXPECT_EQ(claim_ids(2), (std::vector<std::string>{"c", "e"}));
    EXPECT_EQ(claim_ids(10), (std::vector<std::string>{"b", "d", "a"}));
    EXPECT_TRUE(claim_ids(10).empty());
}

TEST_P(QueueConformance, DecisionPriorityRaisesTheTasks)
{
    auto a = item(make_task("a", Priority::low));
    a.decision["priority"] = "critical";
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("b", Priority::high)));
    items.push_back(std::move(a));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    EXPECT_EQ(claim_ids(1), (std::vector<std::string>{"a"}));
}

TEST_P(QueueConformance, DelayedTasksWait)
{
    std::vector<EnqueueItem> items;
    // Delays and leases in these tests are long enough for a loaded machine.
    items.push_back(item(make_task("later"), State::queued, Millis(400)));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    EXPECT_TRUE(claim_ids(1).empty());
    EXPECT_EQ(q->stats()->delayed, 1);
    std::this_thread::sleep_for(Millis(450));
    EXPECT_EQ(claim_ids(1), (std::vector<std::string>{"later"}));
}

TEST_P(QueueConformance, DedupeAmongUnfinishedTasks)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("one", Priority::normal, "same")));
    items.push_back(item(make_task("two", Priority::normal, "same")));
    auto out = q->enqueue(std::move(items));
    ASSERT_TRUE(out);
    EXPECT_FALSE((*out)[0].duplicate);
    EXPECT_TRUE((*out)[1].duplicate);
    EXPECT_EQ((*out)[1].id, "one");
    // The same task twice in one batch: the second is the first's duplicate.
    std::vector<EnqueueItem> twice;
    twice.push_back(item(make_task("pair", Priority::normal, "pair-key")));
    twice.push_back(item(make_task("pair", Priority::normal, "pair-key")));
    auto paired = q->enqueue(std::move(twice));
    ASSERT_TRUE(paired) << paired.error().message;
    EXPECT_FALSE((*paired)[0].duplicate);
    EXPECT_TRUE((*paired)[1].duplicate);
    EXPECT_EQ((*paired)[1].id, "pair");
    ASSERT_TRUE(q->cancel("pair"));
    auto leases = q->claim("w", 1, Millis(30000));
    ASSERT_TRUE(q->ack("one", (*leases)[0].token, json::object()));
    // Finished: the same work may be queued again.
    std::vector<EnqueueItem> again;
    again.push_back(item(make_task("three", Priority::normal, "same")));
    auto out2 = q->enqueue(std::move(again));
    EXPECT_FALSE((*out2)[0].duplicate);
    EXPECT_EQ((*out2)[0].id, "three");
}

// A duplicate (by dedupe key or by id) is answered, and the handle goes on
// writing after another handle wrote: SQLite's duplicate look-up once kept
// its read snapshot past the commit, and every later write on the
// connection failed with "database is locked".
TEST_P(QueueConformance, ADuplicateLeavesTheQueueWritable)
{
    auto other = open();
    ASSERT_TRUE(other) << other.error().message;
    auto enqueue_one = [](Queue& on, AgentTask t) {
        std::vector<EnqueueItem> items;
        items.push_back(item(std::move(t)));
        return on.enqueue(std::move(items));
    };
    ASSERT_TRUE(enqueue_one(*q, make_task("first", Priority::normal, "same-work")));
    for (int i = 0; i < 3; ++i) {
        // The same work under a new id, then a new task reusing the id.
        auto by_key = enqueue_one(*q, make_task("again-" + std::to_string(i), Priority::normal, "same-work"));
        ASSERT_TRUE(by_key) << by_key.error().message;
        EXPECT_TRUE((*by_key)[0].duplicate);
        EXPECT_EQ((*by_key)[0].id, "first");
        auto by_id = enqueue_one(*q, make_task("first", Priority::normal, "other-work-" + std::to_string(i)));
        ASSERT_TRUE(by_id) << by_id.error().message;
        EXPECT_TRUE((*by_id)[0].duplicate);
        EXPECT_EQ((*by_id)[0].id, "first");
        // Another process writes in between.
        auto elsewhere = enqueue_one(**other, make_task("other-" + std::to_string(i)));
        ASSERT_TRUE(elsewhere) << elsewhere.error().message;
        EXPECT_FALSE((*elsewhere)[0].duplicate);
    }
    // The next new task is admitted on the handle that answered the duplicates.
    auto fresh = enqueue_one(*q, make_task("fresh"));
    ASSERT_TRUE(fresh) << fresh.error().message;
    EXPECT_FALSE((*fresh)[0].duplicate);
    EXPECT_EQ((*fresh)[0].state, State::queued);
    auto leases = q->claim("w", 10, Millis(30000));
    ASSERT_TRUE(leases) << leases.error().message;
    EXPECT_EQ(leases->size(), 5u);
    EXPECT_TRUE(q->cancel("fresh"));
    EXPECT_EQ(q->show("fresh")->state, State::cancelled);
}

TEST_P(QueueConformance, ExpiredLeaseGoesToTheNextWorkerAndFencesTheOld)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("t")));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto first = q->claim("w1", 1, Millis(300));
    ASSERT_EQ(first->size(), 1u);
    EXPECT_TRUE(q->heartbeat("t", (*first)[0].token, Millis(300)));
    std::this_thread::sleep_for(Millis(400));
    auto second = q->claim("w2", 1, Millis(30000));
    ASSERT_EQ(second->size(), 1u);
    EXPECT_GT((*second)[0].token, (*first)[0].token);
    EXPECT_EQ((*second)[0].attempt, 2);
    auto stale = q->ack("t", (*first)[0].token, json::object());
    ASSERT_FALSE(stale);
    EXPECT_EQ(stale.error().code, Errc::conflict);
    EXPECT_NE(stale.error().message.find("another worker holds it now"), std::string::npos) << stale.error().message;
    EXPECT_FALSE(q->heartbeat("t", (*first)[0].token, Millis(1000)));
    EXPECT_TRUE(q->ack("t", (*second)[0].token, json{{"ok", true}}));
    EXPECT_EQ(q->show("t")->state, State::succeeded);
    EXPECT_EQ(q->show("t")->result["ok"], true);
}

TEST_P(QueueConformance, AckAfterTheLeaseRanOutIsRefused)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("t")));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto l = q->claim("w", 1, Millis(30));
    std::this_thread::sleep_for(Millis(60));
    auto st = q->ack("t", (*l)[0].token, json::object());
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("the lease expired"), std::string::npos);
}

TEST_P(QueueConformance, RetriesWithBackoffThenDeadWithTheLastError)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("t"), State::queued, Millis(0), 2));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    // The first retry waits between half the base and the base (jitter):
    // long enough that a loaded machine still claims within it.
    Backoff b{Millis(400), Millis(1000)};
    auto l1 = q->claim("w", 1, Millis(30000));
    auto nacked = now_ms();
    EXPECT_EQ(*q->nack("t", (*l1)[0].token, "boom 1", b), State::queued);
    EXPECT_TRUE(claim_ids(1).empty());  // backing off
    EXPECT_GE(q->show("t")->available_ms, nacked + 200);
    std::this_thread::sleep_for(Millis(420));
    auto l2 = q->claim("w", 1, Millis(30000));
    ASSERT_EQ(l2->size(), 1u);
    EXPECT_EQ(*q->nack("t", (*l2)[0].token, "boom 2", b), State::dead);
    auto e = q->show("t");
    EXPECT_EQ(e->state, State::dead);
    EXPECT_EQ(e->last_error, "boom 2");
    EXPECT_EQ(e->attempts, 2);
    ASSERT_TRUE(q->retry("t"));
    EXPECT_EQ(q->show("t")->state, State::queued);
    EXPECT_EQ(q->show("t")->attempts, 0);
    EXPECT_FALSE(q->retry("t"));  // only dead or cancelled tasks
}

TEST_P(QueueConformance, NonRetryableFailuresAreDeadAtOnce)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("t"), State::queued, Millis(0), 5));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto l = q->claim("w", 1, Millis(30000));
    EXPECT_EQ(*q->nack("t", (*l)[0].token, "no fix for this", Backoff{}, false), State::dead);
}

TEST(QueueBackoff, GrowsAndIsCapped)
{
    Backoff b{Millis(1000), Millis(10000)};
    for (int i = 0; i < 50; ++i) {
        auto d1 = b.delay(1).count(), d3 = b.delay(3).count(), d9 = b.delay(9).count();
        EXPECT_GE(d1, 500);
        EXPECT_LE(d1, 1000);
        EXPECT_GE(d3, 2000);
        EXPECT_LE(d3, 4000);
        EXPECT_GE(d9, 5000);
        EXPECT_LE(d9, 10000);
    }
}

TEST_P(QueueConformance, CancelFencesTheWorker)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("t")));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto l = q->claim("w", 1, Millis(30000));
    ASSERT_TRUE(q->cancel("t"));
    auto st = q->ack("t", (*l)[0].token, json::object());
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("it is cancelled now"), std::string::npos);
    EXPECT_FALSE(q->cancel("t"));
    EXPECT_EQ(q->cancel("nope").error().code, Errc::not_found);
}

TEST_P(QueueConformance, ReleaseDoesNotCountTheAttempt)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("t")));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto l = q->claim("w", 1, Millis(30000));
    ASSERT_TRUE(q->release("t", (*l)[0].token));
    EXPECT_EQ(q->show("t")->attempts, 0);
    EXPECT_EQ(claim_ids(1), (std::vector<std::string>{"t"}));
}

// A task waiting on a limit: back on the queue, not an attempt, with the
// reason as its last error, claimable again after the delay; a stale token
// is refused.
TEST_P(QueueConformance, DeferWaitsWithItsReasonWithoutCountingTheAttempt)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("t")));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto l = q->claim("w", 1, Millis(30000));
    ASSERT_EQ(l->size(), 1u);
    EXPECT_FALSE(q->defer("t", (*l)[0].token + 1, Millis(400), "waiting: stale"));
    ASSERT_TRUE(q->defer("t", (*l)[0].token, Millis(400), "waiting: 5 open"));
    auto e = q->show("t");
    EXPECT_EQ(e->state, State::queued);
    EXPECT_EQ(e->attempts, 0);
    EXPECT_EQ(e->last_error, "waiting: 5 open");
    EXPECT_TRUE(claim_ids(1).empty());
    EXPECT_EQ(q->stats()->delayed, 1);
    std::this_thread::sleep_for(Millis(450));
    EXPECT_EQ(claim_ids(1), (std::vector<std::string>{"t"}));
}

// A lease says what the worker needs of its task: the attempt and its
// limit, the lease's end, and since when the task was ready to claim; stats
// say how long the oldest ready task has waited.
TEST_P(QueueConformance, LeasesCarryAttemptsLimitsAndReadyTimes)
{
    auto before = now_ms();
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("t"), State::queued, Millis(0), 7));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto after = now_ms();
    std::this_thread::sleep_for(Millis(60));
    auto st = q->stats();
    ASSERT_TRUE(st);
    EXPECT_GE(st->oldest_ready_ms, 50);
    auto l = q->claim("w", 1, Millis(30000));
    ASSERT_EQ(l->size(), 1u);
    const Lease& lease = l->front();
    EXPECT_EQ(lease.attempt, 1);
    EXPECT_EQ(lease.max_attempts, 7);
    EXPECT_GE(lease.ready_ms, before);
    EXPECT_LE(lease.ready_ms, after);
    EXPECT_GE(lease.lease_until_ms, lease.claimed_ms + 29000);
    EXPECT_EQ(lease.task["id"], "t");
    // Back on the queue, the next attempt is ready from then on.
    auto released = now_ms();
    ASSERT_TRUE(q->nack("t", lease.token, "boom", Backoff{Millis(0), Millis(0)}));
    l = q->claim("w", 1, Millis(30000));
    ASSERT_EQ(l->size(), 1u);
    EXPECT_EQ(l->front().attempt, 2);
    EXPECT_EQ(l->front().max_attempts, 7);
    EXPECT_GT(l->front().token, lease.token);
    EXPECT_GE(l->front().ready_ms, released);
}

// A task that goes back on the queue (released, retried after its backoff,
// approved at last, or back after its lease ran out) keeps its place: it is
// claimed before the tasks enqueued after it.
TEST_P(QueueConformance, TasksBackOnTheQueueKeepTheirPlace)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("p"), State::pending_approval));
    for (const char* id : {"a", "b", "c", "d"}) items.push_back(item(make_task(id)));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto l = q->claim("w", 1, Millis(30000));
    ASSERT_EQ(l->at(0).id, "a");
    ASSERT_TRUE(q->release("a", (*l)[0].token));
    auto st = q->stats();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->ready, 4);
    EXPECT_GE(st->oldest_ready_ms, 0);
    l = q->claim("w", 1, Millis(30000));
    ASSERT_EQ(l->at(0).id, "a");
    EXPECT_EQ(*q->nack("a", (*l)[0].token, "boom", Backoff{Millis(0), Millis(0)}), State::queued);
    l = q->claim("w", 1, Millis(30000));
    ASSERT_EQ(l->at(0).id, "a");
    ASSERT_TRUE(q->ack("a", (*l)[0].token, json::object()));
    ASSERT_TRUE(q->approve("p", "sec", "ana"));
    ASSERT_TRUE(q->approve("p", "ops", "bob"));
    l = q->claim("w", 2, Millis(300));
    EXPECT_EQ(l->size(), 2u);
    EXPECT_EQ(l->at(0).id, "p");
    EXPECT_EQ(l->at(1).id, "b");
    std::this_thread::sleep_for(Millis(400));
    EXPECT_EQ(claim_ids(10), (std::vector<std::string>{"p", "b", "c", "d"}));
    // One back on the queue can still be cancelled there.
    std::vector<EnqueueItem> more;
    more.push_back(item(make_task("e")));
    ASSERT_TRUE(q->enqueue(std::move(more)));
    l = q->claim("w", 1, Millis(30000));
    ASSERT_EQ(l->at(0).id, "e");
    ASSERT_TRUE(q->release("e", (*l)[0].token));
    ASSERT_TRUE(q->cancel("e"));
    EXPECT_TRUE(claim_ids(10).empty());
    EXPECT_EQ(q->stats()->ready, 0);
}

TEST_P(QueueConformance, ApprovalsGateTheTask)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("t"), State::pending_approval));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    EXPECT_TRUE(claim_ids(1).empty());
    EXPECT_EQ(q->approve("t", "qa", "ana").error().code, Errc::conflict);
    EXPECT_EQ(*q->approve("t", "sec", "ana"), State::pending_approval);
    EXPECT_EQ(q->approve("t", "sec", "bob").error().code, Errc::conflict);  // already approved
    EXPECT_TRUE(claim_ids(1).empty());
    EXPECT_EQ(*q->approve("t", "ops", "bob"), State::queued);
    auto e = q->show("t");
    EXPECT_EQ(e->approvals.size(), 2u);
    EXPECT_EQ(e->approvals[1]["by"], "bob");
    EXPECT_EQ(claim_ids(1), (std::vector<std::string>{"t"}));
}

TEST_P(QueueConformance, RejectDenies)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("t"), State::pending_approval));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    ASSERT_TRUE(q->reject("t", "ana", "not now"));
    EXPECT_EQ(q->show("t")->state, State::denied);
    EXPECT_EQ(q->show("t")->last_error, "rejected by ana: not now");
}

TEST_P(QueueConformance, PurgeKeepsWhatIsRecentOrUnfinished)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("done")));
    items.push_back(item(make_task("open")));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto l = q->claim("w", 1, Millis(30000));
    ASSERT_TRUE(q->ack((*l)[0].id, (*l)[0].token, json::object()));
    EXPECT_EQ(*q->purge(Millis(60000)), 0);
    std::this_thread::sleep_for(Millis(20));
    EXPECT_EQ(*q->purge(Millis(10)), 1);
    EXPECT_EQ(q->show("done").error().code, Errc::not_found);
    EXPECT_TRUE(q->show("open"));
    EXPECT_FALSE(q->purge(Millis(0), {State::queued}));
}

TEST_P(QueueConformance, ClaimsOnlyTheAgentsAWorkerHas)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("a", Priority::normal, "", "builtin")));
    items.push_back(item(make_task("b", Priority::normal, "", "llm")));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto l = q->claim("w", 5, Millis(30000), {"llm"});
    ASSERT_EQ(l->size(), 1u);
    EXPECT_EQ((*l)[0].id, "b");
}

TEST_P(QueueConformance, RedecideAtClaim)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("t")));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto l = q->claim("w", 1, Millis(30000));
    json d = {{"allowed", true}, {"requiredApprovals", json::array({"sec"})}};
    ASSERT_TRUE(q->redecide("t", (*l)[0].token, State::pending_approval, d, "needs sec now"));
    auto e = q->show("t");
    EXPECT_EQ(e->state, State::pending_approval);
    EXPECT_EQ(e->required_approvals, (std::vector<std::string>{"sec"}));
    EXPECT_EQ(e->attempts, 0);
}

TEST_P(QueueConformance, ShowAcceptsAUniquePrefix)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("01ABC")));
    items.push_back(item(make_task("01ABD")));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    EXPECT_EQ(q->show("01ABC")->id, "01ABC");
    EXPECT_EQ(q->show("01AB").error().code, Errc::usage);
    EXPECT_EQ(q->show("01ABD")->task["id"], "01ABD");
}

TEST_P(QueueConformance, ManyThreadsShareOneQueueWithoutLosingOrDoubling)
{
    std::vector<EnqueueItem> items;
    for (int i = 0; i < 400; ++i) items.push_back(item(make_task("t" + std::to_string(i))));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    std::mutex m;
    std::map<std::string, int> acked;
    std::vector<std::thread> threads;
    for (int w = 0; w < 8; ++w)
        threads.emplace_back([&, w] {
            for (;;) {
                auto l = q->claim("w" + std::to_string(w), 4, Millis(30000));
                ASSERT_TRUE(l);
                if (l->empty()) return;
                for (auto& x : *l) {
                    ASSERT_TRUE(q->ack(x.id, x.token, json::object()));
                    std::lock_guard lock(m);
                    ++acked[x.id];
                }
            }
        });
    for (auto& t : threads) t.join();
    EXPECT_EQ(acked.size(), 400u);
    for (const auto& [id, n] : acked) EXPECT_EQ(n, 1) << id;
    EXPECT_EQ(q->stats()->by_state["succeeded"], 400);
}

TEST_P(QueueConformance, AckBatchRefusesOnlyTheLostLease)
{
    std::vector<EnqueueItem> items;
    for (const char* id : {"a", "b", "c"}) items.push_back(item(make_task(id)));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto l = q->claim("w", 3, Millis(30000));
    ASSERT_EQ(l->size(), 3u);
    ASSERT_TRUE(q->cancel("b"));
    auto out = q->ack_batch(
        {{"a", (*l)[0].token, json{{"n", 1}}, {}}, {"b", (*l)[1].token, {}, {}}, {"c", (*l)[2].token, {}, {}}});
    ASSERT_EQ(out.size(), 3u);
    EXPECT_TRUE(out[0]);
    ASSERT_FALSE(out[1]);
    EXPECT_EQ(out[1].error().code, Errc::conflict);
    EXPECT_TRUE(out[2]);
    EXPECT_EQ(q->show("a")->result["n"], 1);
    EXPECT_EQ(q->show("c")->state, State::succeeded);
}

TEST_P(QueueConformance, TwoHandlesShareTheQueueAndItsFencing)
{
    auto other = open();
    ASSERT_TRUE(other) << other.error().message;
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("t")));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto mine = q->claim("w1", 1, Millis(30000));
    ASSERT_EQ(mine->size(), 1u);
    EXPECT_TRUE((*other)->claim("w2", 1, Millis(30000))->empty());
    auto stats = (*other)->stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->by_state["leased"], 1);
    EXPECT_FALSE((*other)->ack("t", (*mine)[0].token + 1, json::object()));
    EXPECT_TRUE((*other)->ack("t", (*mine)[0].token, json::object()));
    EXPECT_EQ(q->show("t")->state, State::succeeded);
}

TEST_P(QueueConformance, StatsAndListSeeEveryState)
{
    std::vector<EnqueueItem> items;
    items.push_back(item(make_task("q1")));
    items.push_back(item(make_task("q2"), State::queued, Millis(60000)));
    items.push_back(item(make_task("p"), State::pending_approval));
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto st = q->stats();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->ready, 1);
    EXPECT_EQ(st->delayed, 1);
    EXPECT_EQ(st->by_state["pending-approval"], 1);
    auto pending = q->list({{State::pending_approval}, "", 10});
    ASSERT_TRUE(pending);
    ASSERT_EQ(pending->size(), 1u);
    EXPECT_EQ((*pending)[0].id, "p");
    EXPECT_EQ((*pending)[0].required_approvals, (std::vector<std::string>{"sec", "ops"}));
    auto all = q->list({{}, "", 10});
    ASSERT_EQ(all->size(), 3u);
    EXPECT_EQ((*all)[0].id, "p");  // newest first
}

// ls: newest first across whichever states are asked for (each backend
// keeps the states apart: leased tasks, for one, in their own index), with
// the type filter and the limit applied after the merge.
TEST_P(QueueConformance, ListsNewestFirstAcrossStatesAndTypes)
{
    std::vector<EnqueueItem> items;
    for (int i = 0; i < 12; ++i) {
        auto t = make_task("t" + std::string(i < 10 ? "0" : "") + std::to_string(i));
        if (i % 2) t.type = TaskType::drift_detection;
        items.push_back(item(std::move(t)));
    }
    ASSERT_TRUE(q->enqueue(std::move(items)));
    auto leases = q->claim("w", 4, Millis(30000));
    ASSERT_TRUE(leases);
    ASSERT_EQ(leases->size(), 4u);
    ASSERT_EQ((*leases)[0].id, "t00");
    ASSERT_TRUE(q->ack("t00", (*leases)[0].token, json::object()));
    // Leases that end out of the tasks' order.
    ASSERT_TRUE(q->heartbeat("t01", (*leases)[1].token, Millis(60000)));
    ASSERT_TRUE(q->cancel("t04"));
    auto ids = [&](std::vector<State> states, const std::string& type, std::size_t limit) {
        std::vector<std::string> out;
        auto l = q->list({std::move(states), type, limit});
        EXPECT_TRUE(l) << l.error().message;
        if (l)
            for (const auto& e : *l) out.push_back(e.id);
        return out;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(ids({}, "", 100),
              (V{"t11", "t10", "t09", "t08", "t07", "t06", "t05", "t04", "t03", "t02", "t01", "t00"}));
    EXPECT_EQ(ids({}, "", 3), (V{"t11", "t10", "t09"}));
    EXPECT_EQ(ids({State::leased}, "", 10), (V{"t03", "t02", "t01"}));
    EXPECT_EQ(ids({State::queued, State::leased}, "", 5), (V{"t11", "t10", "t09", "t08", "t07"}));
    EXPECT_EQ(ids({State::leased, State::succeeded, State::cancelled}, "", 10), (V{"t04", "t03", "t02", "t01", "t00"}));
    EXPECT_EQ(ids({}, "drift-detection", 3), (V{"t11", "t09", "t07"}));
    EXPECT_EQ(ids({State::leased, State::succeeded}, "compliance-remediation", 10), (V{"t02", "t00"}));
    auto st = q->stats();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->by_state["leased"], 3);
    EXPECT_EQ(st->by_state["queued"], 7);
}

INSTANTIATE_TEST_SUITE_P(Backends, QueueConformance, ::testing::Values("sqlite", "postgres", "redis"),
                         [](const auto& info) { return info.param; });

// Idle workers of the server backends are woken by the server (NOTIFY,
// PUBLISH) instead of polling; the embedded queue says it cannot, so that
// its workers poll.
TEST_P(QueueConformance, IdleWorkersWakeWhenWorkArrives)
{
    if (GetParam() == "sqlite") {
        EXPECT_FALSE(q->wait_for_work(Millis(5000)));
        return;
    }
    EXPECT_TRUE(q->wait_for_work(Millis(50)));  // starts listening
    auto other = open();
    ASSERT_TRUE(other) << other.error().message;
    std::thread producer([&] {
        std::this_thread::sleep_for(Millis(200));
        std::vector<EnqueueItem> items;
        items.push_back(item(make_task("wake")));
        ASSERT_TRUE((*other)->enqueue(std::move(items)));
    });
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(q->wait_for_work(Millis(30000)));
    auto waited = std::chrono::steady_clock::now() - start;
    producer.join();
    EXPECT_LT(waited, std::chrono::seconds(20)) << "not woken by the enqueue";
    EXPECT_EQ(claim_ids(1), (std::vector<std::string>{"wake"}));
}

// With nothing announced, an idle worker waits its whole poll interval, even
// a short one, instead of claiming again at once.
TEST_P(QueueConformance, IdleWaitsLastTheirInterval)
{
    if (GetParam() == "sqlite") {
        EXPECT_FALSE(q->wait_for_work(Millis(1)));  // its workers sleep the interval themselves
        return;
    }
    q->wait_for_work(Millis(50));  // starts listening
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 100; ++i) q->wait_for_work(Millis(1));
    EXPECT_GE(std::chrono::steady_clock::now() - start, Millis(100));
}

// Redis Streams keep only what may still be read: acknowledged entries are
// trimmed from the front of their stream (a node of entries at a time).
TEST(RedisStreams, AcknowledgedEntriesAreTrimmed)
{
    infra::test::RedisServer redis;
    ASSERT_TRUE(redis.ok()) << redis.error();
    auto q = infra::plugins::queues::open_redis_url(redis.url() + "?prefix=trim", {});
    ASSERT_TRUE(q) << q.error().message;
    std::vector<EnqueueItem> items;
    for (int i = 0; i < 1000; ++i) items.push_back(item(make_task("T" + std::to_string(1000 + i))));
    ASSERT_TRUE((*q)->enqueue(std::move(items)));
    std::size_t acked = 0;
    for (;;) {
        auto leases = (*q)->claim("w", 64, Millis(30000));
        ASSERT_TRUE(leases);
        if (leases->empty()) break;
        std::vector<Queue::Ack> acks;
        for (const auto& l : *leases) acks.push_back({l.id, l.token, json(), {}});
        for (const auto& st : (*q)->ack_batch(acks)) EXPECT_TRUE(st) << st.error().message;
        acked += acks.size();
    }
    EXPECT_EQ(acked, 1000u);
    auto cli = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"-p", std::to_string(redis.port())});
        return infra::test::run_program("/usr/bin/redis-cli", args).out;
    };
    std::string key = cli({"--scan", "--pattern", "trim:s:*"});
    while (!key.empty() && key.back() == '\n') key.pop_back();
    ASSERT_FALSE(key.empty());
    ASSERT_EQ(key.find('\n'), std::string::npos) << key;  // one stream: one agent, one priority
    EXPECT_LT(std::stoi(cli({"XLEN", key})), 200);
}

// Keys written in another layout (an earlier version's queue) are refused
// by name, never misread; a prefix in this layout, or a new one, opens.
TEST(RedisStreams, KeysOfAnotherLayoutAreRefused)
{
    infra::test::RedisServer redis;
    ASSERT_TRUE(redis.ok()) << redis.error();
    auto cli = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"-p", std::to_string(redis.port())});
        return infra::test::run_program("/usr/bin/redis-cli", args).out;
    };
    auto fresh = infra::plugins::queues::open_redis_url(redis.url() + "?prefix=new", {});
    ASSERT_TRUE(fresh) << fresh.error().message;
    ASSERT_TRUE((*fresh)->enqueue({item(make_task("T1"))}));
    EXPECT_TRUE(infra::plugins::queues::open_redis_url(redis.url() + "?prefix=new", {}));

    // The first layout wrote no layout key, but always its sequence counter.
    cli({"SET", "old:seq", "41"});
    auto old = infra::plugins::queues::open_redis_url(redis.url() + "?prefix=old", {});
    ASSERT_FALSE(old);
    EXPECT_EQ(old.error().code, infra::core::Errc::unavailable);
    EXPECT_NE(old.error().message.find("prefix 'old:' are in layout 1"), std::string::npos) << old.error().message;
    EXPECT_NE(old.error().hint.find("another prefix"), std::string::npos) << old.error().hint;
    EXPECT_EQ(cli({"EXISTS", "old:layout"}), "0\n");  // nothing written into it

    cli({"SET", "new:layout", "9"});
    auto later = infra::plugins::queues::open_redis_url(redis.url() + "?prefix=new", {});
    ASSERT_FALSE(later);
    EXPECT_NE(later.error().message.find("layout 9"), std::string::npos) << later.error().message;
}

// A server that closed the connection (a restart, a CLIENT KILL, a timeout)
// costs the operation that found out, never the process: writes to it are
// an error, not a SIGPIPE, and the next operation connects again.
TEST(RedisStreams, AClosedConnectionIsAnErrorNotTheEndOfTheProcess)
{
    infra::test::RedisServer redis;
    ASSERT_TRUE(redis.ok()) << redis.error();
    auto q = infra::plugins::queues::open_redis_url(redis.url() + "?prefix=closed", {});
    ASSERT_TRUE(q) << q.error().message;
    std::size_t queued = 0;
    for (int round = 0; round < 5; ++round) {
        infra::test::run_program("/usr/bin/redis-cli", {"-p", std::to_string(redis.port()), "CLIENT", "KILL", "TYPE",
                                                        "normal", "SKIPME", "yes"});
        auto before = ::signal(SIGPIPE, SIG_DFL);  // as in the CLI
        // Several MiB: written in many pieces, some after the server's reset.
        std::vector<EnqueueItem> items;
        for (int i = 0; i < 400; ++i) {
            auto t = make_task("R" + std::to_string(round) + "-" + std::to_string(i));
            t.payload = {{"blob", std::string(16384, 'x')}};
            items.push_back(item(std::move(t)));
        }
        auto first = (*q)->enqueue(items);
        if (!first) {
            EXPECT_EQ(first.error().code, infra::core::Errc::unavailable) << first.error().message;
            first = (*q)->enqueue(std::move(items));  // on a new connection
        }
        ::signal(SIGPIPE, before);
        ASSERT_TRUE(first) << first.error().message;
        queued += first->size();
    }
    auto st = (*q)->stats();
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(static_cast<std::size_t>(st->by_state["queued"]), queued);

    // A connection the server closed while it sat idle is not handed out.
    infra::test::run_program("/usr/bin/redis-cli",
                             {"-p", std::to_string(redis.port()), "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
    EXPECT_TRUE((*q)->stats());
}
