#include "core/store/migrations.hpp"

#include "core/events/audit.hpp"
#include "core/timeutil.hpp"

#include <string>

namespace infra::core::store {
namespace {

// The same in both dialects. A task's spans are found with its other events
// (events_by_task, keyed by task ids that are ULIDs: new rows append); only
// the spans of no task (an ingest, an intake, a webhook delivery: one a
// request, not one a task) are indexed by trace. An index of every span by
// its random trace id rewrote a leaf page for each task a commit recorded.
constexpr const char* k_spans_found_by_task = R"sql(
DROP INDEX events_by_trace;
CREATE INDEX untasked_spans_by_trace ON events (trace_id, seq) WHERE type = 'span' AND task_id IS NULL;
)sql";

}  // namespace

const std::vector<Migration>& migrations()
{
    // The credential ledger's columns: made by version 4, and again by
    // version 11, which keys the table by id.
    static const std::string k_credential_columns = R"sql(
    id            TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    scope         TEXT NOT NULL,
    task_id       TEXT NOT NULL DEFAULT '',
    trace_id      TEXT NOT NULL DEFAULT '',
    issued_at     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    token_sha256  TEXT NOT NULL,
    revoked_at    INTEGER,
    reuses        INTEGER NOT NULL DEFAULT 0,
    extra         TEXT NOT NULL DEFAULT '{}'
)sql";
    static const std::string k_ledger_and_pull_requests = R"sql(
-- Every credential minted: never the token, only its SHA-256.
CREATE TABLE credentials ()sql" + k_credential_columns + R"sql();
CREATE INDEX credentials_reuse ON credentials (provider, scope, task_id, expires_at) WHERE revoked_at IS NULL;
CREATE INDEX credentials_by_task ON credentials (task_id);
-- One pull request per forge, repository and branch (the branch is named
-- by the finding's fingerprint).
CREATE TABLE pull_requests (
    id           TEXT PRIMARY KEY,
    forge        TEXT NOT NULL,
    repository   TEXT NOT NULL,
    branch       TEXT NOT NULL,
    base         TEXT NOT NULL,
    number       INTEGER NOT NULL,
    url          TEXT NOT NULL,
    state        TEXT NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    head_commit  TEXT NOT NULL,
    task_id      TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL,
    diff         TEXT NOT NULL DEFAULT '',
    labels       TEXT NOT NULL DEFAULT '[]',
    updates      INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (forge, repository, branch)
);
CREATE TABLE pull_request_updates (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    pr_id        TEXT NOT NULL REFERENCES pull_requests (id) ON DELETE CASCADE,
    time         INTEGER NOT NULL,
    task_id      TEXT NOT NULL,
    head_commit  TEXT NOT NULL,
    comment      TEXT NOT NULL
);
)sql";
    static const std::string k_ledger_keyed = R"sql(
-- A mint writes one row: kept in the id's own b-tree (no rowid table
-- beside it) with one index, by task, that also finds a credential to
-- reuse (task, provider, scope, latest expiry), so a mint's commit
-- writes two pages instead of four.
CREATE TABLE credentials_keyed ()sql" + k_credential_columns +
                                              R"sql() WITHOUT ROWID;
INSERT INTO credentials_keyed SELECT id, provider, scope, task_id, trace_id, issued_at, expires_at, token_sha256,
    revoked_at, reuses, extra FROM credentials;
DROP TABLE credentials;
ALTER TABLE credentials_keyed RENAME TO credentials;
CREATE INDEX credentials_by_task ON credentials (task_id, provider, scope, expires_at);
)sql";
    static const std::vector<Migration> k_migrations = {
        {1, "tasks and events",
         R"sql(
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE tasks (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    dedupe_key  TEXT NOT NULL,
    priority    INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX tasks_by_dedupe_key ON tasks (dedupe_key);
CREATE TABLE events (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    time     TEXT NOT NULL,
    task_id  TEXT,
    type     TEXT NOT NULL,
    data     TEXT NOT NULL
);
CREATE INDEX events_by_task ON events (task_id, seq);
)sql"},
        {2, "policy decisions",
         R"sql(
CREATE TABLE decisions (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    time           TEXT NOT NULL,
    task_id        TEXT NOT NULL,
    task           TEXT NOT NULL,
    decision       TEXT NOT NULL,
    policy_digest  TEXT NOT NULL,
    source         TEXT NOT NULL
);
CREATE INDEX decisions_by_task ON decisions (task_id, seq);
)sql"},
        {3, "durable queue",
         R"sql(
CREATE TABLE queue (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    id                  TEXT NOT NULL UNIQUE,
    dedupe_key          TEXT NOT NULL,
    type                TEXT NOT NULL,
    agent               TEXT NOT NULL,
    state               TEXT NOT NULL,
    priority            INTEGER NOT NULL,
    available_at        INTEGER NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    max_attempts        INTEGER NOT NULL,
    fence               INTEGER NOT NULL DEFAULT 0,
    lease_owner         TEXT,
    lease_until         INTEGER,
    last_error          TEXT,
    required_approvals  TEXT NOT NULL DEFAULT '[]',
    approvals           TEXT NOT NULL DEFAULT '[]',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    finished_at         INTEGER
);
-- Claims walk this in order: priority, then first in, first out.
CREATE INDEX queue_ready ON queue (priority DESC, seq) WHERE state = 'queued';
CREATE INDEX queue_leases ON queue (lease_until) WHERE state = 'leased';
CREATE INDEX queue_finished ON queue (finished_at) WHERE finished_at IS NOT NULL;
-- One unfinished task per dedupe key.
CREATE UNIQUE INDEX queue_active_dedupe ON queue (dedupe_key)
    WHERE state IN ('pending-approval', 'queued', 'leased');
-- Payloads apart, so that claims and acks rewrite only small rows; stored
-- as CBOR (RFC 8949), which reads back much faster than JSON text.
CREATE TABLE queue_payload (
    id        TEXT PRIMARY KEY REFERENCES queue (id) ON DELETE CASCADE,
    task      BLOB NOT NULL,
    decision  BLOB NOT NULL,
    result    BLOB
);
)sql"},
        {4, "credential ledger and pull requests", k_ledger_and_pull_requests},
        {5, "webhook deliveries",
         R"sql(
-- Each webhook delivery once: a replayed delivery id answers with the
-- tasks the first one made.
CREATE TABLE webhook_deliveries (
    source       TEXT NOT NULL,
    delivery     TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    task_ids     TEXT NOT NULL,
    PRIMARY KEY (source, delivery)
);
)sql"},
        {6, "trace context and the audit chain",
         R"sql(
ALTER TABLE events ADD COLUMN trace_id TEXT;
ALTER TABLE events ADD COLUMN span_id TEXT;
ALTER TABLE events ADD COLUMN parent_id TEXT;
ALTER TABLE events ADD COLUMN prev_hash TEXT;
ALTER TABLE events ADD COLUMN hash TEXT;
-- Spans are found by trace (`trace TASK`); this index holds only them, and
-- its queries repeat the WHERE term. Metrics read new events by seq.
CREATE INDEX events_by_trace ON events (trace_id, seq) WHERE type = 'span';
)sql",
         &events::audit::adopt_unchained},
        {7, "plan approvals and applies",
         R"sql(
-- Approvals of a tier-4 task's saved plan, each naming the plan by its
-- SHA-256: a new plan of the same task needs new approvals.
CREATE TABLE plan_approvals (
    task_id      TEXT NOT NULL,
    plan_sha256  TEXT NOT NULL,
    grp          TEXT NOT NULL,
    approved_by  TEXT NOT NULL,
    approved_at  INTEGER NOT NULL,
    PRIMARY KEY (task_id, plan_sha256, grp)
);
-- Every apply of a saved plan: a plan is applied once, one apply at a time.
CREATE TABLE applies (
    id           TEXT PRIMARY KEY,
    task_id      TEXT NOT NULL,
    plan_sha256  TEXT NOT NULL,
    applied_by   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('running', 'applied', 'failed')),
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    report       TEXT
);
CREATE UNIQUE INDEX applies_once ON applies (task_id, plan_sha256) WHERE state IN ('running', 'applied');
)sql"},
        {8, "worker events applied once",
         R"sql(
-- The ids (in the queue's output stream) of worker events moved into the
-- audit log, kept until the stream has let go of them: a batch handed out
-- again after a crash is not recorded twice.
CREATE TABLE stream_applied (
    id          TEXT PRIMARY KEY,
    applied_at  INTEGER NOT NULL
);
)sql"},
        {9, "apply leases",
         R"sql(
-- An apply holds a lease its process renews: one whose holder is gone is
-- interrupted once the lease ends, and blocks its plan until an operator
-- has checked terraform's state and lock and recovered it.
CREATE TABLE applies_leased (
    id            TEXT PRIMARY KEY,
    task_id       TEXT NOT NULL,
    plan_sha256   TEXT NOT NULL,
    applied_by    TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('running', 'applied', 'failed', 'interrupted', 'recovered')),
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    report        TEXT,
    holder        TEXT,
    lease_until   INTEGER,
    recovered_by  TEXT
);
INSERT INTO applies_leased (id, task_id, plan_sha256, applied_by, state, started_at, finished_at, report)
    SELECT id, task_id, plan_sha256, applied_by, state, started_at, finished_at, report FROM applies;
DROP TABLE applies;
ALTER TABLE applies_leased RENAME TO applies;
CREATE UNIQUE INDEX applies_once ON applies (task_id, plan_sha256) WHERE state IN ('running', 'applied', 'interrupted');
)sql"},
        {10, "following bot pull requests",
         R"sql(
-- Why a pull request is in its state (merged, declined, obsolete, left
-- alone), and the findings it carries ([{key, content, rule}]).
ALTER TABLE pull_requests ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE pull_requests ADD COLUMN findings TEXT NOT NULL DEFAULT '[]';
-- Findings whose pull request was closed without merging: not proposed
-- again while what they say (content) is the same, or until `pr reopen`.
CREATE TABLE declined_findings (
    repository   TEXT NOT NULL,
    finding_key  TEXT NOT NULL,
    content      TEXT NOT NULL,
    pr_id        TEXT NOT NULL,
    declined_at  INTEGER NOT NULL,
    PRIMARY KEY (repository, finding_key)
);
-- The findings of the latest report of each repository: a bot pull
-- request none of whose findings is in it was fixed by someone else.
CREATE TABLE report_findings (
    repository   TEXT NOT NULL,
    finding_key  TEXT NOT NULL,
    PRIMARY KEY (repository, finding_key)
);
CREATE TABLE reports (
    repository   TEXT PRIMARY KEY,
    received_at  INTEGER NOT NULL
);
)sql"},
        {11, "credential ledger keyed by id", k_ledger_keyed},
        {12, "queue: active tasks named by comparisons",
         R"sql(
-- SQLite checks a predicate's IN list of three or more through a temporary
-- table, built twice by every claim and ack (the unique check and the index
-- update); comparisons joined by OR need none.
DROP INDEX queue_active_dedupe;
CREATE UNIQUE INDEX queue_active_dedupe ON queue (dedupe_key)
    WHERE state = 'pending-approval' OR state = 'queued' OR state = 'leased';
)sql"},
        {13, "spans found by task", k_spans_found_by_task},
    };
    return k_migrations;
}

namespace {

// The same schema on PostgreSQL, version for version: identifiers and the
// columns that are matched by prefix or listed in order compare bytewise
// (COLLATE "C"), as SQLite's do; times in milliseconds are BIGINT. The
// queue of a PostgreSQL state store is the PostgreSQL queue (its infra_queue
// tables), so version 3 has nothing to create here.
const std::vector<Migration>& postgres_migrations()
{
    static const std::vector<Migration> k_migrations = {
        {1, "tasks and events",
         R"sql(
CREATE TABLE meta (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE tasks (
    id          TEXT COLLATE "C" PRIMARY KEY,
    type        TEXT NOT NULL,
    dedupe_key  TEXT COLLATE "C" NOT NULL,
    priority    INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX tasks_by_dedupe_key ON tasks (dedupe_key);
CREATE TABLE events (
    seq      BIGINT PRIMARY KEY,
    time     TEXT NOT NULL,
    task_id  TEXT COLLATE "C",
    type     TEXT COLLATE "C" NOT NULL,
    data     TEXT NOT NULL
);
CREATE INDEX events_by_task ON events (task_id, seq);
)sql"},
        {2, "policy decisions",
         R"sql(
CREATE TABLE decisions (
    seq            BIGSERIAL PRIMARY KEY,
    time           TEXT NOT NULL,
    task_id        TEXT COLLATE "C" NOT NULL,
    task           TEXT NOT NULL,
    decision       TEXT NOT NULL,
    policy_digest  TEXT NOT NULL,
    source         TEXT NOT NULL
);
CREATE INDEX decisions_by_task ON decisions (task_id, seq);
)sql"},
        {3, "durable queue", "SELECT 1"},
        {4, "credential ledger and pull requests",
         R"sql(
CREATE TABLE credentials (
    id            TEXT COLLATE "C" PRIMARY KEY,
    provider      TEXT COLLATE "C" NOT NULL,
    scope         TEXT COLLATE "C" NOT NULL,
    task_id       TEXT COLLATE "C" NOT NULL DEFAULT '',
    trace_id      TEXT NOT NULL DEFAULT '',
    issued_at     BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    token_sha256  TEXT NOT NULL,
    revoked_at    BIGINT,
    reuses        BIGINT NOT NULL DEFAULT 0,
    extra         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX credentials_reuse ON credentials (provider, scope, task_id, expires_at) WHERE revoked_at IS NULL;
CREATE INDEX credentials_by_task ON credentials (task_id);
CREATE TABLE pull_requests (
    id           TEXT COLLATE "C" PRIMARY KEY,
    forge        TEXT COLLATE "C" NOT NULL,
    repository   TEXT COLLATE "C" NOT NULL,
    branch       TEXT COLLATE "C" NOT NULL,
    base         TEXT NOT NULL,
    number       BIGINT NOT NULL,
    url          TEXT NOT NULL,
    state        TEXT COLLATE "C" NOT NULL,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    head_commit  TEXT NOT NULL,
    task_id      TEXT COLLATE "C" NOT NULL,
    dedupe_key   TEXT COLLATE "C" NOT NULL,
    diff         TEXT NOT NULL DEFAULT '',
    labels       TEXT NOT NULL DEFAULT '[]',
    updates      BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (forge, repository, branch)
);
CREATE TABLE pull_request_updates (
    seq          BIGSERIAL PRIMARY KEY,
    pr_id        TEXT COLLATE "C" NOT NULL REFERENCES pull_requests (id) ON DELETE CASCADE,
    time         BIGINT NOT NULL,
    task_id      TEXT COLLATE "C" NOT NULL,
    head_commit  TEXT NOT NULL,
    comment      TEXT NOT NULL
);
)sql"},
        {5, "webhook deliveries",
         R"sql(
CREATE TABLE webhook_deliveries (
    source       TEXT COLLATE "C" NOT NULL,
    delivery     TEXT COLLATE "C" NOT NULL,
    received_at  TEXT COLLATE "C" NOT NULL,
    task_ids     TEXT NOT NULL,
    PRIMARY KEY (source, delivery)
);
)sql"},
        {6, "trace context and the audit chain",
         R"sql(
ALTER TABLE events ADD COLUMN trace_id TEXT COLLATE "C";
ALTER TABLE events ADD COLUMN span_id TEXT;
ALTER TABLE events ADD COLUMN parent_id TEXT;
ALTER TABLE events ADD COLUMN prev_hash TEXT;
ALTER TABLE events ADD COLUMN hash TEXT;
CREATE INDEX events_by_trace ON events (trace_id, seq) WHERE type = 'span';
)sql",
         &events::audit::adopt_unchained},
        {7, "plan approvals and applies",
         R"sql(
CREATE TABLE plan_approvals (
    task_id      TEXT COLLATE "C" NOT NULL,
    plan_sha256  TEXT COLLATE "C" NOT NULL,
    grp          TEXT COLLATE "C" NOT NULL,
    approved_by  TEXT NOT NULL,
    approved_at  BIGINT NOT NULL,
    PRIMARY KEY (task_id, plan_sha256, grp)
);
CREATE TABLE applies (
    id           TEXT COLLATE "C" PRIMARY KEY,
    task_id      TEXT COLLATE "C" NOT NULL,
    plan_sha256  TEXT COLLATE "C" NOT NULL,
    applied_by   TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('running', 'applied', 'failed')),
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT,
    report       TEXT
);
CREATE UNIQUE INDEX applies_once ON applies (task_id, plan_sha256) WHERE state IN ('running', 'applied');
)sql"},
        {8, "worker events applied once",
         R"sql(
CREATE TABLE stream_applied (
    id          TEXT COLLATE "C" PRIMARY KEY,
    applied_at  BIGINT NOT NULL
);
)sql"},
        {9, "apply leases",
         R"sql(
ALTER TABLE applies DROP CONSTRAINT applies_state_check;
ALTER TABLE applies ADD CONSTRAINT applies_state_check
    CHECK (state IN ('running', 'applied', 'failed', 'interrupted', 'recovered'));
ALTER TABLE applies ADD COLUMN holder TEXT;
ALTER TABLE applies ADD COLUMN lease_until BIGINT;
ALTER TABLE applies ADD COLUMN recovered_by TEXT;
DROP INDEX applies_once;
CREATE UNIQUE INDEX applies_once ON applies (task_id, plan_sha256) WHERE state IN ('running', 'applied', 'interrupted');
)sql"},
        {10, "following bot pull requests",
         R"sql(
ALTER TABLE pull_requests ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE pull_requests ADD COLUMN findings TEXT NOT NULL DEFAULT '[]';
CREATE TABLE declined_findings (
    repository   TEXT NOT NULL,
    finding_key  TEXT COLLATE "C" NOT NULL,
    content      TEXT NOT NULL,
    pr_id        TEXT NOT NULL,
    declined_at  BIGINT NOT NULL,
    PRIMARY KEY (repository, finding_key)
);
CREATE TABLE report_findings (
    repository   TEXT NOT NULL,
    finding_key  TEXT NOT NULL,
    PRIMARY KEY (repository, finding_key)
);
CREATE TABLE reports (
    repository   TEXT PRIMARY KEY,
    received_at  BIGINT NOT NULL
);
)sql"},
        {11, "credential ledger keyed by id",
         R"sql(
-- One index by task that also finds a credential to reuse (task,
-- provider, scope, latest expiry), in place of two.
DROP INDEX credentials_reuse;
DROP INDEX credentials_by_task;
CREATE INDEX credentials_by_task ON credentials (task_id, provider, scope, expires_at);
)sql"},
        {12, "queue: active tasks named by comparisons", "SELECT 1"},
        {13, "spans found by task", k_spans_found_by_task},
    };
    return k_migrations;
}

/// Holds PostgreSQL's session-level advisory lock on the store's writers
/// while migrations run, so that processes starting at once take turns
/// (creating schema_migrations included). SQLite needs none: each
/// migration's BEGIN IMMEDIATE is the lock.
class MigrationLock {
public:
    static Result<MigrationLock> take(Db& db)
    {
        if (db.dialect() != Dialect::postgres) return MigrationLock(nullptr);
        if (auto st = db.exec("SELECT pg_advisory_lock(7596835243158024564)"); !st) return st.error();
        return MigrationLock(&db);
    }
    MigrationLock(MigrationLock&& o) noexcept : m_db(o.m_db) { o.m_db = nullptr; }
    ~MigrationLock()
    {
        if (m_db) (void)m_db->exec("SELECT pg_advisory_unlock(7596835243158024564)");
    }

private:
    explicit MigrationLock(Db* db) : m_db(db) {}
    Db* m_db;
};

}  // namespace

const std::vector<Migration>& migrations(Dialect dialect)
{
    return dialect == Dialect::postgres ? postgres_migrations() : migrations();
}

Result<int> schema_version(Db& db)
{
    if (auto st = db.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                          " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        !st)
        return st.error();
    auto stmt = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!stmt) return stmt.error();
    auto row = stmt->step();
    if (!row) return row.error();
    return static_cast<int>(stmt->integer(0));
}

Status migrate(Db& db)
{
    auto lock = MigrationLock::take(db);
    if (!lock) return lock.error();
    auto current = schema_version(db);
    if (!current) return current.error();
    const auto& all = migrations(db.dialect());
    int latest = all.empty() ? 0 : all.back().version;
    if (*current > latest)
        return fail(Errc::conflict,
                    "database '" + db.path() + "' has schema version " + std::to_string(*current) +
                        ", newer than this infra-agent knows (" + std::to_string(latest) + ")",
                    "upgrade infra-agent, or use another state home");
    for (const auto& m : all) {
        if (m.version <= *current) continue;
        auto tx = Transaction::begin(db);
        if (!tx) return tx.error();
        // Another process may have migrated while we waited for the lock.
        auto again = schema_version(db);
        if (!again) return again.error();
        if (*again >= m.version) continue;
        if (auto st = db.exec(m.sql); !st) return st;
        if (m.after)
            if (auto st = m.after(db); !st) return st;
        auto ins = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
        if (!ins) return ins.error();
        ins->bind(1, m.version).bind(2, m.name).bind(3, timeutil::now_rfc3339());
        if (auto st = ins->run(); !st) return st;
        if (auto st = tx->commit(); !st) return st;
    }
    return {};
}

}  // namespace infra::core::store
