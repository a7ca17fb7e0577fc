#include "core/store/db.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iterator>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sqlite3.h>

namespace infra::core::store {

namespace {

class SqliteDb;

class SqliteStmt final : public Stmt::Impl {
public:
    SqliteStmt(SqliteDb& db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
    ~SqliteStmt() override { sqlite3_finalize(m_stmt); }

    void bind_text(int index, std::string_view text) override
    {
        sqlite3_bind_text(m_stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    }
    void bind_int(int index, std::int64_t value) override { sqlite3_bind_int64(m_stmt, index, value); }
    void bind_real(int index, double value) override { sqlite3_bind_double(m_stmt, index, value); }
    void bind_null(int index) override { sqlite3_bind_null(m_stmt, index); }
    void bind_blob(int index, const void* data, std::size_t size) override
    {
        sqlite3_bind_blob64(m_stmt, index, data, size, SQLITE_TRANSIENT);
    }
    Result<bool> step() override;
    void reset() override
    {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }
    std::string text(int col) const override
    {
        auto* p = sqlite3_column_text(m_stmt, col);
        int n = sqlite3_column_bytes(m_stmt, col);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
    }
    std::int64_t integer(int col) const override { return sqlite3_column_int64(m_stmt, col); }
    double real(int col) const override { return sqlite3_column_double(m_stmt, col); }
    bool is_null(int col) const override { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }
    std::string_view blob(int col) const override
    {
        const void* p = sqlite3_column_blob(m_stmt, col);
        int n = sqlite3_column_bytes(m_stmt, col);
        return p ? std::string_view(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string_view();
    }

private:
    SqliteDb& m_db;
    sqlite3_stmt* m_stmt;
};

class SqliteDb final : public Db {
public:
    explicit SqliteDb(const std::string& path) : Db(Dialect::sqlite, path) {}
    ~SqliteDb() override
    {
        for (auto& [sql, stmt] : m_control) sqlite3_finalize(stmt);
        if (m_db) sqlite3_close_v2(m_db);
    }

    Status exec(std::string_view sql) override
    {
        if (sqlite3_stmt* stmt = control(sql)) {
            int rc = sqlite3_step(stmt);
            if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
                sqlite3_reset(stmt);
                return {};
            }
            std::string msg = sqlite3_errmsg(m_db);
            sqlite3_reset(stmt);
            return fail(Errc::unavailable, "database '" + path() + "': " + msg);
        }
        std::string s(sql);
        char* err = nullptr;
        if (sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            std::string msg = err ? err : "unknown error";
            sqlite3_free(err);
            return fail(Errc::unavailable, "database '" + path() + "': " + msg);
        }
        return {};
    }

    Result<Stmt> prepare(std::string_view sql) override
    {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(m_db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK)
            return error("cannot prepare statement");
        return Stmt(std::make_unique<SqliteStmt>(*this, stmt));
    }

    Error error(std::string_view what) const override
    {
        int code = sqlite3_errcode(m_db);
        Errc errc = (code & 0xff) == SQLITE_CONSTRAINT ? Errc::conflict : Errc::unavailable;
        return make_error(errc, "database '" + path() + "': " + std::string(what) + ": " + sqlite3_errmsg(m_db));
    }

    std::int64_t changes() const override { return sqlite3_changes64(m_db); }
    Status begin_write() override { return exec("BEGIN IMMEDIATE"); }
    Status begin_read() override { return exec("BEGIN"); }
    Status relax_sync() override { return exec("PRAGMA synchronous=NORMAL"); }

    sqlite3* m_db = nullptr;

private:
    // The statements that begin and end every transaction, prepared once:
    // parsing them again for each one costs more than running them.
    sqlite3_stmt* control(std::string_view sql)
    {
        static constexpr std::string_view k_control[] = {"BEGIN IMMEDIATE", "BEGIN", "COMMIT", "ROLLBACK"};
        auto known = std::find(std::begin(k_control), std::end(k_control), sql);
        if (known == std::end(k_control)) return nullptr;
        for (auto& [text, stmt] : m_control)
            if (text == sql) return stmt;
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(m_db, known->data(), static_cast<int>(known->size()), &stmt, nullptr) != SQLITE_OK)
            return nullptr;
        m_control.emplace_back(*known, stmt);
        return stmt;
    }

    std::vector<std::pair<std::string_view, sqlite3_stmt*>> m_control;
};

Result<bool> SqliteStmt::step()
{
    int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return m_db.error("cannot run statement");
}

/// Waits for another connection's write lock for up to about ten seconds.
/// SQLite's own busy timeout sleeps a whole millisecond at first and then
/// longer, which costs more than the transactions being waited for: a
/// commit takes tens of microseconds plus its fsync. This polls at 50 us,
/// then 200 us, then 1 ms.
int wait_for_lock(void*, int count)
{
    if (count >= 10000) return 0;
    std::this_thread::sleep_for(std::chrono::microseconds(count < 20 ? 50 : count < 100 ? 200 : 1000));
    return 1;
}

/// The value a pragma reports, such as the file's journal mode (reading the
/// schema first makes SQLite read the header, so a connection new to a WAL
/// file reports "wal").
Result<std::string> pragma_value(SqliteDb& db, std::string_view pragma)
{
    auto stmt = db.prepare(pragma);
    if (!stmt) return stmt.error();
    auto row = stmt->step();
    if (!row) return row.error();
    return *row ? stmt->text(0) : std::string();
}

/// Puts the file in WAL mode. WAL is a property of the file, so this is
/// usually only a read. Converting takes an exclusive lock for which SQLite
/// does not call the busy handler: when several processes create the file at
/// once, the losers retry for up to about ten seconds, and a winner's
/// conversion is as good as their own.
Status ensure_wal(SqliteDb& db)
{
    if (auto st = db.exec("SELECT count(*) FROM sqlite_schema"); !st) return st;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (int attempt = 0;; ++attempt) {
        auto mode = pragma_value(db, attempt == 0 ? "PRAGMA journal_mode" : "PRAGMA journal_mode=WAL");
        if (mode && *mode == "wal") return {};
        bool busy = !mode && (sqlite3_errcode(db.m_db) & 0xff) == SQLITE_BUSY;
        if (attempt > 0 && mode && !busy && *mode != "wal" && *mode != "delete")
            return fail(Errc::unavailable,
                        "database '" + db.path() + "' cannot use write-ahead logging (journal mode " + *mode + ")");
        if (!mode && !busy) return mode.error();
        if (std::chrono::steady_clock::now() > deadline) {
            if (!mode) return mode.error();
            return fail(Errc::unavailable, "database '" + db.path() + "': database is locked");
        }
        if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 10 ? 1 : 10));
    }
}

/// The page size of new files. A commit appends every page it changes to
/// the WAL whole, and a checkpoint syncs those bytes and then the database:
/// a ledger row or a queue claim changes two to five pages of a few hundred
/// bytes each, so 1 KiB pages write and sync about a third of the bytes that
/// SQLite's default 4 KiB pages do. Rows longer than a page continue on
/// overflow pages. A file keeps the page size it was made with.
constexpr int k_new_page_size = 1024;

/// Commits checkpoint the WAL once it holds this many bytes of pages,
/// whatever the file's page size: SQLite's 1,000 pages of 4 KiB.
constexpr std::int64_t k_checkpoint_wal_bytes = 1000 * 4096;

Status checkpoint_by_size(SqliteDb& db)
{
    auto size = pragma_value(db, "PRAGMA page_size");
    if (!size) return size.error();
    std::int64_t page = std::atoll(size->c_str());
    if (page <= 0) return fail(Errc::unavailable, "database '" + db.path() + "' reports no page size");
    return db.exec("PRAGMA wal_autocheckpoint=" + std::to_string(k_checkpoint_wal_bytes / page));
}

}  // namespace

Result<std::unique_ptr<Db>> open_sqlite(const std::string& path, bool create)
{
    auto db = std::make_unique<SqliteDb>(path);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path.c_str(), &db->m_db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db->m_db ? sqlite3_errmsg(db->m_db) : sqlite3_errstr(rc);
        return fail(rc == SQLITE_CANTOPEN ? Errc::not_found : Errc::unavailable,
                    "cannot open database '" + path + "': " + msg);
    }
    sqlite3_busy_handler(db->m_db, wait_for_lock, nullptr);
    sqlite3_extended_result_codes(db->m_db, 1);
    // Only an empty file takes the page size; an existing one keeps its own.
    if (create)
        if (auto st = db->exec("PRAGMA page_size=" + std::to_string(k_new_page_size)); !st) return st.error();
    if (auto st = ensure_wal(*db); !st) return st.error();
    if (auto st = checkpoint_by_size(*db); !st) return st.error();
    // Debian builds SQLite with secure_delete on, which zeroes every
    // overwritten cell; the state db holds no secrets (tokens are never
    // stored, only their hashes), so that cost buys nothing here.
    if (auto st = db->exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; "
                           "PRAGMA secure_delete=OFF;");
        !st)
        return st.error();
    return std::unique_ptr<Db>(std::move(db));
}

}  // namespace infra::core::store
