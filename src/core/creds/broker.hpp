#pragma once
// The credential broker: mints short-lived credentials narrowed to one
// task's scope, just in time, through a provider (local, github-app,
// aws-sts, env), and records every mint in a ledger in the state db: id,
// task, trace, scope, lifetime, provider and a SHA-256 of the token, never
// the token itself. Agents never see what it mints; the worker's change
// step hands credentials to git and forges through callbacks.

#include "core/creds/scope.hpp"
#include "core/events/event.hpp"
#include "core/result.hpp"
#include "core/store/db.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace infra::core {
class Config;
struct Home;
}  // namespace infra::core

namespace infra::core::creds {

using nlohmann::json;

/// Milliseconds since the epoch.
std::int64_t wall_ms();

struct MintRequest {
    std::string scope;              ///< scope text; parsed and made canonical by the broker
    std::chrono::seconds ttl{900};  ///< asked-for lifetime; providers may cap it
    std::string task_id;
    std::string trace_id;
    /// The lease the task is held under: the worker that claimed it and the
    /// claim's fencing token (what serve's broker API checks); filled from
    /// the thread's LeaseScope when empty.
    std::string worker_id = {};
    std::int64_t lease_token = 0;
    /// When non-zero, the credential expires no later (a lease's end).
    std::int64_t not_after_ms = 0;
};

struct Credential {
    std::string id;  ///< ledger id
    std::string provider;
    std::string scope;  ///< canonical
    std::string task_id;
    std::string trace_id;
    std::int64_t issued_ms = 0;
    std::int64_t expires_ms = 0;
    std::string secret;           ///< the token itself: never logged, never in events or prompts
    json extra = json::object();  ///< facts that are not secret (an AWS access key id, granted permissions)
    bool reused = false;          ///< handed out again from an earlier mint
    std::string worker_id;        ///< the lease it was asked under (not recorded; see MintRequest)
    std::int64_t lease_token = 0;

    /// The ledger's view; the secret only when with_secret.
    json to_json(bool with_secret) const;
};

/// One row of the ledger.
struct LedgerEntry {
    std::string id, provider, scope, task_id, trace_id;
    std::int64_t issued_ms = 0, expires_ms = 0, revoked_ms = 0;
    std::string token_sha256;
    std::int64_t reuses = 0;
    json extra = json::object();

    json to_json(std::int64_t now_ms) const;
};

struct LedgerFilter {
    std::string task_id;
    std::string provider;
    bool include_inactive = false;  ///< expired and revoked ones too
    std::size_t limit = 100;
};

/// The credential ledger (table `credentials` of the state db).
class Ledger {
public:
    explicit Ledger(store::Db& db) : m_db(db) {}

    /// Commits on db reach the WAL without an fsync each (synchronous=NORMAL):
    /// a process crash loses nothing, and an OS crash can lose only the last
    /// rows, whose local tokens then fail verification (verify needs the row),
    /// while github-app and aws-sts mints stay in GitHub's and CloudTrail's
    /// own logs. For connections used by the ledger alone.
    static Status relax_sync(store::Db& db);

    Status record(const Credential& c, std::string_view token_sha256);
    /// The newest unrevoked credential for provider, scope and task that is
    /// still valid at least until not_before_ms.
    Result<std::optional<LedgerEntry>> active(const std::string& provider, const std::string& scope,
                                              const std::string& task_id, std::int64_t not_before_ms);
    /// By id or unique id prefix.
    Result<LedgerEntry> get(const std::string& id);
    Result<std::vector<LedgerEntry>> list(const LedgerFilter& f, std::int64_t now_ms);
    Status note_reuse(const std::string& id);
    /// Revokes one credential; returns how many were revoked (0 when it already was).
    Result<int> revoke(const std::string& id, std::int64_t now_ms);
    /// Revokes every unrevoked credential whose scope starts with prefix
    /// (and, when task_id is given, that belongs to that task).
    Result<int> revoke_matching(const std::string& scope_prefix, const std::string& task_id, std::int64_t now_ms);

private:
    store::Db& m_db;
    std::optional<store::Stmt> m_record, m_active;  ///< prepared once: a mint runs both
};

/// A source of credentials.
class Provider {
public:
    virtual ~Provider() = default;
    virtual std::string name() const = 0;
    /// Longest lifetime this provider grants.
    virtual std::chrono::seconds max_ttl() const { return std::chrono::hours(1); }
    /// Whether it mints the tokens of api (github, gitlab) itself, each
    /// scoped to one repository (a GitHub App does for github).
    virtual bool mints_for(const std::string& api) const { return false; }
    /// Mints a credential for scope; c arrives with id, scope, task, trace,
    /// issued and asked-for expiry filled in; the provider sets secret (and
    /// may shorten expires_ms). A refusal by the upstream is Errc::denied.
    virtual Status mint(const Scope& scope, Credential& c) = 0;
    /// The secret of an earlier mint, when the provider can produce the same
    /// one again (the local provider's signatures are deterministic); lets a
    /// repeat request from another process reuse a credential.
    virtual std::optional<std::string> rederive(const LedgerEntry& e) const { return std::nullopt; }
    /// Checks a token this provider minted and returns its claims (id in
    /// "jti", scope in "scope", expiry in "exp").
    virtual Result<json> verify(std::string_view token) const;
    /// The name of the worker token a minting server knows this process by
    /// (the broker provider's: serve mints only for leases whose owner id
    /// is NAME or begins with NAME/); empty for a provider that mints itself.
    virtual Result<std::string> worker_name() const { return std::string(); }
};

/// Creates a provider from the configuration and the state home.
using ProviderFactory = std::function<Result<std::unique_ptr<Provider>>(const Config&, const Home&)>;

/// Providers by name (local, github-app, aws-sts, env).
class Registry {
public:
    void add(std::string name, ProviderFactory make) { m_factories[std::move(name)] = std::move(make); }
    /// Opens the provider called name; an unknown name lists the known ones.
    Result<std::unique_ptr<Provider>> open(const std::string& name, const Config& config, const Home& home) const;
    std::vector<std::string> names() const;

private:
    std::map<std::string, ProviderFactory> m_factories;
};

/// Mints through a provider and keeps the ledger.
class Broker {
public:
    Broker(Ledger& ledger, Provider& provider) : m_ledger(ledger), m_provider(provider) {}

    /// Mints, or hands back a credential minted earlier for the same scope
    /// and task that still has at least half the asked-for lifetime left.
    /// An upstream refusal is remembered for refusal_ttl, so a loop of
    /// retries does not hammer the provider. On a thread running a task
    /// under a lease (LeaseScope), only that task's scopes are minted
    /// (authorize_in_lease), expiring by the lease's end; a refusal is
    /// Errc::denied and recorded as a credential.refused event.
    Result<Credential> mint(const MintRequest& req);

    /// Where each mint is recorded as a span (id, scope, lifetime; never the
    /// secret). Minted secrets are also registered for redaction.
    void set_events(events::EventSink* sink) { m_events = sink; }

    /// Verifies a token: signature and expiry by the provider, then not
    /// revoked in the ledger, and, when wanted is given, that its scope
    /// covers wanted. Returns the ledger entry.
    Result<LedgerEntry> verify(std::string_view token, const std::optional<std::string>& wanted);

    /// Clock and refusal memory, replaceable in tests.
    std::function<std::int64_t()> now_ms = wall_ms;
    std::chrono::seconds refusal_ttl{30};

private:
    Result<Credential> mint_once(const MintRequest& req);

    Ledger& m_ledger;
    Provider& m_provider;
    events::EventSink* m_events = nullptr;
    std::mutex m_mutex;
    std::map<std::string, Credential> m_cache;  ///< by scope + task: secrets that cannot be derived again
    std::map<std::string, std::pair<std::int64_t, Error>> m_refusals;
};

}  // namespace infra::core::creds
