#include "plugins/queues/postgres_queue.hpp"

#include "core/json_access.hpp"
#include "core/store/pg.hpp"
#include "core/text.hpp"
#include "plugins/queues/common.hpp"
#include "plugins/queues/pool.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <poll.h>

namespace infra::plugins::queues {
namespace {

using namespace core;
using namespace core::queue;
using store::pg::Conn;
using store::pg::Param;
using store::pg::Rows;

// The schema, created once per database under an advisory lock (several
// workers may start at once). Payloads live apart so that claims and acks
// rewrite only small rows, and every claim and ack writes a new row version
// into each index whose predicate it meets: so there are few indexes (no
// index on seq, none for purge, which scans).
constexpr int k_schema_version = 1;
constexpr const char* k_schema = R"sql(
CREATE TABLE IF NOT EXISTS infra_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS infra_queue (
    id                  TEXT PRIMARY KEY,
    seq                 BIGSERIAL NOT NULL,
    dedupe_key          TEXT NOT NULL,
    type                TEXT NOT NULL,
    agent               TEXT NOT NULL,
    state               TEXT NOT NULL,
    priority            INTEGER NOT NULL,
    available_at        BIGINT NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    max_attempts        INTEGER NOT NULL,
    fence               BIGINT NOT NULL DEFAULT 0,
    lease_owner         TEXT,
    lease_until         BIGINT,
    last_error          TEXT,
    required_approvals  TEXT NOT NULL DEFAULT '[]',
    approvals           TEXT NOT NULL DEFAULT '[]',
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    finished_at         BIGINT
);
CREATE INDEX IF NOT EXISTS infra_queue_ready ON infra_queue (priority DESC, seq) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS infra_queue_leases ON infra_queue (lease_until) WHERE state = 'leased';
CREATE UNIQUE INDEX IF NOT EXISTS infra_queue_active_dedupe ON infra_queue (dedupe_key)
    WHERE state IN ('pending-approval', 'queued', 'leased');
-- Distributed mode's output stream: workers' events, for the server.
CREATE TABLE IF NOT EXISTS infra_events (seq BIGSERIAL PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS infra_queue_payload (
    id        TEXT PRIMARY KEY REFERENCES infra_queue (id) ON DELETE CASCADE,
    task      BYTEA NOT NULL,
    decision  BYTEA NOT NULL,
    result    BYTEA
);
)sql";

// Idle workers LISTEN on this channel; whatever makes a task claimable
// NOTIFYs it in the same transaction (delivered at commit).
constexpr const char* k_channel = "infra_queue";
constexpr const char* k_notify = "NOTIFY infra_queue";

constexpr const char* k_active = "('pending-approval', 'queued', 'leased')";

/// A Postgres array literal of text ({"a","b",NULL}), built element by element.
class Array {
public:
    void add(std::string_view v)
    {
        m_s += m_s.empty() ? "{\"" : ",\"";
        for (char ch : v) {
            if (ch == '"' || ch == '\\') m_s += '\\';
            m_s += ch;
        }
        m_s += '"';
    }
    void add_null() { m_s += m_s.empty() ? "{NULL" : ",NULL"; }
    std::string str() const { return m_s.empty() ? "{}" : m_s + "}"; }

private:
    std::string m_s;
};

/// A bytea[] parameter in PostgreSQL's binary array format, for `$N::bytea[]`:
/// payloads go as they are, with nothing to escape on the way and nothing
/// to parse on the server.
class ByteaArray {
public:
    void add(const std::vector<std::uint8_t>& bytes)
    {
        put(m_elems, static_cast<std::uint32_t>(bytes.size()));
        m_elems.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        ++m_n;
    }
    void add_null()
    {
        put(m_elems, 0xffffffffu);  // length -1
        m_has_null = true;
        ++m_n;
    }
    Param param() const
    {
        constexpr std::uint32_t k_bytea_oid = 17;
        std::string out;
        // One dimension, whether any element is NULL, the element type, the
        // length and the lower bound; then the elements.
        for (std::uint32_t v : {1u, m_has_null ? 1u : 0u, k_bytea_oid, m_n, 1u}) put(out, v);
        out += m_elems;
        return Param::bytes(out.data(), out.size());
    }

private:
    /// In network byte order, as the binary format wants.
    static void put(std::string& s, std::uint32_t v)
    {
        s.append(
            {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)});
    }
    std::string m_elems;
    std::uint32_t m_n = 0;
    bool m_has_null = false;
};

Param cbor(const json& j)
{
    auto bytes = json::to_cbor(j);
    return Param::bytes(bytes.data(), bytes.size());
}

/// BEGIN ... COMMIT on one connection; rolled back unless committed.
class Tx {
public:
    static Result<Tx> begin(Conn& c)
    {
        if (auto st = c.exec("BEGIN"); !st) return st.error();
        return Tx(c);
    }
    Tx(Tx&& o) noexcept : m_conn(o.m_conn) { o.m_conn = nullptr; }
    ~Tx()
    {
        if (m_conn) (void)m_conn->exec("ROLLBACK");
    }
    Status commit()
    {
        auto st = m_conn->exec("COMMIT");
        m_conn = nullptr;
        return st;
    }

private:
    explicit Tx(Conn& c) : m_conn(&c) {}
    Conn* m_conn;
};

class PostgresQueue final : public Queue {
public:
    PostgresQueue(std::string url, OpenOptions opt) : m_pool([url] { return Conn::open(url); }), m_opt(opt) {}

    Status init()
    {
        auto c = m_pool.take();
        if (!c) return c.error();
        auto tx = Tx::begin(**c);
        if (!tx) return tx.error();
        if (auto r = (*c)->query("SELECT pg_advisory_xact_lock(hashtext('infra_schema'))"); !r) return r.error();
        if (auto st = (*c)->exec(k_schema); !st) return st;
        auto v = (*c)->query("SELECT version FROM infra_schema WHERE component = 'queue'");
        if (!v) return v.error();
        if (v->size() == 1 && v->integer(0, 0) > k_schema_version)
            return fail(Errc::conflict,
                        "the queue at '" + (*c)->where() + "' has schema version " + v->text(0, 0) +
                            ", newer than this infra-agent knows (" + std::to_string(k_schema_version) + ")",
                        "upgrade infra-agent");
        if (auto r = (*c)->query("INSERT INTO infra_schema (component, version) VALUES ('queue', $1::int) "
                                 "ON CONFLICT (component) DO NOTHING",
                                 {k_schema_version});
            !r)
            return r.error();
        return tx->commit();
    }

    Result<std::vector<EnqueueOutcome>> enqueue(std::vector<EnqueueItem> items) override
    {
        if (items.empty()) return std::vector<EnqueueOutcome>();
        // The whole batch is one INSERT over arrays, in one transaction with
        // the look-ups of duplicates: a round trip per batch, not per task.
        Array ids, keys, types, agents, states, prios, avails, maxes, approvals;
        ByteaArray tasks, decisions;
        auto now = now_ms();
        bool claimable = false;
        for (const auto& item : items) {
            json required =
                item.decision.is_object() ? core::array_member(item.decision, "requiredApprovals") : json::array();
            ids.add(item.task.id);
            keys.add(item.task.dedupe_key);
            types.add(to_string(item.task.type));
            agents.add(item.task.context.agent_slug);
            states.add(to_string(item.initial));
            prios.add(std::to_string(effective_priority(item.task, item.decision)));
            avails.add(std::to_string(now + std::max<std::int64_t>(0, item.delay.count())));
            maxes.add(std::to_string(std::max(1, item.max_attempts)));
            approvals.add(required.dump());
            tasks.add(json::to_cbor(to_json(item.task)));
            decisions.add(json::to_cbor(item.decision));
        }
        auto c = m_pool.take();
        if (!c) return c.error();
        auto tx = Tx::begin(**c);
        if (!tx) return tx.error();
        auto ins = (*c)->query(
            "WITH input AS (SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
            "$7::int[], "
            "$8::bigint[], $9::int[], $10::text[], $11::bytea[], $12::bytea[]) WITH ORDINALITY "
            "AS t(id, dedupe_key, type, agent, state, priority, available_at, max_attempts, required_approvals, task, "
            "decision, ord)), "
            "ins AS (INSERT INTO infra_queue (id, dedupe_key, type, agent, state, priority, available_at, "
            "max_attempts, "
            "required_approvals, created_at, updated_at) SELECT id, dedupe_key, type, agent, state, priority, "
            "available_at, "
            "max_attempts, required_approvals, $1::bigint, $1::bigint FROM input ORDER BY ord ON CONFLICT DO NOTHING "
            "RETURNING id), "
            // An id twice in a batch: its first occurrence is the one inserted.
            "pay AS (INSERT INTO infra_queue_payload (id, task, decision) SELECT DISTINCT ON (i.id) i.id, "
            "i.task, i.decision FROM input i JOIN ins ON ins.id = i.id "
            "ORDER BY i.id, i.ord) "
            "SELECT id FROM ins",
            {now, ids.str(), keys.str(), types.str(), agents.str(), states.str(), prios.str(), avails.str(),
             maxes.str(), approvals.str(), tasks.param(), decisions.param()});
        if (!ins) return ins.error();
        std::set<std::string> inserted;
        for (int i = 0; i < ins->size(); ++i) inserted.insert(ins->text(i, 0));
        std::vector<EnqueueOutcome> out;
        for (const auto& item : items) {
            if (inserted.erase(item.task.id)) {
                out.push_back({item.task.id, item.initial, false});
                claimable = claimable || item.initial == State::queued;
                continue;
            }
            auto dup =
                (*c)->query(std::string("SELECT id, state FROM infra_queue WHERE id = $1 UNION ALL "
                                        "SELECT id, state FROM infra_queue WHERE dedupe_key = $2 AND state IN ") +
                                k_active + " LIMIT 1",
                            {item.task.id, item.task.dedupe_key});
            if (!dup) return dup.error();
            if (dup->size() == 0) return fail(Errc::internal, "enqueue conflict without a conflicting task");
            out.push_back({dup->text(0, 0), parse_state(dup->text(0, 1)).value_or(State::queued), true});
        }
        if (claimable)
            if (auto st = (*c)->exec(k_notify); !st) return st.error();
        if (auto st = tx->commit(); !st) return st.error();
        return out;
    }

    Result<std::vector<Lease>> claim(const std::string& worker, std::size_t max, Millis lease,
                                     const std::vector<std::string>& agents) override
    {
        auto c = m_pool.take();
        if (!c) return c.error();
        auto now = now_ms();
        // A lease that ran out belongs to a worker that died or hung: its
        // attempt counts, and the task goes to the next claimer (this one).
        auto rec = (*c)->query(
            "UPDATE infra_queue q SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, "
            "last_error = 'lease expired: worker ' || COALESCE(lease_owner, '?') || ' stopped renewing it', "
            "finished_at = CASE WHEN attempts >= max_attempts THEN $1::bigint END, lease_owner = NULL, "
            "lease_until = NULL, available_at = $1::bigint, updated_at = $1::bigint "
            "FROM (SELECT id FROM infra_queue WHERE state = 'leased' AND lease_until < $1::bigint "
            "FOR UPDATE SKIP LOCKED) e WHERE q.id = e.id RETURNING q.id, q.state",
            {now});
        if (!rec) return rec.error();
        std::string agent_array;
        for (const auto& a : agents) {
            std::string quoted;
            for (char ch : a) quoted += (ch == '"' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
            agent_array += std::string(agent_array.empty() ? "{" : ",") + "\"" + quoted + "\"";
        }
        if (!agent_array.empty()) agent_array += "}";
        std::vector<Param> params = {now, worker, static_cast<std::int64_t>(lease.count()),
                                     static_cast<std::int64_t>(max)};
        if (!agents.empty()) params.emplace_back(agent_array);
        auto cl = (*c)->query(
            std::string("WITH c AS (UPDATE infra_queue q SET state = 'leased', lease_owner = $2, "
                        "lease_until = $1::bigint + $3::bigint, attempts = attempts + 1, fence = fence + 1, "
                        "updated_at = $1::bigint FROM (SELECT id FROM infra_queue WHERE state = 'queued' "
                        "AND available_at <= $1::bigint ") +
                (agents.empty() ? "" : "AND agent = ANY($5::text[]) ") +
                "ORDER BY priority DESC, seq LIMIT $4::bigint FOR UPDATE SKIP LOCKED) s WHERE q.id = s.id "
                "RETURNING q.id, q.fence, q.attempts, q.max_attempts, q.lease_until, q.priority, q.seq, "
                "q.available_at) "
                "SELECT c.id, c.fence, c.attempts, c.max_attempts, c.lease_until, c.available_at, p.task, p.decision "
                "FROM c JOIN infra_queue_payload p ON p.id = c.id ORDER BY c.priority DESC, c.seq",
            params, Conn::Results::binary);  // payloads as bytes, not hex
        if (!cl) return cl.error();
        std::vector<Lease> out;
        out.reserve(static_cast<std::size_t>(cl->size()));
        for (int i = 0; i < cl->size(); ++i) {
            Lease l;
            l.id = cl->text(i, 0);
            l.token = cl->integer(i, 1);
            l.attempt = static_cast<int>(cl->integer(i, 2));
            l.max_attempts = static_cast<int>(cl->integer(i, 3));
            l.lease_until_ms = cl->integer(i, 4);
            l.ready_ms = cl->integer(i, 5);
            l.claimed_ms = now;
            l.task = from_cbor(cl->bytes(i, 6));
            l.decision = from_cbor(cl->bytes(i, 7));
            out.push_back(std::move(l));
        }
        if (m_opt.events)
            for (int i = 0; i < rec->size(); ++i) {
                std::string state = rec->text(i, 1);
                m_opt.events->emit({state == "dead" ? "task.dead" : "task.retried",
                                    rec->text(i, 0),
                                    "",
                                    {{"reason", "lease expired"}, {"state", state}}});
            }
        return out;
    }

    Status heartbeat(const std::string& id, std::int64_t token, Millis lease) override
    {
        auto c = m_pool.take();
        if (!c) return c.error();
        auto now = now_ms();
        auto r = (*c)->query("UPDATE infra_queue SET lease_until = $1::bigint + $4::bigint, updated_at = $1::bigint "
                             "WHERE id = $2 AND fence = $3::bigint AND state = 'leased' AND lease_until >= $1::bigint",
                             {now, id, token, static_cast<std::int64_t>(lease.count())});
        if (!r) return r.error();
        return r->affected() == 1 ? Status{} : lost(**c, id, token);
    }

    Status ack(const std::string& id, std::int64_t token, const json& result) override
    {
        return ack_batch({{id, token, result, {}}}).front();
    }

    std::vector<Status> ack_batch(const std::vector<Ack>& acks) override
    {
        // One statement for the batch: the fenced updates, and the results
        // of those that passed. Each refused ack is explained on its own.
        std::vector<Status> out(acks.size());
        Array ids, tokens;
        ByteaArray results;
        for (const auto& a : acks) {
            ids.add(a.id);
            tokens.add(std::to_string(a.token));
            bool none = a.result.is_null() || (a.result.is_object() && a.result.empty());
            if (none) results.add_null();
            else results.add(json::to_cbor(a.result));
        }
        auto c = m_pool.take();
        if (!c) {
            std::fill(out.begin(), out.end(), Status(c.error()));
            return out;
        }
        auto r = (*c)->query(
            "WITH a AS (SELECT * FROM unnest($2::text[], $3::bigint[], $4::bytea[]) AS a(id, token, result)), "
            "u AS (UPDATE infra_queue q SET state = 'succeeded', finished_at = $1::bigint, updated_at = $1::bigint, "
            "lease_owner = NULL, lease_until = NULL FROM a WHERE q.id = a.id AND q.fence = a.token "
            "AND q.state = 'leased' AND q.lease_until >= $1::bigint RETURNING q.id), "
            "r AS (UPDATE infra_queue_payload p SET result = a.result FROM a JOIN u ON u.id = a.id "
            "WHERE p.id = a.id AND a.result IS NOT NULL) "
            "SELECT id FROM u",
            {now_ms(), ids.str(), tokens.str(), results.param()});
        if (!r) {
            std::fill(out.begin(), out.end(), Status(r.error()));
            return out;
        }
        std::set<std::string> done;
        for (int i = 0; i < r->size(); ++i) done.insert(r->text(i, 0));
        for (std::size_t i = 0; i < acks.size(); ++i)
            if (!done.count(acks[i].id)) out[i] = lost(**c, acks[i].id, acks[i].token);
        return out;
    }

    Result<State> nack(const std::string& id, std::int64_t token, const std::string& error, const Backoff& backoff,
                       bool retry) override
    {
        auto c = m_pool.take();
        if (!c) return c.error();
        auto tx = Tx::begin(**c);
        if (!tx) return tx.error();
        auto now = now_ms();
        auto q = (*c)->query("SELECT attempts, max_attempts FROM infra_queue WHERE id = $1 AND fence = $2::bigint "
                             "AND state = 'leased' AND lease_until >= $3::bigint FOR UPDATE",
                             {id, token, now});
        if (!q) return q.error();
        if (q->size() == 0) return lost(**c, id, token);
        int attempts = static_cast<int>(q->integer(0, 0));
        bool dead = !retry || attempts >= static_cast<int>(q->integer(0, 1));
        State next = dead ? State::dead : State::queued;
        auto u = (*c)->query("UPDATE infra_queue SET state = $4, available_at = $5::bigint, last_error = $6, "
                             "finished_at = CASE WHEN $4 = 'dead' THEN $1::bigint END, lease_owner = NULL, "
                             "lease_until = NULL, updated_at = $1::bigint WHERE id = $2 AND fence = $3::bigint",
                             {now, id, token, std::string(to_string(next)),
                              now + (dead ? 0 : backoff.delay(attempts).count()), error.substr(0, 4096)});
        if (!u) return u.error();
        if (auto st = tx->commit(); !st) return st.error();
        return next;
    }

    Status release(const std::string& id, std::int64_t token) override
    {
        auto c = m_pool.take();
        if (!c) return c.error();
        auto now = now_ms();
        auto r = (*c)->query(
            std::string("UPDATE infra_queue SET state = 'queued', attempts = GREATEST(attempts - 1, 0), "
                        "lease_owner = NULL, lease_until = NULL, available_at = $1::bigint, "
                        "updated_at = $1::bigint WHERE id = $2 AND fence = $3::bigint AND state = 'leased'"),
            {now, id, token});
        if (!r) return r.error();
        if (r->affected() != 1) return lost(**c, id, token);
        (void)(*c)->exec(k_notify);
        return {};
    }

    Status defer(const std::string& id, std::int64_t token, Millis delay, const std::string& reason) override
    {
        auto c = m_pool.take();
        if (!c) return c.error();
        auto now = now_ms();
        auto r = (*c)->query(
            std::string("UPDATE infra_queue SET state = 'queued', attempts = GREATEST(attempts - 1, 0), "
                        "lease_owner = NULL, lease_until = NULL, available_at = $4::bigint, last_error = $5, "
                        "updated_at = $1::bigint WHERE id = $2 AND fence = $3::bigint AND state = 'leased'"),
            {now, id, token, now + delay.count(), reason.substr(0, 4096)});
        if (!r) return r.error();
        if (r->affected() != 1) return lost(**c, id, token);
        return {};
    }

    Status redecide(const std::string& id, std::int64_t token, State to, const json& decision,
                    const std::string& reason) override
    {
        if (to != State::denied && to != State::pending_approval)
            return fail(Errc::internal, "redecide moves a task to denied or pending-approval only");
        auto c = m_pool.take();
        if (!c) return c.error();
        auto tx = Tx::begin(**c);
        if (!tx) return tx.error();
        auto now = now_ms();
        auto r = (*c)->query("UPDATE infra_queue SET state = $4, last_error = $5, required_approvals = $6, "
                             "approvals = '[]', attempts = GREATEST(attempts - 1, 0), lease_owner = NULL, "
                             "lease_until = NULL, updated_at = $1::bigint, "
                             "finished_at = CASE WHEN $4 = 'denied' THEN $1::bigint END "
                             "WHERE id = $2 AND fence = $3::bigint AND state = 'leased'",
                             {now, id, token, std::string(to_string(to)), reason,
                              core::array_member(decision, "requiredApprovals").dump()});
        if (!r) return r.error();
        if (r->affected() != 1) return lost(**c, id, token);
        auto p = (*c)->query("UPDATE infra_queue_payload SET decision = $1 WHERE id = $2", {cbor(decision), id});
        if (!p) return p.error();
        return tx->commit();
    }

    Result<State> approve(const std::string& id, const std::string& group, const std::string& by) override
    {
        auto c = m_pool.take();
        if (!c) return c.error();
        auto tx = Tx::begin(**c);
        if (!tx) return tx.error();
        auto q =
            (*c)->query("SELECT state, required_approvals, approvals FROM infra_queue WHERE id = $1 FOR UPDATE", {id});
        if (!q) return q.error();
        if (q->size() == 0) return fail(Errc::not_found, "no task " + text::quote(id));
        json approvals = json::parse(q->text(0, 2), nullptr, false);
        auto now = now_ms();
        auto next = add_approval(id, q->text(0, 0), strings_of(q->text(0, 1)), approvals, group, by, now);
        if (!next) return next.error();
        auto u = (*c)->query("UPDATE infra_queue SET approvals = $1, state = $2, available_at = $3::bigint, "
                             "updated_at = $3::bigint WHERE id = $4",
                             {approvals.dump(), std::string(to_string(*next)), now, id});
        if (!u) return u.error();
        if (*next == State::queued)
            if (auto st = (*c)->exec(k_notify); !st) return st.error();
        if (auto st = tx->commit(); !st) return st.error();
        return *next;
    }

    Status reject(const std::string& id, const std::string& by, const std::string& reason) override
    {
        auto c = m_pool.take();
        if (!c) return c.error();
        auto now = now_ms();
        auto r = (*c)->query("UPDATE infra_queue SET state = 'denied', last_error = $1, finished_at = $2::bigint, "
                             "updated_at = $2::bigint WHERE id = $3 AND state = 'pending-approval'",
                             {"rejected by " + by + (reason.empty() ? "" : ": " + reason), now, id});
        if (!r) return r.error();
        return r->affected() == 1 ? Status{} : state_error(**c, id, "waiting for approval");
    }

    Status retry(const std::string& id) override
    {
        auto c = m_pool.take();
        if (!c) return c.error();
        auto now = now_ms();
        auto r =
            (*c)->query("UPDATE infra_queue SET state = 'queued', attempts = 0, available_at = $1::bigint, "
                        "finished_at = NULL, updated_at = $1::bigint WHERE id = $2 AND state IN ('dead', 'cancelled')",
                        {now, id});
        if (!r) {
            if (r.error().code == Errc::conflict)
                return fail(Errc::conflict,
                            "cannot retry task " + text::quote(id) + ": another unfinished task has its dedupe key");
            return r.error();
        }
        if (r->affected() != 1) return state_error(**c, id, "dead or cancelled");
        (void)(*c)->exec(k_notify);
        return {};
    }

    Status cancel(const std::string& id) override
    {
        auto c = m_pool.take();
        if (!c) return c.error();
        auto now = now_ms();
        auto r = (*c)->query(std::string("UPDATE infra_queue SET state = 'cancelled', finished_at = $1::bigint, "
                                         "updated_at = $1::bigint, lease_owner = NULL, lease_until = NULL "
                                         "WHERE id = $2 AND state IN ") +
                                 k_active,
                             {now, id});
        if (!r) return r.error();
        return r->affected() == 1 ? Status{} : state_error(**c, id, "unfinished");
    }

    Result<std::int64_t> purge(Millis retention, const std::vector<State>& states) override
    {
        auto in = purgeable_states(states);
        if (!in) return in.error();
        auto c = m_pool.take();
        if (!c) return c.error();
        auto r = (*c)->query("DELETE FROM infra_queue WHERE finished_at IS NOT NULL AND finished_at < $1::bigint "
                             "AND state IN (" +
                                 *in + ")",
                             {now_ms() - retention.count()});
        if (!r) return r.error();
        return r->affected();
    }

    Result<std::vector<Entry>> list(const ListFilter& f) override
    {
        std::string sql = std::string(k_entry_columns) + " FROM infra_queue q WHERE true";
        if (!f.states.empty()) {
            sql += " AND state IN (";
            for (std::size_t i = 0; i < f.states.size(); ++i)
                sql += std::string(i ? ", '" : "'") + std::string(to_string(f.states[i])) + "'";
            sql += ")";
        }
        std::vector<Param> params = {static_cast<std::int64_t>(f.limit)};
        if (!f.type.empty()) {
            sql += " AND type = $2";
            params.emplace_back(f.type);
        }
        sql += " ORDER BY seq DESC LIMIT $1::bigint";
        auto c = m_pool.take();
        if (!c) return c.error();
        auto r = (*c)->query(sql, params);
        if (!r) return r.error();
        std::vector<Entry> out;
        for (int i = 0; i < r->size(); ++i) out.push_back(entry(*r, i));
        return out;
    }

    Result<Entry> show(const std::string& id) override
    {
        auto c = m_pool.take();
        if (!c) return c.error();
        // A unique prefix is enough, like a short git hash.
        std::string like;
        for (char ch : id) like += (ch == '%' || ch == '_' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
        auto r =
            (*c)->query(std::string(k_entry_columns) +
                            ", p.task, p.decision, p.result FROM infra_queue q JOIN infra_queue_payload p "
                            "ON p.id = q.id WHERE q.id = $1 OR q.id LIKE $2 || '%' ORDER BY q.id = $1 DESC LIMIT 2",
                        {id, like});
        if (!r) return r.error();
        if (r->size() == 0) return fail(Errc::not_found, "no task " + text::quote(id) + " in the queue");
        Entry e = entry(*r, 0);
        if (e.id != id && r->size() > 1)
            return fail(Errc::usage, "task id prefix " + text::quote(id) + " is ambiguous");
        e.task = from_cbor(r->bytes(0, 17));
        e.decision = from_cbor(r->bytes(0, 18));
        if (!r->is_null(0, 19)) e.result = from_cbor(r->bytes(0, 19));
        return e;
    }

    Result<Stats> stats() override
    {
        auto c = m_pool.take();
        if (!c) return c.error();
        auto now = now_ms();
        auto r = (*c)->query(
            "SELECT state, COUNT(*), COUNT(*) FILTER (WHERE state = 'queued' AND available_at <= $1::bigint), "
            "COUNT(*) FILTER (WHERE state = 'queued' AND available_at > $1::bigint), "
            "COUNT(*) FILTER (WHERE state = 'leased' AND lease_until < $1::bigint), "
            "MIN(available_at) FILTER (WHERE state = 'queued' AND available_at <= $1::bigint) "
            "FROM infra_queue GROUP BY state",
            {now});
        if (!r) return r.error();
        Stats st;
        std::int64_t oldest = 0;
        for (int i = 0; i < r->size(); ++i) {
            st.by_state[r->text(i, 0)] = r->integer(i, 1);
            st.ready += r->integer(i, 2);
            st.delayed += r->integer(i, 3);
            st.expired_leases += r->integer(i, 4);
            if (!r->is_null(i, 5)) oldest = oldest ? std::min(oldest, r->integer(i, 5)) : r->integer(i, 5);
        }
        st.oldest_ready_ms = oldest ? now - oldest : 0;
        return st;
    }

    Status publish_events(const std::vector<std::string>& lines) override
    {
        if (lines.empty()) return {};
        Array bodies;
        for (const auto& l : lines) bodies.add(l);
        auto c = m_pool.take();
        if (!c) return c.error();
        auto r = (*c)->query("INSERT INTO infra_events (body) SELECT unnest($1::text[])", {bodies.str()});
        if (!r) return r.error();
        return {};
    }

    Result<std::size_t> consume_events(std::size_t max,
                                       const std::function<Status(const std::vector<StreamEvent>&)>& apply) override
    {
        auto c = m_pool.take();
        if (!c) return c.error();
        auto r = (*c)->query("SELECT seq, body FROM infra_events ORDER BY seq LIMIT $1::bigint",
                             {static_cast<std::int64_t>(max)});
        if (!r) return r.error();
        if (r->size() == 0) return std::size_t{0};
        std::vector<StreamEvent> lines;
        Array seqs;
        for (int i = 0; i < r->size(); ++i) {
            seqs.add(r->text(i, 0));
            lines.emplace_back(r->text(i, 0), r->text(i, 1));
        }
        if (auto st = apply(lines); !st) return st.error();
        // By number, not by range: a later number may commit before an earlier one.
        auto d = (*c)->query("DELETE FROM infra_events WHERE seq = ANY($1::bigint[])", {seqs.str()});
        if (!d) return d.error();
        return lines.size();
    }

    bool wait_for_work(Millis max) override
    {
        m_wakeups.wait(max, [this](Millis max) {
            if (!m_listener) {
                auto c = m_pool.open();
                if (c && (*c)->exec(std::string("LISTEN ") + k_channel)) m_listener = std::move(*c);
            }
            if (!m_listener) {
                std::this_thread::sleep_for(max);  // the server is away: poll
                return false;
            }
            pollfd p{m_listener->socket(), POLLIN, 0};
            bool woken = ::poll(&p, 1, static_cast<int>(max.count())) > 0 && m_listener->take_notifications();
            if (!woken && !m_listener->ok()) m_listener.reset();  // reconnect next time
            return woken;
        });
        return true;
    }

private:
    static constexpr const char* k_entry_columns =
        "SELECT q.id, q.type, q.agent, q.dedupe_key, q.state, q.priority, q.attempts, q.max_attempts, q.created_at, "
        "q.updated_at, q.available_at, COALESCE(q.lease_until, 0), COALESCE(q.lease_owner, ''), "
        "COALESCE(q.last_error, ''), q.required_approvals, q.approvals, q.fence";

    static Entry entry(const Rows& r, int i)
    {
        Entry e;
        e.id = r.text(i, 0);
        e.type = r.text(i, 1);
        e.agent = r.text(i, 2);
        e.dedupe_key = r.text(i, 3);
        e.state = parse_state(r.text(i, 4)).value_or(State::queued);
        e.priority = static_cast<Priority>(std::clamp<std::int64_t>(r.integer(i, 5), 0, 3));
        e.attempts = static_cast<int>(r.integer(i, 6));
        e.max_attempts = static_cast<int>(r.integer(i, 7));
        e.created_ms = r.integer(i, 8);
        e.updated_ms = r.integer(i, 9);
        e.available_ms = r.integer(i, 10);
        e.lease_until_ms = r.integer(i, 11);
        e.lease_owner = r.text(i, 12);
        e.last_error = r.text(i, 13);
        e.required_approvals = strings_of(r.text(i, 14));
        e.approvals = json::parse(r.text(i, 15), nullptr, false);
        e.fence = r.integer(i, 16);
        return e;
    }

    static Error lost(Conn& c, const std::string& id, std::int64_t token)
    {
        auto q = c.query("SELECT state, fence FROM infra_queue WHERE id = $1", {id});
        if (q && q->size() == 1) return lost_lease(id, token, q->text(0, 0), q->integer(0, 1));
        return lost_lease(id, token, std::nullopt, 0);
    }

    static Error state_error(Conn& c, const std::string& id, const std::string& wanted)
    {
        auto q = c.query("SELECT state FROM infra_queue WHERE id = $1", {id});
        if (!q) return q.error();
        return wrong_state(id, q->size() == 1 ? std::optional<std::string>(q->text(0, 0)) : std::nullopt, wanted);
    }

    Pool<Conn> m_pool;
    OpenOptions m_opt;
    Wakeups m_wakeups;
    std::unique_ptr<Conn> m_listener;  ///< LISTENs; used by the thread in m_wakeups.wait only
};

}  // namespace

Result<std::unique_ptr<Queue>> open_postgres_url(const std::string& url, const OpenOptions& options)
{
    auto q = std::make_unique<PostgresQueue>(url, options);
    if (auto st = q->init(); !st) return st.error();
    return std::unique_ptr<Queue>(std::move(q));
}

}  // namespace infra::plugins::queues
