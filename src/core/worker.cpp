#include "core/worker.hpp"

#include "core/claimed_task.hpp"
#include "core/creds/binding.hpp"
#include "core/creds/broker.hpp"
#include "core/crypto.hpp"
#include "core/events/trace.hpp"

#include "core/policy/digest.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>
#include <unistd.h>

namespace infra::core {

using namespace std::chrono;

// A task being worked on, shared with the heartbeat thread, which may still
// hold it for a moment after the task is done: so it keeps its own copy of
// what the heartbeats need.
struct Worker::InFlight {
    std::string id;
    std::int64_t token = 0;
    events::SpanContext trace;
    std::atomic<bool> lost{false};
    // Until when this worker may assume it still holds the lease, by its own
    // clock: the last renewal plus 90% of the lease. Past it the agent is
    // cancelled before another worker can claim the task, even if this
    // process was too starved to send its heartbeats.
    std::atomic<std::int64_t> valid_until_ms{0};
    // The lease's end by the wall clock, as of the last renewal: credentials
    // minted for the task expire by then.
    std::atomic<std::int64_t> lease_until_wall_ms{0};
};

namespace {
std::int64_t steady_ms()
{
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// The task's trace context; a task that came without one (or cannot be
// read) gets a trace of its own, named by its id, so that all its attempts
// share it.
events::SpanContext trace_of(const std::string& id, const Result<AgentTask>& task)
{
    if (task && task->traceparent)
        if (auto ctx = events::parse_traceparent(*task->traceparent)) return *ctx;
    return {crypto::sha256_hex("infra-agent task " + id).substr(0, 32), ""};
}

// The CI a configuration runs in a repository of its own: scopes every
// task that proposes changes may have minted (see creds::TaskGrant).
std::vector<creds::Scope> configured_ci_scopes(const std::vector<change::Step>& steps)
{
    std::vector<creds::Scope> out;
    for (const auto& step : steps) {
        if (!step.pipeline) continue;
        const auto& p = *step.pipeline;
        std::string text;
        if (p.kind == "github-actions" && !p.repository.empty())
            text = "ci:dispatch:repo=" + p.repository + ",workflow=" + p.workflow;
        else if (p.kind == "github-checks" && !p.repository.empty()) text = "ci:read:repo=" + p.repository;
        else if (p.kind == "gitlab" && !p.project.empty()) text = "ci:pipeline:project=" + p.project;
        if (text.empty()) continue;
        if (auto scope = creds::parse_scope(text)) out.push_back(std::move(*scope));
    }
    return out;
}

}  // namespace

std::string default_worker_id()
{
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(::getpid());
}

Worker::Worker(queue::Queue& q, const agent::Registry& agents, events::EventSink& events, const policy::Engine* policy,
               WorkerOptions options)
    : m_queue(q), m_agents(agents), m_events(events), m_policy(policy), m_opt(std::move(options))
{
    if (m_opt.id.empty()) m_opt.id = default_worker_id();
    m_opt.concurrency = std::max(1, m_opt.concurrency);
    m_opt.batch = std::max<std::size_t>(1, m_opt.batch);
}

Worker::~Worker()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        m_done = true;
    }
    m_cv.notify_all();
    if (m_grace.joinable()) m_grace.join();
}

void Worker::stop()
{
    std::lock_guard lock(m_mutex);
    bool was = m_stopping.exchange(true);
    m_cv.notify_all();
    if (was) return;
    // The grace period runs on its own thread, so stop() never blocks.
    m_grace = std::thread([this, grace = m_opt.grace] {
        std::unique_lock lock(m_mutex);
        if (!m_cv.wait_for(lock, grace, [&] { return m_done.load(); })) {
            m_aborting = true;
            m_cv.notify_all();
        }
    });
}

Result<WorkerSummary> Worker::run()
{
    std::vector<std::string> agents = m_agents.names();
    if (agents.empty()) return fail(Errc::unavailable, "this worker has no agents to run tasks with");
    spdlog::debug("worker {} starting: {} thread{}, agents {}", m_opt.id, m_opt.concurrency,
                  m_opt.concurrency == 1 ? "" : "s", fmt::join(agents, ", "));
    std::thread hb([this] { heartbeat_main(); });
    std::vector<std::thread> threads;
    for (int i = 0; i < m_opt.concurrency; ++i) threads.emplace_back([this] { thread_main(); });
    for (auto& t : threads) t.join();
    {
        std::lock_guard lock(m_mutex);
        m_done = true;
    }
    m_cv.notify_all();
    hb.join();
    m_events.flush();
    if (m_failed) return m_fatal;
    return m_summary;
}

bool Worker::should_exit_idle()
{
    if (m_opt.once) return true;
    if (!m_opt.drain) return false;
    // Draining: done when nothing is ready now (delayed retries do not count).
    auto st = m_queue.stats();
    return !st || st->ready == 0;
}

void Worker::thread_main()
{
    std::vector<std::string> agents = m_agents.names();
    while (!m_stopping) {
        if (m_opt.once && m_once_taken.load() > 0) return;
        std::size_t want = m_opt.once ? 1 : m_opt.batch;
        auto claimed_at = steady_ms();
        auto leases = m_queue.claim(m_opt.id, want, m_opt.lease, agents);
        if (!leases) {
            spdlog::warn("claim failed: {}", leases.error().message);
            std::unique_lock lock(m_mutex);
            m_cv.wait_for(lock, m_opt.poll, [&] { return m_stopping.load(); });
            continue;
        }
        if (leases->empty()) {
            if (m_opt.on_idle) {
                std::unique_lock idle(m_idle_mutex, std::try_to_lock);
                if (idle.owns_lock()) m_opt.on_idle();
            }
            if (should_exit_idle()) return;
            // Woken by the backend when it can announce work; bounded so
            // that a stop is seen soon.
            if (m_queue.wait_for_work(std::min<queue::Millis>(m_opt.poll, queue::Millis(250)))) continue;
            std::unique_lock lock(m_mutex);
            m_cv.wait_for(lock, m_opt.poll, [&] { return m_stopping.load(); });
            continue;
        }
        if (m_opt.once) m_once_taken += static_cast<int>(leases->size());
        // With batched claims, acks are batched too (one commit for many),
        // but never held longer than a quarter of the lease.
        std::vector<Done> acks;
        auto oldest = steady_clock::now();
        for (auto& l : *leases) {
            if (m_stopping) {
                // Claimed but not started: give it back at once.
                if (m_queue.release(l.id, l.token)) {
                    std::lock_guard lock(m_mutex);
                    ++m_summary.released;
                }
                continue;
            }
            if (acks.empty()) oldest = steady_clock::now();
            process(l, acks, claimed_at);
            if (!acks.empty() && steady_clock::now() - oldest > m_opt.lease / 4) flush_acks(acks);
        }
        flush_acks(acks);
        if (m_opt.once) return;
    }
}

void Worker::heartbeat_main()
{
    auto every = std::max(milliseconds(50), m_opt.lease / 3);
    std::unique_lock lock(m_mutex);
    while (!m_done) {
        m_cv.wait_for(lock, every, [&] { return m_done.load(); });
        if (m_done) break;
        auto now = m_inflight;
        lock.unlock();
        for (const auto& f : now) {
            if (f->lost) continue;
            auto sent = steady_ms();
            auto sent_wall = creds::wall_ms();
            auto st = m_queue.heartbeat(f->id, f->token, m_opt.lease);
            if (st) {
                f->valid_until_ms = sent + m_opt.lease.count() * 9 / 10;
                f->lease_until_wall_ms = sent_wall + m_opt.lease.count();
            }
            events::ContextScope in_trace(f->trace);
            if (!st && st.error().code == Errc::conflict) {
                f->lost = true;
                spdlog::warn("{}", st.error().message);
                m_events.emit({"task.lease-lost", f->id, "", {{"worker", m_opt.id}, {"token", f->token}}});
            } else if (st) {
                m_events.emit({"task.heartbeat", f->id, "", {{"worker", m_opt.id}, {"token", f->token}}});
            }
        }
        lock.lock();
    }
}

void Worker::ended(TaskOutcome outcome)
{
    if (m_opt.keep_outcomes) m_summary.tasks.push_back(std::move(outcome));
}

events::Event Worker::succeeded(const Done& d) const
{
    events::ContextScope in_trace(d.trace);
    events::Event e{"task.succeeded",
                    d.lease->id,
                    "",
                    {{"worker", m_opt.id},
                     {"attempt", d.lease->attempt},
                     {"durationMs", d.ms},
                     {"agent", d.agent},
                     {"taskType", d.type}}};
    events::stamp(e);
    return e;
}

void Worker::flush_acks(std::vector<Done>& acks)
{
    if (acks.empty()) return;
    // Where the queue commits events with its acks, each task's success is
    // recorded in its ack's commit; elsewhere it is emitted once acked.
    bool carried = m_queue.ack_events_sink() == &m_events;
    std::vector<queue::Queue::Ack> batch;
    for (const auto& d : acks) {
        batch.push_back({d.lease->id, d.lease->token, d.result, {}});
        if (carried) batch.back().events.push_back(succeeded(d));
    }
    auto results = acks.size() == 1 && !carried
                       ? std::vector<Status>{m_queue.ack(batch[0].id, batch[0].token, batch[0].result)}
                       : m_queue.ack_batch(batch);
    std::lock_guard lock(m_mutex);
    for (std::size_t i = 0; i < acks.size(); ++i) {
        const auto& d = acks[i];
        if (!results[i]) {
            events::ContextScope in_trace(d.trace);
            ++m_summary.lost;
            ended({d.lease->id, queue::State::leased, false, {}, results[i].error().message, {}});
            spdlog::warn("{}; the result is discarded", results[i].error().message);
            m_events.emit({"task.lease-lost", d.lease->id, "", {{"worker", m_opt.id}, {"token", d.lease->token}}});
            continue;
        }
        ++m_summary.succeeded;
        if (m_opt.keep_outcomes) ended({d.lease->id, queue::State::succeeded, false, d.result, "", {}});
        if (!carried) m_events.emit(succeeded(d));
    }
    acks.clear();
}

// One claimed lease being worked on: what the steps of process() share. Its
// run span, current while they run, says how the attempt ended.
struct Worker::Attempt {
    queue::Lease& lease;
    const std::string& agent_name;
    const std::string& type;
    const events::SpanContext& trace;
    steady_clock::time_point started;
    events::Span& run;

    void outcome_is(const char* what, const std::string& error = {}) const
    {
        run.set("outcome", what);
        if (!error.empty()) run.fail(error);
    }
    double ms() const { return duration<double, std::milli>(steady_clock::now() - started).count(); }
};

namespace {

// Approvals asked for at enqueue are not asked for again: true when d asks
// for one that the decision stored with the lease did not.
bool asks_new_approvals(const queue::Lease& lease, const policy::Decision& d)
{
    auto stored = read_claimed_decision(lease);
    auto required_then = stored ? stored->required_approvals : std::vector<std::string>{};
    for (const auto& g : d.required_approvals)
        if (std::find(required_then.begin(), required_then.end(), g) == required_then.end()) return true;
    return false;
}

// The task and the decision its run is bound by: the one made at claim,
// else the one stored at enqueue.
Result<ClaimedTask> claimed_task(const queue::Lease& lease, Result<AgentTask> task,
                                 std::optional<policy::Decision> decided)
{
    if (!task) return task.error();
    if (!decided) {
        auto stored = read_claimed_decision(lease);
        if (!stored) return stored.error();
        decided = std::move(*stored);
    }
    return ClaimedTask{std::move(*task), std::move(*decided)};
}

}  // namespace

void Worker::process(queue::Lease& lease, std::vector<Done>& acks, std::int64_t lease_start)
{
    auto started = steady_clock::now();
    // The task is read once, here; from now on its fields are typed. One
    // that cannot be read is failed for good below, or refused by policy.
    auto task = read_claimed_task(lease);
    const std::string agent_name = task ? task->context.agent_slug : "";
    const std::string type = task ? std::string(to_string(task->type)) : "";
    // The task's trace goes on here: the time it waited, then this attempt.
    const events::SpanContext trace = trace_of(lease.id, task);
    events::ContextScope in_trace(trace);
    if (lease.ready_ms > 0 && lease.claimed_ms >= lease.ready_ms)
        events::record_span(m_events, "queue.wait", lease.id, events::current_context(), lease.ready_ms * 1000000,
                            lease.claimed_ms * 1000000, {{"attempt", lease.attempt}});
    events::Span run(m_events, "task.run", lease.id,
                     {{"task.type", type}, {"attempt", lease.attempt}, {"worker", m_opt.id}, {"agent", agent_name}});
    const Attempt a{lease, agent_name, type, trace, started, run};
    m_events.emit({"task.claimed",
                   lease.id,
                   "",
                   {{"worker", m_opt.id}, {"attempt", lease.attempt}, {"token", lease.token}, {"agent", agent_name}}});
    {
        std::lock_guard lock(m_mutex);
        ++m_summary.claimed;
    }
    std::optional<policy::Decision> decided;
    if (m_policy) {
        decided = judge_at_claim(a, task);
        if (!decided) return;
    }
    auto claimed = claimed_task(lease, std::move(task), std::move(decided));
    if (!claimed) {
        // Stored as no entry would have written it: retrying reads the same.
        a.outcome_is("failed", claimed.error().message);
        failed(lease, agent::Outcome::failure(claimed.error().message), a.ms(), type);
        return;
    }
    if (refused_unsandboxed(a, claimed->decision) || waits_on_limits(a, claimed->task)) return;
    settle(a, attempt(a, *claimed, lease_start), acks);
}

std::optional<policy::Decision> Worker::judge_at_claim(const Attempt& a, const Result<AgentTask>& task)
{
    const queue::Lease& lease = a.lease;
    events::Span evaluate(m_events, "policy.evaluate", lease.id, {{"stage", "claim"}});
    // A task is judged as its typed fields write it: the environment in the
    // one spelling task_from_json gives it, so that a task queued before
    // entries normalised it, or put in a shared queue by other means, meets
    // the same production gate. One that cannot be read is judged as stored,
    // and refused: policy cannot tell what it asks for.
    policy::Decision d = m_policy->decide(task ? to_json(*task) : lease.task);
    if (!task) {
        d.allowed = false;
        d.reason = task.error().message;
    }
    json now = policy::to_json(d);
    events::describe_decision(evaluate, now);
    evaluate.end();
    if (d.allowed && !asks_new_approvals(lease, d)) return d;
    auto to = d.allowed ? queue::State::pending_approval : queue::State::denied;
    auto st = m_queue.redecide(lease.id, lease.token, to, now, d.reason);
    m_events.emit({d.allowed ? "task.pending-approval" : "task.escalated",
                   lease.id,
                   "",
                   {{"stage", "claim"}, {"reason", d.reason}, {"decision", now}}});
    a.outcome_is(d.allowed ? "pending-approval" : "denied");
    std::lock_guard lock(m_mutex);
    if (!d.allowed) ++m_summary.denied;
    ended({lease.id, to, false, {}, d.reason, d.required_approvals});
    if (!st) spdlog::warn("{}", st.error().message);
    return std::nullopt;
}

bool Worker::refused_unsandboxed(const Attempt& a, const policy::Decision& decision)
{
    if (!m_opt.sandbox || m_opt.sandbox->mode() != sandbox::Mode::none || decision.allow_unsandboxed) return false;
    const queue::Lease& lease = a.lease;
    auto st = m_queue.nack(lease.id, lease.token, "policy does not allow running this task without the sandbox",
                           m_opt.backoff, false);
    m_events.emit({"task.escalated", lease.id, "", {{"stage", "claim"}, {"reason", "sandbox none not allowed"}}});
    a.outcome_is("denied", "sandbox none not allowed");
    std::lock_guard lock(m_mutex);
    ++m_summary.failed;
    if (st && *st == queue::State::dead) ++m_summary.dead;
    ended({lease.id,
           st ? *st : queue::State::leased,
           false,
           {},
           "policy does not allow running this task without the sandbox",
           {}});
    return true;
}

bool Worker::waits_on_limits(const Attempt& a, const AgentTask& task)
{
    if (!m_opt.delivery) return false;
    const queue::Lease& lease = a.lease;
    auto wait = m_opt.delivery->over_limit(task);
    if (!wait) spdlog::warn("task {}: cannot check the limits on pull requests: {}", lease.id, wait.error().message);
    if (!wait || !*wait) return false;
    auto st = m_queue.defer(lease.id, lease.token, (*wait)->delay, (*wait)->reason);
    m_events.emit({"task.waiting",
                   lease.id,
                   "",
                   {{"worker", m_opt.id}, {"reason", (*wait)->reason}, {"delayMs", (*wait)->delay.count()}}});
    a.outcome_is("waiting");
    std::lock_guard lock(m_mutex);
    if (st) ++m_summary.waiting;
    else ++m_summary.lost;
    ended({lease.id, st ? queue::State::queued : queue::State::leased, st.has_value(), {}, (*wait)->reason, {}});
    return true;
}

creds::TaskLease Worker::bound_lease(const queue::Lease& lease, const ClaimedTask& claimed,
                                     std::shared_ptr<InFlight> flight) const
{
    creds::TaskLease bound;
    bound.task_id = lease.id;
    bound.worker_id = m_opt.id;
    bound.token = lease.token;
    bound.task = lease.task;
    bound.decision = policy::to_json(claimed.decision);
    if (m_opt.delivery) {
        bound.grant.repository = m_opt.delivery->repository_for(claimed.task.context.repository_id);
        bound.grant.also = configured_ci_scopes(m_opt.delivery->options().validation.steps);
    }
    bound.lease_until_ms = [flight] { return flight->lease_until_wall_ms.load(); };
    return bound;
}

agent::Outcome Worker::attempt(const Attempt& a, const ClaimedTask& claimed, std::int64_t lease_start)
{
    const queue::Lease& lease = a.lease;
    auto flight = std::make_shared<InFlight>();
    flight->id = lease.id;
    flight->token = lease.token;
    flight->trace = a.trace;
    flight->valid_until_ms = lease_start + m_opt.lease.count() * 9 / 10;
    flight->lease_until_wall_ms = lease.lease_until_ms;
    {
        std::lock_guard lock(m_mutex);
        m_inflight.push_back(flight);
    }
    agent::Outcome outcome;
    {
        // Whatever this attempt mints (clone, push, pull request, CI) is
        // bound to this task and lease.
        creds::LeaseScope in_lease(bound_lease(lease, claimed, flight));
        outcome = run_agent(a, claimed, *flight);
    }
    std::lock_guard lock(m_mutex);
    m_inflight.erase(std::find(m_inflight.begin(), m_inflight.end(), flight));
    return outcome;
}

agent::Outcome Worker::run_agent(const Attempt& a, const ClaimedTask& claimed, InFlight& flight)
{
    agent::Agent* agent = m_agents.find(a.agent_name);
    if (!agent) return {false, "no agent '" + a.agent_name + "' in this worker", {}, true};
    if (!m_opt.delivery) return run_in(*agent, a, claimed, flight, m_opt.workspace);
    // A worktree of its own for this attempt, when the worker delivers changes.
    auto checkout = m_opt.delivery->prepare(claimed.task, a.lease.attempt);
    if (!checkout)
        return agent::Outcome::failure("cannot prepare a worktree: " + checkout.error().message,
                                       checkout.error().code != Errc::denied);
    agent::Outcome outcome;
    if (auto ws = Workspace::open(checkout->dir); !ws) {
        outcome = agent::Outcome::failure(ws.error().message, true);
    } else {
        outcome = run_in(*agent, a, claimed, flight, &*ws);
        if (outcome.ok && !flight.lost.load()) deliver(a, claimed, *checkout, outcome);
    }
    m_opt.delivery->cleanup(*checkout);
    return outcome;
}

agent::Outcome Worker::run_in(agent::Agent& agent, const Attempt& a, const ClaimedTask& claimed, InFlight& flight,
                              const Workspace* workspace)
{
    const queue::Lease& lease = a.lease;
    long long timeout_ms = claimed.decision.timeout_ms;
    auto deadline = a.started + milliseconds(timeout_ms);
    bool timed_out = false;
    agent::RunContext ctx{claimed.task,
                          claimed.decision,
                          lease.attempt,
                          lease.token,
                          deadline,
                          [&] {
                              if (steady_clock::now() > deadline) timed_out = true;
                              if (steady_ms() > flight.valid_until_ms) flight.lost = true;
                              return timed_out || m_aborting.load() || flight.lost.load();
                          },
                          m_events,
                          workspace,
                          m_opt.sandbox,
                          m_policy ? policy::digest(*m_policy, lease.task) : json(),
                          "",
                          ""};
    if (!m_opt.record_dir.empty())
        ctx.record =
            (std::filesystem::path(m_opt.record_dir) / (lease.id + "-" + std::to_string(lease.attempt) + ".jsonl"))
                .string();
    agent::Outcome outcome;
    try {
        outcome = agent::run_contained(agent, ctx);
    } catch (const std::exception& e) {
        outcome = {false, std::string("agent '") + a.agent_name + "' failed: " + e.what(), {}, true};
    }
    if (timed_out && outcome.ok == false && outcome.error.empty())
        outcome.error = "timed out after " + std::to_string(timeout_ms) + " ms";
    return outcome;
}

void Worker::deliver(const Attempt& a, const ClaimedTask& claimed, const git::Checkout& checkout,
                     agent::Outcome& outcome)
{
    auto delivered = m_opt.delivery->deliver(claimed.task, claimed.decision, checkout, outcome);
    if (delivered) {
        m_events.emit({"change.delivered", a.lease.id, "", *delivered});
        outcome.result["change"] = std::move(*delivered);
        return;
    }
    // A person owns the branch, or policy refused the push: retrying changes nothing.
    bool final = delivered.error().code == Errc::conflict || delivered.error().code == Errc::denied;
    outcome = agent::Outcome::failure("cannot deliver the change: " + delivered.error().message, !final);
}

void Worker::settle(const Attempt& a, agent::Outcome outcome, std::vector<Done>& acks)
{
    queue::Lease& lease = a.lease;
    double ms = a.ms();
    if (m_aborting && !outcome.ok) {
        // Shutdown past the grace period: not the task's fault.
        auto st = m_queue.release(lease.id, lease.token);
        m_events.emit({"task.released", lease.id, "", {{"worker", m_opt.id}, {"reason", "worker shutdown"}}});
        a.outcome_is("released");
        std::lock_guard lock(m_mutex);
        if (st) ++m_summary.released;
        ended({lease.id, queue::State::leased, false, {}, "released at worker shutdown", {}});
        return;
    }
    if (outcome.ok) {
        a.outcome_is("succeeded");
        acks.push_back({&lease, std::move(outcome.result), ms, a.agent_name, a.type, a.trace});
        return;
    }
    a.outcome_is("failed", outcome.error);
    failed(lease, outcome, ms, a.type);
}

void Worker::failed(const queue::Lease& lease, const agent::Outcome& outcome, double ms, const std::string& type)
{
    auto state = m_queue.nack(lease.id, lease.token, outcome.error, m_opt.backoff, outcome.retryable);
    std::lock_guard lock(m_mutex);
    if (!state) {
        ++m_summary.lost;
        ended({lease.id, queue::State::leased, false, {}, state.error().message, {}});
        spdlog::warn("{}", state.error().message);
        return;
    }
    ++m_summary.failed;
    ended({lease.id, *state, false, {}, outcome.error, {}});
    m_events.emit({"task.failed",
                   lease.id,
                   "",
                   {{"worker", m_opt.id},
                    {"attempt", lease.attempt},
                    {"error", outcome.error},
                    {"durationMs", ms},
                    {"taskType", type}}});
    if (*state == queue::State::dead) {
        ++m_summary.dead;
        m_events.emit({"task.dead", lease.id, "", {{"attempts", lease.attempt}, {"error", outcome.error}}});
    } else {
        m_events.emit({"task.retried", lease.id, "", {{"attempt", lease.attempt}}});
    }
}

Result<TaskOutcome> outcome_of(queue::Queue& queue, const std::string& id)
{
    auto e = queue.show(id);
    if (!e) return fail(e.error());
    TaskOutcome o{e->id, e->state, false, e->result, e->last_error, e->required_approvals};
    // Over pr.max_open or pr.max_per_hour: queued, it goes out as others merge or close.
    if (o.state == queue::State::queued && o.error.rfind("waiting: ", 0) == 0) {
        o.waiting = true;
        o.error = o.error.substr(9);
    }
    return o;
}

}  // namespace infra::core
