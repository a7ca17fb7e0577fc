#include "core/events/audit.hpp"
#include "core/policy/testing.hpp"
#include "core/store/db.hpp"
#include "core/worker.hpp"
#include "plugins/queues/sqlite_queue.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

using namespace infra::core;
using namespace infra::core::queue;
using infra::test::TempDir;

namespace {

// An agent for tests: the task's payload says what to do.
class ScriptedAgent final : public agent::Agent {
public:
    std::string name() const override { return "test"; }
    agent::Outcome run(const agent::RunContext& ctx) override
    {
        const json& p = ctx.task.payload;
        ++runs;
        int sleep_ms = p.value("sleepMs", 0);
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(sleep_ms);
        while (std::chrono::steady_clock::now() < until) {
            if (ctx.cancelled()) return {false, "", {}, true};
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (p.value("failUntilAttempt", 0) >= ctx.attempt) return {false, "failed on purpose", {}, true};
        if (p.value("fatal", false)) return {false, "cannot be fixed", {}, false};
        return {true, "", {{"attempt", ctx.attempt}, {"maxIterations", ctx.decision.max_iterations}}, true};
    }
    std::atomic<int> runs{0};
};

struct WorkerTest : ::testing::Test {
    TempDir dir;
    std::unique_ptr<Queue> q;
    agent::Registry agents;
    std::shared_ptr<ScriptedAgent> agent = std::make_shared<ScriptedAgent>();
    events::MemorySink events;

    void SetUp() override
    {
        q = std::move(*infra::plugins::queues::open_sqlite_queue((dir / "q.db").string()));
        agents.add(agent);
    }
    void add(const std::string& id, json payload, int max_attempts = 3, std::string type = "compliance-remediation",
             std::string environment = "staging",
             json decision = {{"allowed", true}, {"tier", 2}, {"requiredApprovals", json::array()}})
    {
        AgentTask t = task_of(id);
        t.type = *parse_task_type(type);
        t.context.environment = std::move(environment);
        t.payload = std::move(payload);
        enqueue(t, std::move(decision), max_attempts);
    }
    /// A task for the test agent, to be changed before it is queued.
    static AgentTask task_of(const std::string& id)
    {
        AgentTask t;
        t.id = id;
        t.trigger = {"api", "test", "", "2026-11-24T12:00:00.000Z"};
        t.context.agent_slug = "test";
        t.dedupe_key = "k-" + id;
        return t;
    }
    /// "no-provider", a task stored as no entry writes it (trigger.provider
    /// empty), then "fine".
    void add_unreadable_and_fine()
    {
        AgentTask t = task_of("no-provider");
        t.trigger.provider.clear();
        enqueue(t);
        add("fine", json::object());
    }
    /// How "no-provider" ended: its state and events, the error naming the field.
    void expect_unreadable_ended(State state, const std::vector<std::string>& types)
    {
        auto e = q->show("no-provider");
        ASSERT_TRUE(e);
        EXPECT_EQ(e->state, state);
        EXPECT_EQ(e->last_error, "task 'no-provider' in the queue cannot be read: trigger.provider: empty");
        EXPECT_EQ(event_types("no-provider"), types);
        EXPECT_EQ(q->show("fine")->state, State::succeeded);
    }
    void enqueue(const AgentTask& t, json decision = {{"allowed", true}, {"tier", 2}}, int max_attempts = 3)
    {
        std::vector<EnqueueItem> items;
        items.push_back({t, std::move(decision), State::queued, Millis(0), max_attempts});
        ASSERT_TRUE(q->enqueue(std::move(items)));
    }
    std::vector<std::string> event_types(const std::string& id)
    {
        std::vector<std::string> out;
        for (const auto& e : events.events())
            if (e.task_id == id && e.type != "task.heartbeat" && e.type != "span") out.push_back(e.type);
        return out;
    }
    /// The names of the task's spans, in the order they ended.
    std::vector<std::string> span_names(const std::string& id)
    {
        std::vector<std::string> out;
        for (const auto& e : events.events())
            if (e.task_id == id && e.type == "span") out.push_back(e.data["name"].get<std::string>());
        return out;
    }
    /// An engine of one policy whose rules are the given YAML lines.
    std::unique_ptr<policy::Engine> engine_of(const std::string& rules)
    {
        policy::PolicySet set;
        policy::parse_policies("apiVersion: infra-agent/v1\nkind: Policy\nmetadata: {name: p}\nrules:\n" + rules,
                               "p.yaml", set.policies, set.findings);
        auto engine = policy::Engine::compile(std::move(set));
        EXPECT_TRUE(engine) << engine.error().message;
        return engine ? std::move(*engine) : nullptr;
    }
    WorkerOptions opts()
    {
        WorkerOptions o;
        o.id = "test-worker";
        o.drain = true;
        o.poll = Millis(20);
        o.backoff = {Millis(10), Millis(20)};
        return o;
    }
};

}  // namespace

TEST_F(WorkerTest, RunsTasksToSuccessAndRetriesFailures)
{
    add("ok", json::object());
    add("flaky", {{"failUntilAttempt", 1}});
    add("broken", {{"failUntilAttempt", 99}}, 2);
    add("fatal", {{"fatal", true}});
    auto o = opts();
    o.concurrency = 2;
    Worker w(*q, agents, events, nullptr, o);
    auto s = w.run();
    ASSERT_TRUE(s) << s.error().message;
    // drain stops while a retry is delayed; run again until all are final.
    for (int i = 0; i < 20 && (q->stats()->by_state.count("queued")); ++i) {
        std::this_thread::sleep_for(Millis(30));
        Worker again(*q, agents, events, nullptr, o);
        ASSERT_TRUE(again.run());
    }
    EXPECT_EQ(q->show("ok")->state, State::succeeded);
    EXPECT_EQ(q->show("flaky")->state, State::succeeded);
    EXPECT_EQ(q->show("flaky")->attempts, 2);
    EXPECT_EQ(q->show("broken")->state, State::dead);
    EXPECT_EQ(q->show("broken")->last_error, "failed on purpose");
    EXPECT_EQ(q->show("fatal")->state, State::dead);
    EXPECT_EQ(q->show("fatal")->attempts, 1);
    EXPECT_EQ(event_types("ok"), (std::vector<std::string>{"task.claimed", "task.succeeded"}));
    // Each attempt is a span after the time it waited; its outcome is an attribute.
    EXPECT_EQ(span_names("ok"), (std::vector<std::string>{"queue.wait", "task.run"}));
    EXPECT_EQ(span_names("broken"), (std::vector<std::string>{"queue.wait", "task.run", "queue.wait", "task.run"}));
    for (const auto& e : events.events())
        if (e.task_id == "broken" && e.type == "span" && e.data["name"] == "task.run") {
            EXPECT_EQ(e.data["status"], "error");
            EXPECT_EQ(e.data["attributes"]["outcome"], "failed");
            EXPECT_EQ(e.data["error"], "failed on purpose");
        }
    EXPECT_EQ(event_types("broken"), (std::vector<std::string>{"task.claimed", "task.failed", "task.retried",
                                                               "task.claimed", "task.failed", "task.dead"}));
}

TEST_F(WorkerTest, SaysWhatBecameOfEachTaskItRanWhenAsked)
{
    add("ok", json::object());
    add("flaky", {{"failUntilAttempt", 1}});
    add("fatal", {{"fatal", true}});
    add("chat", {{"requestsChange", true}}, 3, "chat");
    auto engine = engine_of("  - {name: fix, match: {type: compliance-remediation}, tier: 2}\n"
                            "  - {name: chat, match: {type: chat}, tier: 1}\n");
    ASSERT_TRUE(engine);
    auto o = opts();
    o.keep_outcomes = true;
    o.backoff = {Millis(60000), Millis(60000)};  // a retry waits past the drain
    Worker w(*q, agents, events, engine.get(), o);
    auto s = w.run();
    ASSERT_TRUE(s) << s.error().message;
    std::map<std::string, TaskOutcome> by_id;
    for (const auto& t : s->tasks) by_id[t.id] = t;
    ASSERT_EQ(by_id.size(), 4u);
    EXPECT_EQ(by_id["ok"].state, State::succeeded);
    EXPECT_EQ(by_id["ok"].result["attempt"], 1) << "the agent's result, as acked";
    EXPECT_EQ(by_id["flaky"].state, State::queued) << "its retry is delayed past the drain";
    EXPECT_EQ(by_id["flaky"].error, "failed on purpose");
    EXPECT_EQ(by_id["fatal"].state, State::dead);
    EXPECT_EQ(by_id["fatal"].error, "cannot be fixed");
    EXPECT_EQ(by_id["chat"].state, State::denied);
    EXPECT_NE(by_id["chat"].error.find("chat needs tier 2"), std::string::npos) << by_id["chat"].error;
    for (const auto& [id, t] : by_id) EXPECT_EQ(q->show(id)->state, t.state) << id << ": the queue agrees";

    add("later", json::object());
    Worker counts_only(*q, agents, events, engine.get(), opts());
    auto again = counts_only.run();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->succeeded, 1u);
    EXPECT_TRUE(again->tasks.empty()) << "a worker keeps only counts unless asked";
}

TEST_F(WorkerTest, WithoutTheSandboxRunsOnlyWhatTheDecisionAllows)
{
    // A decision in a shared queue may say false outright: the value counts, not the key.
    json no = {{"allowed", true},
               {"tier", 2},
               {"requiredApprovals", json::array()},
               {"constraints", {{"allowUnsandboxed", false}}}};
    json yes = no;
    yes["constraints"]["allowUnsandboxed"] = true;
    add("said-no", json::object(), 1, "compliance-remediation", "staging", no);
    add("said-yes", json::object(), 1, "compliance-remediation", "staging", yes);
    add("said-nothing", json::object(), 1);
    auto none = sandbox::Sandbox::create(sandbox::Mode::none);
    ASSERT_TRUE(none) << none.error().message;
    auto o = opts();
    o.sandbox = &*none;
    Worker w(*q, agents, events, nullptr, o);
    ASSERT_TRUE(w.run());
    EXPECT_EQ(q->show("said-no")->state, State::dead);
    EXPECT_EQ(q->show("said-no")->last_error, "policy does not allow running this task without the sandbox");
    EXPECT_EQ(q->show("said-nothing")->state, State::dead);
    EXPECT_EQ(q->show("said-yes")->state, State::succeeded);
    EXPECT_EQ(agent->runs, 1);
}

// A task or decision stored as no entry writes them is read once, at claim,
// and fails for good with the field that does not read; the agent never runs.
TEST_F(WorkerTest, ATaskStoredUnreadableFailsForGoodNamingTheField)
{
    add("no-tier", json::object(), 3, "compliance-remediation", "staging", {{"allowed", true}});
    add_unreadable_and_fine();
    Worker w(*q, agents, events, nullptr, opts());
    auto s = w.run();
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->dead, 2u);
    auto no_tier = q->show("no-tier");
    EXPECT_EQ(no_tier->state, State::dead);
    EXPECT_EQ(no_tier->last_error, "task 'no-tier' in the queue cannot be read: decision.tier: missing");
    expect_unreadable_ended(State::dead, {"task.claimed", "task.failed", "task.dead"});
    EXPECT_EQ(q->show("fine")->state, State::succeeded);
    EXPECT_EQ(agent->runs.load(), 1);
}

// Under a policy, a task that cannot be read is refused at claim: policy
// cannot judge what it asks for. The reason names the field.
TEST_F(WorkerTest, UnderPolicyATaskStoredUnreadableIsRefusedNamingTheField)
{
    add_unreadable_and_fine();
    auto engine = engine_of("  - {name: fix, match: {type: compliance-remediation}, tier: 2}\n");
    ASSERT_TRUE(engine);
    Worker w(*q, agents, events, engine.get(), opts());
    auto s = w.run();
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->denied, 1u);
    expect_unreadable_ended(State::denied, {"task.claimed", "task.escalated"});
    EXPECT_EQ(agent->runs.load(), 1) << "only \"fine\" ran";
}

// The task's traceparent, a field of the task, names the trace of its run.
TEST_F(WorkerTest, AnAttemptJoinsTheTraceOfItsTasksTraceparent)
{
    const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    AgentTask t = task_of("traced");
    t.traceparent = "00-" + trace + "-00f067aa0ba902b7-01";
    enqueue(t);
    add("untraced", json::object());
    Worker w(*q, agents, events, nullptr, opts());
    ASSERT_TRUE(w.run());
    std::map<std::string, std::set<std::string>> traces;  // task -> trace ids of its task.run spans
    for (const auto& e : events.events())
        if (e.type == "span" && e.data["name"] == "task.run") traces[e.task_id].insert(e.trace_id);
    EXPECT_EQ(traces["traced"], (std::set<std::string>{trace}));
    ASSERT_EQ(traces["untraced"].size(), 1u);
    EXPECT_NE(*traces["untraced"].begin(), trace) << "a task without one gets a trace of its own";
}

TEST_F(WorkerTest, OnceRunsOneTask)
{
    add("a", json::object());
    add("b", json::object());
    auto o = opts();
    o.once = true;
    o.drain = false;
    Worker w(*q, agents, events, nullptr, o);
    auto s = w.run();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->succeeded, 1u);
    EXPECT_EQ(q->stats()->by_state["queued"], 1);
}

TEST_F(WorkerTest, PolicyIsCheckedAgainAtClaim)
{
    add("allowed", json::object());
    add("chat", {{"requestsChange", true}}, 3, "chat");
    auto engine =
        engine_of("  - {name: fix, match: {type: compliance-remediation}, tier: 2, constraints: {maxIterations: 4}}\n"
                  "  - {name: chat, match: {type: chat}, tier: 1}\n");
    ASSERT_TRUE(engine);
    Worker w(*q, agents, events, engine.get(), opts());
    ASSERT_TRUE(w.run());
    EXPECT_EQ(q->show("allowed")->state, State::succeeded);
    // The agent ran under the decision made at claim, not the one stored at enqueue.
    EXPECT_EQ(q->show("allowed")->result["maxIterations"], 4);
    auto chat = q->show("chat");
    EXPECT_EQ(chat->state, State::denied);
    EXPECT_NE(chat->last_error.find("chat needs tier 2"), std::string::npos) << chat->last_error;
    EXPECT_EQ(event_types("chat"), (std::vector<std::string>{"task.claimed", "task.escalated"}));
    EXPECT_EQ(agent->runs.load(), 1);
}

// A task that reached the queue without passing an entry (queued by an older
// version, or written into a shared queue) meets the production gate too.
TEST_F(WorkerTest, AtClaimTheEnvironmentIsJudgedInItsOneSpelling)
{
    add("staging", json::object());
    add("spelled", json::object(), 3, "compliance-remediation", " Production");
    add("lookalike", json::object(), 3, "compliance-remediation",
        "pr\xd0\xbe"
        "duction");
    auto engine =
        engine_of("  - {name: fix, match: {type: compliance-remediation}, tier: 2}\n"
                  "  - {name: gate, match: {context.environment: production}, requiredApprovals: [platform]}\n");
    ASSERT_TRUE(engine);
    Worker w(*q, agents, events, engine.get(), opts());
    ASSERT_TRUE(w.run());
    EXPECT_EQ(q->show("staging")->state, State::succeeded);
    EXPECT_EQ(q->show("spelled")->state, State::pending_approval);
    auto lookalike = q->show("lookalike");
    EXPECT_EQ(lookalike->state, State::denied);
    EXPECT_NE(lookalike->last_error.find("U+043E"), std::string::npos) << lookalike->last_error;
    EXPECT_EQ(agent->runs.load(), 1);
}

TEST_F(WorkerTest, StopFinishesWithinGraceThenReleases)
{
    add("long", {{"sleepMs", 5000}});
    auto o = opts();
    o.drain = false;
    o.grace = Millis(100);
    Worker w(*q, agents, events, nullptr, o);
    std::thread stopper([&] {
        std::this_thread::sleep_for(Millis(150));
        w.stop();
    });
    auto started = std::chrono::steady_clock::now();
    auto s = w.run();
    stopper.join();
    ASSERT_TRUE(s);
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
    EXPECT_EQ(s->released, 1u);
    auto e = q->show("long");
    EXPECT_EQ(e->state, State::queued);
    EXPECT_EQ(e->attempts, 0);
}

TEST_F(WorkerTest, StopWithinGraceLetsTheTaskFinish)
{
    add("short", {{"sleepMs", 200}});
    auto o = opts();
    o.drain = false;
    o.grace = Millis(5000);
    Worker w(*q, agents, events, nullptr, o);
    std::thread stopper([&] {
        std::this_thread::sleep_for(Millis(80));
        w.stop();
    });
    auto s = w.run();
    stopper.join();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->succeeded, 1u);
    EXPECT_EQ(q->show("short")->state, State::succeeded);
}

TEST_F(WorkerTest, HeartbeatsKeepALongTaskLeased)
{
    // The task outlasts its lease more than twice over; the lease is long
    // enough that a loaded machine still renews it in time.
    add("slow", {{"sleepMs", 1200}});
    auto o = opts();
    o.lease = Millis(500);
    Worker w(*q, agents, events, nullptr, o);
    std::thread thief([&] {
        // Another worker must not get the task while heartbeats renew it.
        for (int i = 0; i < 10; ++i) {
            std::this_thread::sleep_for(Millis(100));
            auto l = q->claim("thief", 1, Millis(1000));
            EXPECT_TRUE(l && l->empty());
        }
    });
    ASSERT_TRUE(w.run());
    thief.join();
    EXPECT_EQ(q->show("slow")->state, State::succeeded);
    bool beat = false;
    for (const auto& e : events.events()) beat = beat || e.type == "task.heartbeat";
    EXPECT_TRUE(beat);
}

TEST_F(WorkerTest, ATimedOutAgentFails)
{
    add("slow", {{"sleepMs", 3000}}, 1);
    auto engine = engine_of("  - {name: fix, match: {}, tier: 2, constraints: {timeoutMs: 100}}\n");
    ASSERT_TRUE(engine);
    Worker w(*q, agents, events, engine.get(), opts());
    ASSERT_TRUE(w.run());
    auto e = q->show("slow");
    EXPECT_EQ(e->state, State::dead);
    EXPECT_EQ(e->last_error, "timed out after 100 ms");
}

TEST_F(WorkerTest, WithoutAgentsThereIsNothingToRun)
{
    agent::Registry none;
    Worker w(*q, none, events, nullptr, opts());
    auto s = w.run();
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message, "this worker has no agents to run tasks with");
}

namespace {

// The events of a task as stored, through a connection of their own:
// type, then data, each in the order they were recorded.
std::vector<std::pair<std::string, json>> stored_events(const std::string& path, const std::string& id)
{
    std::vector<std::pair<std::string, json>> out;
    auto db = store::Db::open(path, false);
    EXPECT_TRUE(db) << db.error().message;
    if (!db) return out;
    auto s = (*db)->prepare("SELECT type, data FROM events WHERE task_id = ? ORDER BY seq");
    EXPECT_TRUE(s);
    s->bind(1, id);
    while (*s->step()) out.emplace_back(s->text(0), json::parse(s->text(1)));
    return out;
}

std::vector<std::string> types_of(const std::vector<std::pair<std::string, json>>& stored)
{
    std::vector<std::string> out;
    for (const auto& [type, data] : stored) out.push_back(type == "span" ? data["name"].get<std::string>() : type);
    return out;
}

// A state sink on path and a SQLite queue on the same file carrying its events.
struct Carried {
    std::unique_ptr<events::StateSink> sink;
    std::unique_ptr<Queue> queue;
};

Carried carried(const std::string& path)
{
    Carried c;
    auto sink = events::StateSink::open(path);
    EXPECT_TRUE(sink) << sink.error().message;
    if (!sink) return c;
    c.sink = std::move(*sink);
    auto queue = infra::plugins::queues::open_sqlite_queue(path, {true, true, c.sink.get()});
    EXPECT_TRUE(queue) << queue.error().message;
    if (!queue) return c;
    c.queue = std::move(*queue);
    EXPECT_TRUE(c.queue->carry_events(*c.sink));
    return c;
}

// How many events the audit chain of path holds, verified whole (-1 if not).
std::int64_t verified_events(const std::string& path)
{
    auto db = store::Db::open(path, false);
    EXPECT_TRUE(db);
    if (!db) return -1;
    auto report = events::audit::verify(**db);
    EXPECT_TRUE(report) << report.error().message;
    if (!report) return -1;
    EXPECT_FALSE(report->problem) << report->problem->message;
    return report->problem ? -1 : report->events;
}

}  // namespace

TEST_F(WorkerTest, AQueueCarryingTheStateStoresEventsAcksWithTheEventsOnDisk)
{
    std::string path = (dir / "q.db").string();
    auto sink = events::StateSink::open(path);
    ASSERT_TRUE(sink) << sink.error().message;
    auto carrier = infra::plugins::queues::open_sqlite_queue(path, {true, true, sink->get()});
    ASSERT_TRUE(carrier) << carrier.error().message;
    EXPECT_EQ((*carrier)->ack_events_sink(), nullptr);
    ASSERT_TRUE((*carrier)->carry_events(**sink));
    EXPECT_EQ((*carrier)->ack_events_sink(), sink->get());
    add("t1", json::object());
    auto leases = (*carrier)->claim("w", 1, Millis(30000));
    ASSERT_TRUE(leases && leases->size() == 1u);
    (*sink)->emit({"task.claimed", "t1"});
    std::vector<Queue::Ack> acks{{"t1", leases->front().token, json::object(), {{"task.succeeded", "t1"}}}};
    ASSERT_TRUE((*carrier)->ack_batch(acks).front());
    // Read at once, nothing flushed: the ack committed with the events.
    EXPECT_EQ(types_of(stored_events(path, "t1")), (std::vector<std::string>{"task.claimed", "task.succeeded"}));
    // A refused ack records nothing.
    EXPECT_FALSE((*carrier)->ack_batch(acks).front());
    (*sink)->flush();
    EXPECT_EQ(stored_events(path, "t1").size(), 2u);
    EXPECT_EQ(verified_events(path), 2);
}

TEST_F(WorkerTest, EventsNoCommitOfTheCarryingQueueTookAreWrittenAllTheSame)
{
    std::string path = (dir / "q.db").string();
    Carried c = carried(path);
    ASSERT_TRUE(c.queue);
    // The queue commits nothing: the sink asks it for a transaction of its
    // own once its interval passed, without a flush.
    for (int i = 0; i < 3; ++i) c.sink->emit({"task.tool", "idle", "", {{"i", i}}});
    auto waited = std::chrono::steady_clock::now();
    while (stored_events(path, "idle").size() < 3 &&
           std::chrono::steady_clock::now() - waited < std::chrono::seconds(10))
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(stored_events(path, "idle").size(), 3u);
    // Events made ready for the queue, which then closed before carrying
    // them, are written by the sink itself, in their order.
    for (int i = 0; i < 40; ++i) c.sink->emit({"task.tool", "gone", "", {{"i", i}}});
    c.queue.reset();
    for (int i = 40; i < 45; ++i) c.sink->emit({"task.tool", "gone", "", {{"i", i}}});
    c.sink->flush();
    auto gone = stored_events(path, "gone");
    ASSERT_EQ(gone.size(), 45u);
    for (int i = 0; i < 45; ++i) EXPECT_EQ(gone[static_cast<std::size_t>(i)].second["i"], i);
    EXPECT_EQ(verified_events(path), 48);
}

TEST_F(WorkerTest, AQueueCarriesOnlyTheEventsOfItsOwnDatabase)
{
    auto other = infra::plugins::queues::open_sqlite_queue((dir / "other.db").string());
    ASSERT_TRUE(other);
    auto sink = events::StateSink::open((dir / "q.db").string());
    ASSERT_TRUE(sink) << sink.error().message;
    auto carrier = infra::plugins::queues::open_sqlite_queue((dir / "other.db").string(), {true, true, sink->get()});
    ASSERT_TRUE(carrier);
    EXPECT_FALSE((*carrier)->carry_events(**sink));
    EXPECT_EQ((*carrier)->ack_events_sink(), nullptr);
}

TEST_F(WorkerTest, AWorkerOnACarryingQueueRecordsTheSameEventsInOneChain)
{
    std::string path = (dir / "q.db").string();
    Carried c = carried(path);
    ASSERT_TRUE(c.queue);
    add("ok", json::object());
    add("broken", {{"fatal", true}});
    auto o = opts();
    o.batch = 4;
    Worker w(*c.queue, agents, *c.sink, nullptr, o);
    auto s = w.run();
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->succeeded, 1u);
    auto ok = stored_events(path, "ok");
    EXPECT_EQ(types_of(ok), (std::vector<std::string>{"queue.wait", "task.claimed", "task.run", "task.succeeded"}));
    EXPECT_EQ(types_of(stored_events(path, "broken")),
              (std::vector<std::string>{"queue.wait", "task.claimed", "task.failed", "task.dead", "task.run"}));
    ASSERT_EQ(ok.size(), 4u);
    const json& done = ok.back().second;
    EXPECT_EQ(done["worker"], "test-worker");
    EXPECT_EQ(done["attempt"], 1);
    EXPECT_EQ(done["agent"], "test");
    EXPECT_EQ(done["taskType"], "compliance-remediation");
    EXPECT_TRUE(done.contains("durationMs"));
    auto db = store::Db::open(path, false);
    ASSERT_TRUE(db);
    // task.succeeded is in its task's trace, as when the worker emits it.
    auto traces = (*db)->prepare("SELECT COUNT(DISTINCT trace_id) FROM events WHERE task_id = 'ok'");
    ASSERT_TRUE(traces && *traces->step());
    EXPECT_EQ(traces->integer(0), 1);
    EXPECT_EQ(verified_events(path), 9);
}
