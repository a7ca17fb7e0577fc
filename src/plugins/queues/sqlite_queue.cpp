#include "plugins/queues/sqlite_queue.hpp"

#include "core/json_access.hpp"
#include "plugins/queues/common.hpp"

#include "core/store/db.hpp"
#include "core/store/migrations.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>

namespace infra::plugins::queues {
namespace {

using namespace core;
using namespace core::queue;
using store::Db;
using store::Stmt;

// Unfinished, in the words of the queue_active_dedupe index's predicate:
// a query uses that index only when its WHERE clause repeats them.
constexpr const char* k_active = "(state = 'pending-approval' OR state = 'queued' OR state = 'leased')";

// Payloads are CBOR: binary JSON, same data model, faster both ways.
void bind_cbor(Stmt& s, int index, const json& j)
{
    auto bytes = json::to_cbor(j);
    s.bind_blob(index, bytes.data(), bytes.size());
}

class SqliteQueue final : public Queue {
public:
    SqliteQueue(std::unique_ptr<Db> db, std::unique_ptr<Db> reader, SqliteOptions opt)
        : m_db(std::move(db)), m_reader(std::move(reader)), m_opt(opt)
    {
    }

    ~SqliteQueue() override
    {
        if (m_carried) m_carried->write_through({});
    }

    bool carry_events(events::InTransactionSink& sink) override
    {
        std::error_code ec, ec2;
        auto ours = std::filesystem::weakly_canonical(m_db->path(), ec);
        auto theirs = std::filesystem::weakly_canonical(sink.location(), ec2);
        if (ec || ec2 || ours != theirs) return false;
        m_carried = &sink;
        // The sink's own writes become empty operations of the group
        // commit: the leader appends the events before every commit.
        sink.write_through([this] {
            return write(
                false, [] { return Status{}; }, /*events_only=*/true);
        });
        return true;
    }

    events::EventSink* ack_events_sink() const override { return m_carried ? m_opt.events : nullptr; }

    Result<std::vector<EnqueueOutcome>> enqueue(std::vector<EnqueueItem> items) override
    {
        std::vector<EnqueueOutcome> out;
        // Encoded before the write lock is taken: the lock covers SQL only.
        struct Encoded {
            std::vector<std::uint8_t> task, decision;
            std::string approvals;
        };
        std::vector<Encoded> encoded;
        encoded.reserve(items.size());
        for (const auto& item : items) {
            json approvals =
                item.decision.is_object() ? core::array_member(item.decision, "requiredApprovals") : json::array();
            encoded.push_back({json::to_cbor(to_json(item.task)), json::to_cbor(item.decision), approvals.dump()});
        }
        auto st = write(/*atomic=*/true, [&]() -> Status {
            out.clear();
            auto now = now_ms();
            for (std::size_t i = 0; i < items.size(); ++i) {
                const auto& item = items[i];
                const auto& enc = encoded[i];
                auto ins = stmt("INSERT INTO queue (id, dedupe_key, type, agent, state, priority, available_at, "
                                "max_attempts, required_approvals, created_at, updated_at) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) ON CONFLICT DO NOTHING");
                if (!ins) return ins.error();
                (*ins)
                    ->bind(1, item.task.id)
                    .bind(2, item.task.dedupe_key)
                    .bind(3, to_string(item.task.type))
                    .bind(4, item.task.context.agent_slug)
                    .bind(5, to_string(item.initial))
                    .bind(6, effective_priority(item.task, item.decision))
                    .bind(7, now + item.delay.count())
                    .bind(8, std::max(1, item.max_attempts))
                    .bind(9, enc.approvals)
                    .bind(10, now);
                if (auto r = (*ins)->run(); !r) return r;
                if (m_db->changes() == 1) {
                    auto pay = stmt("INSERT INTO queue_payload (id, task, decision) VALUES (?, ?, ?)");
                    if (!pay) return pay.error();
                    (*pay)->bind(1, item.task.id);
                    (*pay)->bind_blob(2, enc.task.data(), enc.task.size());
                    (*pay)->bind_blob(3, enc.decision.data(), enc.decision.size());
                    if (auto r = (*pay)->run(); !r) return r;
                    out.push_back({item.task.id, item.initial, false});
                    continue;
                }
                auto dup = stmt(std::string("SELECT id, state FROM queue WHERE id = ?1 UNION ALL "
                                            "SELECT id, state FROM queue WHERE dedupe_key = ?2 AND ") +
                                k_active + " LIMIT 1");
                if (!dup) return dup.error();
                (*dup)->bind(1, item.task.id).bind(2, item.task.dedupe_key);
                auto row = (*dup)->step();
                if (!row) return row.error();
                if (!*row) return fail(Errc::internal, "enqueue conflict without a conflicting task");
                out.push_back({(*dup)->text(0), parse_state((*dup)->text(1)).value_or(State::queued), true});
                // LIMIT 1 stops before SQLITE_DONE: unreset, the statement would
                // keep this transaction's read snapshot open after the commit,
                // and the connection's next write would fail with
                // "database is locked" once another connection had written.
                (*dup)->reset();
            }
            return {};
        });
        if (!st) return st.error();
        return out;
    }

    Result<std::vector<Lease>> claim(const std::string& worker, std::size_t max, Millis lease,
                                     const std::vector<std::string>& agents) override
    {
        std::vector<Lease> out;
        std::vector<std::pair<std::string, std::string>> expired;
        std::vector<std::pair<std::string, std::string>> blobs;  // task and decision, CBOR
        auto st = write(/*atomic=*/false, [&]() -> Status {
            out.clear();
            expired.clear();
            blobs.clear();
            auto now = now_ms();
            if (auto r = reclaim_expired(now, expired); !r) return r;
            auto rows = pick_ready(now, max, lease, agents);
            if (!rows) return rows.error();
            if (auto r = lease_rows(*rows, worker, now); !r) return r;
            return read_payloads(*rows, out, blobs);
        });
        if (!st) return st.error();
        // Decoded after the write lock is released: other claims and acks go on meanwhile.
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (blobs[i].first.empty()) continue;
            out[i].task = from_cbor(blobs[i].first);
            out[i].decision = from_cbor(blobs[i].second);
        }
        if (m_opt.events)
            for (const auto& [id, state] : expired)
                m_opt.events->emit({state == "dead" ? "task.dead" : "task.retried",
                                    id,
                                    "",
                                    {{"reason", "lease expired"}, {"state", state}}});
        return out;
    }

    /// A lease that ran out belongs to a worker that died or hung: its
    /// attempt counts, and the task goes to the next claimer (or dies).
    /// Looked for first: the update's subquery and RETURNING each build a
    /// temporary table, which costs more than the claim itself, and there is
    /// seldom a lease to reclaim. In the claim's write transaction.
    Status reclaim_expired(std::int64_t now, std::vector<std::pair<std::string, std::string>>& expired)
    {
        auto any =
            stmt("SELECT 1 FROM queue INDEXED BY queue_leases WHERE state = 'leased' AND lease_until < ?1 LIMIT 1");
        if (!any) return any.error();
        (*any)->bind(1, now);
        auto expiring = (*any)->step();
        (*any)->reset();
        if (!expiring) return expiring.error();
        if (!*expiring) return {};
        auto rec =
            stmt("UPDATE queue SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, "
                 "last_error = 'lease expired: worker ' || COALESCE(lease_owner, '?') || ' stopped renewing it', "
                 "finished_at = CASE WHEN attempts >= max_attempts THEN ?1 END, lease_owner = NULL, "
                 "lease_until = NULL, available_at = ?1, updated_at = ?1 "
                 "WHERE seq IN (SELECT seq FROM queue INDEXED BY queue_leases WHERE state = 'leased' AND "
                 "lease_until < ?1) "
                 "RETURNING id, state");
        if (!rec) return rec.error();
        (*rec)->bind(1, now);
        for (;;) {
            auto row = (*rec)->step();
            if (!row) return row.error();
            if (!*row) return {};
            expired.emplace_back((*rec)->text(0), (*rec)->text(1));
        }
    }

    /// The tasks to lease, in order (priority, then first in, first out),
    /// read to the end before any is updated, with their rowids. The write
    /// transaction holds the lock throughout, so what was read is what gets
    /// updated.
    Result<std::vector<std::pair<std::int64_t, Lease>>> pick_ready(std::int64_t now, std::size_t max, Millis lease,
                                                                   const std::vector<std::string>& agents)
    {
        std::string agent_list;
        for (const auto& a : agents) agent_list += "," + a;
        if (!agent_list.empty()) agent_list += ",";
        auto pick = stmt(std::string("SELECT seq, id, fence, attempts, max_attempts, available_at FROM queue "
                                     "INDEXED BY queue_ready WHERE state = 'queued' AND available_at <= ?1 ") +
                         (agents.empty() ? "" : "AND instr(?3, ',' || agent || ',') > 0 ") +
                         "ORDER BY priority DESC, seq LIMIT ?2");
        if (!pick) return pick.error();
        (*pick)->bind(1, now).bind(2, static_cast<std::int64_t>(max));
        if (!agents.empty()) (*pick)->bind(3, agent_list);
        std::vector<std::pair<std::int64_t, Lease>> rows;
        for (;;) {
            auto row = (*pick)->step();
            if (!row) return row.error();
            if (!*row) return rows;
            Lease l;
            l.id = (*pick)->text(1);
            l.token = (*pick)->integer(2) + 1;
            l.attempt = static_cast<int>((*pick)->integer(3)) + 1;
            l.max_attempts = static_cast<int>((*pick)->integer(4));
            l.lease_until_ms = now + lease.count();
            l.ready_ms = (*pick)->integer(5);
            l.claimed_ms = now;
            rows.emplace_back((*pick)->integer(0), std::move(l));
        }
    }

    /// Leases each picked task to worker by its rowid.
    Status lease_rows(const std::vector<std::pair<std::int64_t, Lease>>& rows, const std::string& worker,
                      std::int64_t now)
    {
        auto take =
            stmt("UPDATE queue SET state = 'leased', lease_owner = ?2, lease_until = ?3, attempts = attempts + 1, "
                 "fence = fence + 1, updated_at = ?1 WHERE seq = ?4");
        if (!take) return take.error();
        for (const auto& [seq, l] : rows) {
            (*take)->reset();
            (*take)->bind(1, now).bind(2, worker).bind(3, l.lease_until_ms).bind(4, seq);
            if (auto r = (*take)->run(); !r) return r;
        }
        return {};
    }

    /// The leased tasks and, beside each, its task and decision as stored
    /// (CBOR; empty when the payload is missing).
    Status read_payloads(std::vector<std::pair<std::int64_t, Lease>>& rows, std::vector<Lease>& out,
                         std::vector<std::pair<std::string, std::string>>& blobs)
    {
        auto pay = stmt("SELECT task, decision FROM queue_payload WHERE id = ?");
        if (!pay) return pay.error();
        for (auto& [seq, l] : rows) {
            (*pay)->bind(1, l.id);
            auto row = (*pay)->step();
            if (!row) return row.error();
            if (*row) blobs.emplace_back((*pay)->blob(0), (*pay)->blob(1));
            else blobs.emplace_back();
            (*pay)->reset();
            out.push_back(std::move(l));
        }
        return {};
    }

    Status heartbeat(const std::string& id, std::int64_t token, Millis lease) override
    {
        return write(false, [&]() -> Status {
            auto now = now_ms();
            auto s = stmt("UPDATE queue SET lease_until = ?1 + ?4, updated_at = ?1 "
                          "WHERE id = ?2 AND fence = ?3 AND state = 'leased' AND lease_until >= ?1");
            if (!s) return s.error();
            (*s)->bind(1, now).bind(2, id).bind(3, token).bind(4, static_cast<std::int64_t>(lease.count()));
            if (auto r = (*s)->run(); !r) return r;
            return m_db->changes() == 1 ? Status{} : lost(id, token);
        });
    }

    std::vector<Status> ack_batch(const std::vector<Ack>& acks) override
    {
        std::vector<Status> out(acks.size());
        auto st = write(false, [&]() -> Status {
            auto* sink = ack_events_sink();
            for (std::size_t i = 0; i < acks.size(); ++i) {
                out[i] = ack_in_tx(acks[i].id, acks[i].token, acks[i].result);
                if (out[i] && sink)
                    for (const auto& e : acks[i].events) sink->emit(e);
            }
            return {};
        });
        if (!st)
            for (auto& s : out)
                if (s) s = st;
        return out;
    }

    Status ack(const std::string& id, std::int64_t token, const json& result) override
    {
        return write(false, [&]() -> Status { return ack_in_tx(id, token, result); });
    }

    Status ack_in_tx(const std::string& id, std::int64_t token, const json& result)
    {
        {
            auto now = now_ms();
            auto s =
                stmt("UPDATE queue SET state = 'succeeded', finished_at = ?1, updated_at = ?1, lease_owner = NULL, "
                     "lease_until = NULL WHERE id = ?2 AND fence = ?3 AND state = 'leased' AND lease_until >= ?1");
            if (!s) return s.error();
            (*s)->bind(1, now).bind(2, id).bind(3, token);
            if (auto r = (*s)->run(); !r) return r;
            if (m_db->changes() != 1) return lost(id, token);
            if (!result.is_null() && !(result.is_object() && result.empty())) {
                auto p = stmt("UPDATE queue_payload SET result = ? WHERE id = ?");
                if (!p) return p.error();
                bind_cbor(**p, 1, result);
                (*p)->bind(2, id);
                return (*p)->run();
            }
            return {};
        }
    }

    Result<State> nack(const std::string& id, std::int64_t token, const std::string& error, const Backoff& backoff,
                       bool retry) override
    {
        State now_state = State::queued;
        auto st = write(false, [&]() -> Status {
            auto now = now_ms();
            auto q = stmt("SELECT attempts, max_attempts FROM queue "
                          "WHERE id = ?1 AND fence = ?2 AND state = 'leased' AND lease_until >= ?3");
            if (!q) return q.error();
            (*q)->bind(1, id).bind(2, token).bind(3, now);
            auto row = (*q)->step();
            if (!row) return row.error();
            if (!*row) {
                (*q)->reset();
                return lost(id, token);
            }
            int attempts = static_cast<int>((*q)->integer(0));
            int max_attempts = static_cast<int>((*q)->integer(1));
            (*q)->reset();
            bool dead = !retry || attempts >= max_attempts;
            now_state = dead ? State::dead : State::queued;
            auto u = stmt("UPDATE queue SET state = ?4, available_at = ?5, last_error = ?6, "
                          "finished_at = CASE WHEN ?4 = 'dead' THEN ?1 END, lease_owner = NULL, lease_until = NULL, "
                          "updated_at = ?1 WHERE id = ?2 AND fence = ?3");
            if (!u) return u.error();
            (*u)->bind(1, now)
                .bind(2, id)
                .bind(3, token)
                .bind(4, to_string(now_state))
                .bind(5, now + (dead ? 0 : backoff.delay(attempts).count()))
                .bind(6, error.substr(0, 4096));
            return (*u)->run();
        });
        if (!st) return st.error();
        return now_state;
    }

    Status release(const std::string& id, std::int64_t token) override
    {
        return write(false, [&]() -> Status {
            auto now = now_ms();
            auto s = stmt("UPDATE queue SET state = 'queued', attempts = MAX(attempts - 1, 0), lease_owner = NULL, "
                          "lease_until = NULL, available_at = ?1, updated_at = ?1 "
                          "WHERE id = ?2 AND fence = ?3 AND state = 'leased'");
            if (!s) return s.error();
            (*s)->bind(1, now).bind(2, id).bind(3, token);
            if (auto r = (*s)->run(); !r) return r;
            return m_db->changes() == 1 ? Status{} : lost(id, token);
        });
    }

    Status defer(const std::string& id, std::int64_t token, Millis delay, const std::string& reason) override
    {
        return write(false, [&]() -> Status {
            auto now = now_ms();
            auto s = stmt("UPDATE queue SET state = 'queued', attempts = MAX(attempts - 1, 0), lease_owner = NULL, "
                          "lease_until = NULL, available_at = ?4, last_error = ?5, updated_at = ?1 "
                          "WHERE id = ?2 AND fence = ?3 AND state = 'leased'");
            if (!s) return s.error();
            (*s)->bind(1, now).bind(2, id).bind(3, token).bind(4, now + delay.count()).bind(5, reason.substr(0, 4096));
            if (auto r = (*s)->run(); !r) return r;
            return m_db->changes() == 1 ? Status{} : lost(id, token);
        });
    }

    Status redecide(const std::string& id, std::int64_t token, State to, const json& decision,
                    const std::string& reason) override
    {
        if (to != State::denied && to != State::pending_approval)
            return fail(Errc::internal, "redecide moves a task to denied or pending-approval only");
        return write(true, [&]() -> Status {
            auto now = now_ms();
            auto s = stmt("UPDATE queue SET state = ?4, last_error = ?5, required_approvals = ?6, approvals = '[]', "
                          "attempts = MAX(attempts - 1, 0), lease_owner = NULL, lease_until = NULL, updated_at = ?1, "
                          "finished_at = CASE WHEN ?4 = 'denied' THEN ?1 END "
                          "WHERE id = ?2 AND fence = ?3 AND state = 'leased'");
            if (!s) return s.error();
            (*s)->bind(1, now)
                .bind(2, id)
                .bind(3, token)
                .bind(4, to_string(to))
                .bind(5, reason)
                .bind(6, core::array_member(decision, "requiredApprovals").dump());
            if (auto r = (*s)->run(); !r) return r;
            if (m_db->changes() != 1) return lost(id, token);
            auto p = stmt("UPDATE queue_payload SET decision = ? WHERE id = ?");
            if (!p) return p.error();
            bind_cbor(**p, 1, decision);
            (*p)->bind(2, id);
            return (*p)->run();
        });
    }

    Result<State> approve(const std::string& id, const std::string& group, const std::string& by) override
    {
        State state = State::pending_approval;
        auto st = write(false, [&]() -> Status {
            auto q = stmt("SELECT state, required_approvals, approvals FROM queue WHERE id = ?");
            if (!q) return q.error();
            (*q)->bind(1, id);
            auto row = (*q)->step();
            if (!row) return row.error();
            if (!*row) {
                (*q)->reset();
                return fail(Errc::not_found, "no task " + text::quote(id));
            }
            std::string cur = (*q)->text(0);
            auto required = strings_of((*q)->text(1));
            json approvals = json::parse((*q)->text(2), nullptr, false);
            (*q)->reset();
            auto now = now_ms();
            auto next = add_approval(id, cur, required, approvals, group, by, now);
            if (!next) return next.error();
            state = *next;
            auto u =
                stmt("UPDATE queue SET approvals = ?1, state = ?2, available_at = ?3, updated_at = ?3 WHERE id = ?4");
            if (!u) return u.error();
            (*u)->bind(1, approvals.dump()).bind(2, to_string(state)).bind(3, now).bind(4, id);
            return (*u)->run();
        });
        if (!st) return st.error();
        return state;
    }

    Status reject(const std::string& id, const std::string& by, const std::string& reason) override
    {
        return write(false, [&]() -> Status {
            auto now = now_ms();
            auto s = stmt("UPDATE queue SET state = 'denied', last_error = ?1, finished_at = ?2, updated_at = ?2 "
                          "WHERE id = ?3 AND state = 'pending-approval'");
            if (!s) return s.error();
            (*s)->bind(1, "rejected by " + by + (reason.empty() ? "" : ": " + reason)).bind(2, now).bind(3, id);
            if (auto r = (*s)->run(); !r) return r;
            return m_db->changes() == 1 ? Status{} : state_error(id, "waiting for approval");
        });
    }

    Status retry(const std::string& id) override
    {
        return write(false, [&]() -> Status {
            auto now = now_ms();
            auto s = stmt("UPDATE queue SET state = 'queued', attempts = 0, available_at = ?1, finished_at = NULL, "
                          "updated_at = ?1 WHERE id = ?2 AND state IN ('dead', 'cancelled')");
            if (!s) return s.error();
            (*s)->bind(1, now).bind(2, id);
            if (auto r = (*s)->run(); !r) {
                if (r.error().code == Errc::conflict)
                    return fail(Errc::conflict, "cannot retry task " + text::quote(id) +
                                                    ": another unfinished task has its dedupe key");
                return r;
            }
            return m_db->changes() == 1 ? Status{} : state_error(id, "dead or cancelled");
        });
    }

    Status cancel(const std::string& id) override
    {
        return write(false, [&]() -> Status {
            auto now = now_ms();
            auto s = stmt(std::string("UPDATE queue SET state = 'cancelled', finished_at = ?1, updated_at = ?1, "
                                      "lease_owner = NULL, lease_until = NULL WHERE id = ?2 AND ") +
                          k_active);
            if (!s) return s.error();
            (*s)->bind(1, now).bind(2, id);
            if (auto r = (*s)->run(); !r) return r;
            return m_db->changes() == 1 ? Status{} : state_error(id, "unfinished");
        });
    }

    Result<std::int64_t> purge(Millis retention, const std::vector<State>& states) override
    {
        std::int64_t n = 0;
        auto in = purgeable_states(states);
        if (!in) return in.error();
        auto st = write(false, [&]() -> Status {
            auto s =
                stmt("DELETE FROM queue WHERE finished_at IS NOT NULL AND finished_at < ?1 AND state IN (" + *in + ")");
            if (!s) return s.error();
            (*s)->bind(1, now_ms() - retention.count());
            if (auto r = (*s)->run(); !r) return r;
            n = m_db->changes();
            return {};
        });
        if (!st) return st.error();
        return n;
    }

    Result<std::vector<Entry>> list(const ListFilter& f) override
    {
        std::string sql = std::string(k_entry_columns) + " FROM queue q WHERE 1 = 1";
        if (!f.states.empty()) {
            sql += " AND state IN (";
            for (std::size_t i = 0; i < f.states.size(); ++i)
                sql += std::string(i ? ", '" : "'") + std::string(to_string(f.states[i])) + "'";
            sql += ")";
        }
        if (!f.type.empty()) sql += " AND type = ?2";
        sql += " ORDER BY seq DESC LIMIT ?1";
        std::lock_guard lock(m_read_mutex);
        auto s = m_reader->prepare(sql);
        if (!s) return s.error();
        s->bind(1, static_cast<std::int64_t>(f.limit));
        if (!f.type.empty()) s->bind(2, f.type);
        std::vector<Entry> out;
        for (;;) {
            auto row = s->step();
            if (!row) return row.error();
            if (!*row) break;
            out.push_back(entry(*s));
        }
        return out;
    }

    Result<Entry> show(const std::string& id) override
    {
        std::lock_guard lock(m_read_mutex);
        auto s = m_reader->prepare(std::string(k_entry_columns) +
                                   ", p.task, p.decision, p.result FROM queue q JOIN queue_payload p USING (id) "
                                   "WHERE q.id = ?1 OR q.id LIKE ?1 || '%' ORDER BY q.id = ?1 DESC LIMIT 2");
        if (!s) return s.error();
        s->bind(1, id);
        auto row = s->step();
        if (!row) return row.error();
        if (!*row) return fail(Errc::not_found, "no task " + text::quote(id) + " in the queue");
        Entry e = entry(*s);
        e.task = from_cbor(s->blob(17));
        e.decision = from_cbor(s->blob(18));
        if (!s->is_null(19)) e.result = from_cbor(s->blob(19));
        if (e.id != id) {
            // A unique prefix is enough, like a short git hash.
            auto second = s->step();
            if (!second) return second.error();
            if (*second) return fail(Errc::usage, "task id prefix " + text::quote(id) + " is ambiguous");
        }
        return e;
    }

    Result<Stats> stats() override
    {
        std::lock_guard lock(m_read_mutex);
        Stats st;
        auto now = now_ms();
        auto s = m_reader->prepare("SELECT state, COUNT(*), SUM(state = 'queued' AND available_at <= ?1), SUM(state = "
                                   "'queued' AND available_at > ?1), "
                                   "SUM(state = 'leased' AND lease_until < ?1), MIN(CASE WHEN state = 'queued' AND "
                                   "available_at <= ?1 THEN available_at END) "
                                   "FROM queue GROUP BY state");
        if (!s) return s.error();
        s->bind(1, now);
        std::int64_t oldest = 0;
        for (;;) {
            auto row = s->step();
            if (!row) return row.error();
            if (!*row) break;
            st.by_state[s->text(0)] = s->integer(1);
            st.ready += s->integer(2);
            st.delayed += s->integer(3);
            st.expired_leases += s->integer(4);
            if (!s->is_null(5)) oldest = oldest ? std::min(oldest, s->integer(5)) : s->integer(5);
        }
        st.oldest_ready_ms = oldest ? now - oldest : 0;
        return st;
    }

private:
    static constexpr const char* k_entry_columns =
        "SELECT q.id, q.type, q.agent, q.dedupe_key, q.state, q.priority, q.attempts, q.max_attempts, q.created_at, "
        "q.updated_at, q.available_at, COALESCE(q.lease_until, 0), COALESCE(q.lease_owner, ''), "
        "COALESCE(q.last_error, ''), q.required_approvals, q.approvals, q.fence";

    static Entry entry(Stmt& s)
    {
        Entry e;
        e.id = s.text(0);
        e.type = s.text(1);
        e.agent = s.text(2);
        e.dedupe_key = s.text(3);
        e.state = parse_state(s.text(4)).value_or(State::queued);
        e.priority = static_cast<Priority>(std::clamp<std::int64_t>(s.integer(5), 0, 3));
        e.attempts = static_cast<int>(s.integer(6));
        e.max_attempts = static_cast<int>(s.integer(7));
        e.created_ms = s.integer(8);
        e.updated_ms = s.integer(9);
        e.available_ms = s.integer(10);
        e.lease_until_ms = s.integer(11);
        e.lease_owner = s.text(12);
        e.last_error = s.text(13);
        e.required_approvals = strings_of(s.text(14));
        e.approvals = json::parse(s.text(15), nullptr, false);
        e.fence = s.integer(16);
        return e;
    }

    // Says why a fenced operation was refused.
    Status lost(const std::string& id, std::int64_t token)
    {
        auto q = stmt("SELECT state, fence FROM queue WHERE id = ?");
        std::optional<std::string> state;
        std::int64_t fence = 0;
        if (q) {
            (*q)->bind(1, id);
            auto row = (*q)->step();
            if (row && *row) {
                state = (*q)->text(0);
                fence = (*q)->integer(1);
            }
            (*q)->reset();
        }
        return lost_lease(id, token, state, fence);
    }

    Status state_error(const std::string& id, const std::string& wanted)
    {
        auto q = stmt("SELECT state FROM queue WHERE id = ?");
        if (!q) return q.error();
        (*q)->bind(1, id);
        auto row = (*q)->step();
        std::optional<std::string> state;
        if (row && *row) state = (*q)->text(0);
        (*q)->reset();
        return wrong_state(id, state, wanted);
    }

    // A cached prepared statement; only the group-commit leader uses them.
    Result<Stmt*> stmt(const std::string& sql)
    {
        auto it = m_stmts.find(sql);
        if (it != m_stmts.end()) {
            it->second.reset();
            return &it->second;
        }
        auto s = m_db->prepare(sql);
        if (!s) return s.error();
        return &m_stmts.emplace(sql, std::move(*s)).first->second;
    }

    // Group commit: concurrent writers queue their operations; one of them
    // (the leader) runs everything queued in one transaction and commits
    // once, so N operations cost one fsync.
    struct Op {
        std::function<Status()> fn;
        bool atomic = false;
        bool events_only = false;  ///< only the carried sink's events to write
        Status status;
        bool done = false;
    };

    Status write(bool atomic, std::function<Status()> fn, bool events_only = false)
    {
        Op op{std::move(fn), atomic, events_only, {}, false};
        std::unique_lock lock(m_mutex);
        m_pending.push_back(&op);
        while (!op.done) {
            if (m_leader) {
                m_cv.wait(lock);
                continue;
            }
            m_leader = true;
            std::vector<Op*> batch;
            batch.swap(m_pending);
            if (!m_opt.group_commit && batch.size() > 1) {
                // One operation per transaction: the rest wait their turn.
                m_pending.insert(m_pending.begin(), batch.begin() + 1, batch.end());
                batch.resize(1);
            }
            lock.unlock();
            run_batch(batch);
            lock.lock();
            m_leader = false;
            m_cv.notify_all();
        }
        return op.status;
    }

    void run_batch(std::vector<Op*>& batch)
    {
        // A batch of events alone commits without an fsync: the queue's
        // next durable commit syncs the log they were written to, so an
        // ack still returns with every event emitted before it on disk.
        bool relaxed = m_opt.durable && std::all_of(batch.begin(), batch.end(), [](Op* op) { return op->events_only; });
        if (relaxed) (void)m_db->exec("PRAGMA synchronous=NORMAL");
        run_transaction(batch);
        if (relaxed) (void)m_db->exec("PRAGMA synchronous=FULL");
    }

    void run_transaction(std::vector<Op*>& batch)
    {
        auto tx = store::Transaction::begin(*m_db);
        if (!tx) {
            for (Op* op : batch) {
                op->status = tx.error();
                op->done = true;
            }
            return;
        }
        for (Op* op : batch) {
            if (op->atomic) (void)m_db->exec("SAVEPOINT op");
            op->status = op->fn();
            if (op->atomic) {
                if (!op->status) (void)m_db->exec("ROLLBACK TO op");
                (void)m_db->exec("RELEASE op");
            }
        }
        // The carried sink's events, those of this batch's acks among them,
        // go in the same commit; without them nothing commits.
        Status recorded = m_carried ? m_carried->append_buffered(*m_db) : Status{};
        // No cached statement outlives the transaction mid-result: one left
        // stepped would hold its read snapshot past the commit, and every
        // later write on this connection would be refused as "locked".
        for (auto& [sql, s] : m_stmts) s.reset();
        auto committed = recorded ? tx->commit() : recorded;
        if (m_carried) m_carried->transaction_ended(static_cast<bool>(committed));
        for (Op* op : batch) {
            if (!committed && op->status) op->status = committed;
            op->done = true;
        }
    }

    std::unique_ptr<Db> m_db;
    std::unique_ptr<Db> m_reader;
    SqliteOptions m_opt;
    events::InTransactionSink* m_carried = nullptr;
    std::map<std::string, Stmt> m_stmts;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<Op*> m_pending;
    bool m_leader = false;
    std::mutex m_read_mutex;
};

}  // namespace

Result<std::unique_ptr<Queue>> open_sqlite_queue(const std::string& path, const SqliteOptions& options)
{
    auto db = store::open_sqlite(path, true);
    if (!db) return db.error();
    if (auto st = store::migrate(**db); !st) return st.error();
    if (!options.durable) (void)(*db)->exec("PRAGMA synchronous=NORMAL");
    auto reader = store::open_sqlite(path, false);
    if (!reader) return reader.error();
    return std::unique_ptr<Queue>(new SqliteQueue(std::move(*db), std::move(*reader), options));
}

Result<std::unique_ptr<Queue>> open_sqlite_url(const std::string& url, const OpenOptions& options)
{
    std::string path = url.rfind("sqlite://", 0) == 0 ? url.substr(9) : url;
    if (path.empty()) return fail(Errc::usage, "queue URL '" + url + "' names no file", "use sqlite://PATH");
    SqliteOptions o;
    o.events = options.events;
    return open_sqlite_queue(path, o);
}

}  // namespace infra::plugins::queues
