#include "core/creds/broker.hpp"
#include "core/creds/binding.hpp"
#include "core/json_access.hpp"

#include "core/crypto.hpp"
#include "core/events/trace.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <chrono>

namespace infra::core::creds {
namespace {

using timeutil::format_rfc3339_ms;

LedgerEntry entry_from(const store::Stmt& st)
{
    LedgerEntry e;
    e.id = st.text(0);
    e.provider = st.text(1);
    e.scope = st.text(2);
    e.task_id = st.text(3);
    e.trace_id = st.text(4);
    e.issued_ms = st.integer(5);
    e.expires_ms = st.integer(6);
    e.token_sha256 = st.text(7);
    e.revoked_ms = st.is_null(8) ? 0 : st.integer(8);
    e.reuses = st.integer(9);
    e.extra = json::parse(st.text(10), nullptr, false);
    if (e.extra.is_discarded()) e.extra = json::object();
    return e;
}

constexpr const char* k_columns =
    "id, provider, scope, task_id, trace_id, issued_at, expires_at, token_sha256, revoked_at, reuses, extra";

}  // namespace

std::int64_t wall_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

namespace {

/// What a credential and its ledger entry say alike.
template <typename T>
json identity_of(const T& c)
{
    return {{"id", c.id},
            {"provider", c.provider},
            {"scope", c.scope},
            {"taskId", c.task_id},
            {"traceId", c.trace_id},
            {"issuedAt", format_rfc3339_ms(c.issued_ms)},
            {"expiresAt", format_rfc3339_ms(c.expires_ms)}};
}

}  // namespace

json Credential::to_json(bool with_secret) const
{
    json j = identity_of(*this);
    j["ttlSeconds"] = (expires_ms - issued_ms) / 1000;
    j["reused"] = reused;
    if (!extra.empty()) j["extra"] = extra;
    if (with_secret) j["token"] = secret;
    return j;
}

json LedgerEntry::to_json(std::int64_t now) const
{
    std::string state = revoked_ms ? "revoked" : expires_ms <= now ? "expired" : "active";
    json j = identity_of(*this);
    j["state"] = state;
    j["tokenSha256"] = token_sha256;
    j["reuses"] = reuses;
    if (revoked_ms) j["revokedAt"] = format_rfc3339_ms(revoked_ms);
    if (!extra.empty()) j["extra"] = extra;
    return j;
}

// --- ledger -----------------------------------------------------------------

Status Ledger::relax_sync(store::Db& db)
{
    return db.relax_sync();
}

Status Ledger::record(const Credential& c, std::string_view token_sha256)
{
    if (!m_record) {
        auto st = m_db.prepare("INSERT INTO credentials (id, provider, scope, task_id, trace_id, issued_at, "
                               "expires_at, token_sha256, extra) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        if (!st) return fail(st.error());
        m_record.emplace(std::move(*st));
    }
    auto* st = &*m_record;
    st->reset();
    st->bind(1, c.id).bind(2, c.provider).bind(3, c.scope).bind(4, c.task_id).bind(5, c.trace_id);
    st->bind(6, c.issued_ms).bind(7, c.expires_ms).bind(8, token_sha256).bind(9, c.extra.dump());
    return st->run();
}

Result<std::optional<LedgerEntry>> Ledger::active(const std::string& provider, const std::string& scope,
                                                  const std::string& task_id, std::int64_t not_before_ms)
{
    if (!m_active) {
        auto st =
            m_db.prepare(std::string("SELECT ") + k_columns +
                         " FROM credentials WHERE provider = ? AND scope = ? AND task_id = ? AND revoked_at IS NULL"
                         " AND expires_at >= ? ORDER BY expires_at DESC LIMIT 1");
        if (!st) return fail(st.error());
        m_active.emplace(std::move(*st));
    }
    auto* st = &*m_active;
    st->reset();
    st->bind(1, provider).bind(2, scope).bind(3, task_id).bind(4, not_before_ms);
    auto row = st->step();
    if (!row) return fail(row.error());
    std::optional<LedgerEntry> found;
    if (*row) found = entry_from(*st);
    st->reset();  // ends the read, so that the connection's next write does not wait for it
    return found;
}

Result<LedgerEntry> Ledger::get(const std::string& id)
{
    if (id.empty()) return fail(Errc::usage, "no credential id given");
    auto st = m_db.prepare(std::string("SELECT ") + k_columns +
                           " FROM credentials WHERE id >= ? AND id < ? ORDER BY id LIMIT 2");
    if (!st) return fail(st.error());
    st->bind(1, id).bind(2, id + "\x7f");
    std::vector<LedgerEntry> found;
    while (true) {
        auto row = st->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        found.push_back(entry_from(*st));
    }
    if (found.empty()) return fail(Errc::not_found, "no credential " + text::quote(id) + " in the ledger");
    if (found.size() > 1 && found[0].id != id)
        return fail(Errc::usage, "credential id prefix " + text::quote(id) + " is ambiguous");
    return found[0];
}

Result<std::vector<LedgerEntry>> Ledger::list(const LedgerFilter& f, std::int64_t now_ms)
{
    std::string sql = std::string("SELECT ") + k_columns + " FROM credentials WHERE TRUE";
    if (!f.task_id.empty()) sql += " AND task_id = ?1";
    if (!f.provider.empty()) sql += " AND provider = ?2";
    if (!f.include_inactive) sql += " AND revoked_at IS NULL AND expires_at > ?3";
    sql += " ORDER BY id DESC LIMIT ?4";
    auto st = m_db.prepare(sql);
    if (!st) return fail(st.error());
    if (!f.task_id.empty()) st->bind(1, f.task_id);
    if (!f.provider.empty()) st->bind(2, f.provider);
    if (!f.include_inactive) st->bind(3, now_ms);
    st->bind(4, static_cast<std::int64_t>(f.limit));
    std::vector<LedgerEntry> out;
    while (true) {
        auto row = st->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        out.push_back(entry_from(*st));
    }
    return out;
}

Status Ledger::note_reuse(const std::string& id)
{
    auto st = m_db.prepare("UPDATE credentials SET reuses = reuses + 1 WHERE id = ?");
    if (!st) return fail(st.error());
    st->bind(1, id);
    return st->run();
}

Result<int> Ledger::revoke(const std::string& id, std::int64_t now_ms)
{
    auto e = get(id);
    if (!e) return fail(e.error());
    auto st = m_db.prepare("UPDATE credentials SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
    if (!st) return fail(st.error());
    st->bind(1, now_ms).bind(2, e->id);
    if (auto r = st->run(); !r) return fail(r.error());
    return static_cast<int>(m_db.changes());
}

Result<int> Ledger::revoke_matching(const std::string& scope_prefix, const std::string& task_id, std::int64_t now_ms)
{
    // substr() rather than LIKE: scopes hold '*' and '_' that LIKE would read as patterns.
    std::string sql = "UPDATE credentials SET revoked_at = ?1 WHERE revoked_at IS NULL AND expires_at > ?1"
                      " AND substr(scope, 1, length(?2)) = ?2";
    if (!task_id.empty()) sql += " AND task_id = ?3";
    auto st = m_db.prepare(sql);
    if (!st) return fail(st.error());
    st->bind(1, now_ms).bind(2, scope_prefix);
    if (!task_id.empty()) st->bind(3, task_id);
    if (auto r = st->run(); !r) return fail(r.error());
    return static_cast<int>(m_db.changes());
}

// --- providers --------------------------------------------------------------

Result<json> Provider::verify(std::string_view) const
{
    return fail(Errc::usage, "the " + name() + " provider's credentials are verified by their issuer, not here");
}

Result<std::unique_ptr<Provider>> Registry::open(const std::string& name, const Config& config, const Home& home) const
{
    auto it = m_factories.find(name);
    if (it == m_factories.end()) {
        std::string known;
        for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
        return fail(Errc::invalid_input, "unknown credential provider " + text::quote(name), "providers: " + known);
    }
    return it->second(config, home);
}

std::vector<std::string> Registry::names() const
{
    std::vector<std::string> out;
    for (const auto& [n, f] : m_factories) out.push_back(n);
    return out;
}

// --- broker -----------------------------------------------------------------

Result<Credential> Broker::mint(const MintRequest& asked)
{
    MintRequest req = asked;
    if (req.trace_id.empty()) req.trace_id = events::current_context().trace_id;
    if (const TaskLease* lease = current_lease()) {
        // A worker running a task: its mints are bound to that task and lease.
        auto scope = parse_scope(req.scope);
        if (!scope) return fail(scope.error());
        auto limit = authorize_in_lease(*lease, req.task_id, *scope, req.ttl, now_ms());
        if (!limit) {
            if (m_events)
                m_events->emit({"credential.refused",
                                req.task_id,
                                "",
                                {{"scope", req.scope},
                                 {"worker", lease->worker_id},
                                 {"leaseToken", lease->token},
                                 {"ttlSeconds", req.ttl.count()},
                                 {"reason", limit.error().message}}});
            return fail(limit.error());
        }
        req.ttl = limit->ttl;
        if (limit->not_after_ms && (!req.not_after_ms || limit->not_after_ms < req.not_after_ms))
            req.not_after_ms = limit->not_after_ms;
        if (req.worker_id.empty()) {
            req.worker_id = lease->worker_id;
            req.lease_token = lease->token;
        }
    }
    std::optional<events::Span> span;
    if (m_events)
        span.emplace(*m_events, "credential.mint", req.task_id,
                     json{{"credential.provider", m_provider.name()}, {"credential.scope", req.scope}});
    auto c = mint_once(req);
    if (!c) {
        if (span) span->fail(c.error().message);
        return c;
    }
    log::add_secret(c->secret, true);
    if (span) {
        span->set("credential.id", c->id);
        span->set("credential.scope", c->scope);
        span->set("credential.ttl_seconds", (c->expires_ms - c->issued_ms) / 1000);
        span->set("credential.expires", format_rfc3339_ms(c->expires_ms));
        span->set("credential.reused", c->reused);
    }
    return c;
}

Result<Credential> Broker::mint_once(const MintRequest& req)
{
    auto scope = parse_scope(req.scope);
    if (!scope) return fail(scope.error());
    if (req.ttl.count() < 1) return fail(Errc::usage, "a credential's lifetime must be at least one second");
    auto ttl = std::min(req.ttl, m_provider.max_ttl());
    std::string canonical = to_string(*scope);
    std::string key = canonical + "\n" + req.task_id;
    std::int64_t now = now_ms();
    std::int64_t expires = now + ttl.count() * 1000;
    if (req.not_after_ms) expires = std::min(expires, req.not_after_ms);
    if (expires <= now)
        return fail(Errc::denied, "cannot mint " + text::quote(canonical, 1100) + " for task " +
                                      text::quote(req.task_id) + ": the lease it is bound to has ended");
    std::int64_t want_until = now + (expires - now) / 2;  // reuse only with half the lifetime left
    // ... and only one that ends when this one must.
    auto fits = [&](std::int64_t until) { return !req.not_after_ms || until <= req.not_after_ms; };

    std::lock_guard lock(m_mutex);
    if (auto it = m_refusals.find(key); it != m_refusals.end()) {
        if (it->second.first > now) return fail(it->second.second);
        m_refusals.erase(it);
    }
    if (auto it = m_cache.find(key); it != m_cache.end()) {
        if (it->second.expires_ms >= want_until && fits(it->second.expires_ms)) {
            auto still = m_ledger.active(m_provider.name(), canonical, req.task_id, want_until);
            if (!still) return fail(still.error());
            if (*still && (*still)->id == it->second.id) {
                if (auto r = m_ledger.note_reuse(it->second.id); !r) return fail(r.error());
                Credential c = it->second;
                c.reused = true;
                return c;
            }
        }
        m_cache.erase(it);
    }
    auto earlier = m_ledger.active(m_provider.name(), canonical, req.task_id, want_until);
    if (!earlier) return fail(earlier.error());
    if (*earlier && fits((*earlier)->expires_ms)) {
        const LedgerEntry& e = **earlier;
        if (auto secret = m_provider.rederive(e); secret && crypto::sha256_hex(*secret) == e.token_sha256) {
            if (auto r = m_ledger.note_reuse(e.id); !r) return fail(r.error());
            Credential c;
            c.id = e.id;
            c.provider = e.provider;
            c.scope = e.scope;
            c.task_id = e.task_id;
            c.trace_id = e.trace_id;
            c.issued_ms = e.issued_ms;
            c.expires_ms = e.expires_ms;
            c.extra = e.extra;
            c.secret = std::move(*secret);
            c.reused = true;
            return c;
        }
    }

    Credential c;
    c.id = ids::new_ulid();
    c.provider = m_provider.name();
    c.scope = canonical;
    c.task_id = req.task_id;
    c.trace_id = req.trace_id;
    c.issued_ms = now;
    c.expires_ms = expires;
    c.worker_id = req.worker_id;
    c.lease_token = req.lease_token;
    if (auto r = m_provider.mint(*scope, c); !r) {
        if (r.error().code == Errc::denied) m_refusals[key] = {now + refusal_ttl.count() * 1000, r.error()};
        return fail(r.error());
    }
    if (c.secret.empty()) return fail(Errc::internal, "the " + c.provider + " provider returned an empty credential");
    if (auto r = m_ledger.record(c, crypto::sha256_hex(c.secret)); !r) return fail(r.error());
    m_cache[key] = c;
    return c;
}

Result<LedgerEntry> Broker::verify(std::string_view token, const std::optional<std::string>& wanted)
{
    auto claims = m_provider.verify(token);
    if (!claims) return fail(claims.error());
    auto entry = m_ledger.get(core::string_member(*claims, "jti"));
    if (!entry) return fail(Errc::denied, "the credential is not in this ledger");
    if (entry->token_sha256 != crypto::sha256_hex(token))
        return fail(Errc::denied, "the credential does not match ledger entry " + entry->id);
    std::int64_t now = now_ms();
    if (entry->revoked_ms)
        return fail(Errc::denied,
                    "credential " + entry->id + " was revoked at " + format_rfc3339_ms(entry->revoked_ms));
    if (entry->expires_ms <= now)
        return fail(Errc::denied, "credential " + entry->id + " expired at " + format_rfc3339_ms(entry->expires_ms));
    if (wanted) {
        auto want = parse_scope(*wanted);
        if (!want) return fail(want.error());
        auto granted = parse_scope(entry->scope);
        if (!granted) return fail(granted.error());
        if (!covers(*granted, *want))
            return fail(Errc::denied,
                        "credential " + entry->id + " is scoped to " + entry->scope + ", not " + to_string(*want));
    }
    return *entry;
}

}  // namespace infra::core::creds
