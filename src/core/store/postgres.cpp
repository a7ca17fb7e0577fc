// The state store on PostgreSQL: statements written for both engines are
// renumbered for libpq, run with text parameters, and read back from their
// text results.

#include "core/store/db.hpp"
#include "core/store/pg.hpp"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

namespace infra::core::store {

namespace {

/// The advisory lock that writers of one state store take turns on (its
/// value spells "infra-st").
constexpr const char* k_write_lock = "SELECT pg_advisory_xact_lock(7596835243158024564)";

class PgDb;

/// Rows a read in a read transaction fetches at a time (see PgStmt::step).
constexpr int k_fetch = 1000;

class PgStmt final : public Stmt::Impl {
public:
    PgStmt(PgDb& db, pg::Placeholders sql) : m_db(db), m_sql(std::move(sql)) {}
    ~PgStmt() override { close(); }

    void bind_text(int index, std::string_view text) override { slot(index) = pg::Param(text); }
    void bind_int(int index, std::int64_t value) override { slot(index) = pg::Param(value); }
    void bind_real(int index, double value) override
    {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", value);
        slot(index) = pg::Param(std::string_view(buf));
    }
    void bind_null(int index) override { slot(index) = pg::Param(); }
    void bind_blob(int index, const void* data, std::size_t size) override
    {
        slot(index) = pg::Param::bytes(data, size);
    }

    Result<bool> step() override;
    void reset() override
    {
        close();
        m_rows.reset();
        m_row = -1;
        m_bound.clear();
    }

    std::string text(int col) const override { return m_rows->text(m_row, col); }
    std::int64_t integer(int col) const override
    {
        std::string v = m_rows->text(m_row, col);
        // Booleans read as SQLite's 0 and 1.
        if (v == "t") return 1;
        if (v == "f") return 0;
        return std::strtoll(v.c_str(), nullptr, 10);
    }
    double real(int col) const override { return std::strtod(m_rows->text(m_row, col).c_str(), nullptr); }
    bool is_null(int col) const override { return m_rows->is_null(m_row, col); }
    std::string_view blob(int col) const override
    {
        m_blob = m_rows->is_bytea(col) ? m_rows->bytes(m_row, col) : m_rows->text(m_row, col);
        return m_blob;
    }

private:
    Result<bool> fetch();
    void close();

    pg::Param& slot(int index)
    {
        if (index < 1) index = 1;
        if (m_bound.size() < static_cast<std::size_t>(index)) m_bound.resize(static_cast<std::size_t>(index));
        return m_bound[static_cast<std::size_t>(index) - 1];
    }

    PgDb& m_db;
    pg::Placeholders m_sql;
    std::vector<pg::Param> m_bound;  // by the statement's own 1-based index
    std::optional<pg::Rows> m_rows;
    int m_row = -1;
    std::string m_cursor;  // the server-side cursor a read streams from, if any
    mutable std::string m_blob;
};

/// True for statements that change nothing, and so may run again.
bool read_only(std::string_view sql)
{
    auto at = sql.find_first_not_of(" \t\n");
    return at != std::string_view::npos && (sql.substr(at, 6) == "SELECT" || sql.substr(at, 6) == "select");
}

class PgDb final : public Db {
public:
    PgDb(std::string url, std::unique_ptr<pg::Conn> conn)
        : Db(Dialect::postgres, conn->where()), m_url(std::move(url)), m_conn(std::move(conn))
    {
    }

    Status exec(std::string_view sql) override
    {
        if (sql == "COMMIT" || sql == "ROLLBACK") m_in_transaction = m_reading = false;
        auto st = again(sql == "BEGIN" || read_only(sql), [&] { return m_conn->exec(sql); });
        if (!st) m_last_error = st.error().message;
        return st;
    }

    Result<Stmt> prepare(std::string_view sql) override
    {
        return Stmt(std::make_unique<PgStmt>(*this, pg::placeholders(sql)));
    }

    Error error(std::string_view what) const override
    {
        return make_error(Errc::unavailable, "'" + path() + "': " + std::string(what) + ": " + m_last_error);
    }

    std::int64_t changes() const override { return m_changes; }
    Status begin_write() override
    {
        if (auto st = exec("BEGIN"); !st) return st;
        m_in_transaction = true;
        if (auto st = exec(k_write_lock); !st) {
            (void)exec("ROLLBACK");
            return st;
        }
        return {};
    }
    Status begin_read() override
    {
        auto st = exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
        if (st) m_in_transaction = m_reading = true;
        return st;
    }
    Status relax_sync() override { return {}; }

    bool in_transaction() const { return m_in_transaction; }
    /// In a read transaction (begin_read), where reads stream.
    bool reading() const { return m_reading; }
    std::string next_cursor() { return "infra_cursor_" + std::to_string(++m_cursors); }

    /// Runs a statement; prepare: false for text used once (a cursor's).
    Result<pg::Rows> run(const pg::Placeholders& sql, const std::vector<pg::Param>& bound, bool prepare = true)
    {
        std::vector<pg::Param> params;
        params.reserve(sql.order.size());
        for (int index : sql.order)
            params.push_back(static_cast<std::size_t>(index) <= bound.size()
                                 ? bound[static_cast<std::size_t>(index) - 1]
                                 : pg::Param());
        auto rows = again(read_only(sql.text),
                          [&] { return m_conn->query(sql.text, params, pg::Conn::Results::text, prepare); });
        if (!rows) {
            m_last_error = rows.error().message;
            return rows.error();
        }
        m_changes = rows->affected();
        return rows;
    }

private:
    /// Runs a statement; when the server has closed the connection outside
    /// a transaction (a restart, a failover), connects again, so that a
    /// long-running serve outlives its database's restarts, and runs it
    /// once more when that is safe: a read, or the start of a transaction.
    /// A write is not sent twice (the server may have done it before the
    /// connection went): its error stands, and the next call goes through.
    template <class Run>
    auto again(bool repeatable, Run run) -> decltype(run())
    {
        auto r = run();
        if (r || m_in_transaction || !m_conn->broken()) return r;
        auto fresh = pg::Conn::open(m_url);
        if (!fresh) return r;
        m_conn = std::move(*fresh);
        if (repeatable) return run();
        return r;
    }

    std::string m_url;
    std::unique_ptr<pg::Conn> m_conn;
    std::string m_last_error;
    std::int64_t m_changes = 0;
    bool m_in_transaction = false;
    bool m_reading = false;
    std::int64_t m_cursors = 0;
};

// A read inside a read transaction (audit verify's walk of the whole log,
// say) streams through a server-side cursor, k_fetch rows at a time, so that its
// memory does not grow with the table; other statements may run on the
// connection between its rows. Elsewhere a result is read whole.
Result<bool> PgStmt::step()
{
    if (!m_rows) {
        if (m_db.reading() && read_only(m_sql.text)) {
            std::string name = m_db.next_cursor();
            auto declared =
                m_db.run({"DECLARE " + name + " NO SCROLL CURSOR FOR " + m_sql.text, m_sql.order}, m_bound, false);
            if (!declared) return declared.error();
            m_cursor = std::move(name);
            return fetch();
        }
        auto rows = m_db.run(m_sql, m_bound);
        if (!rows) return rows.error();
        m_rows.emplace(std::move(*rows));
    }
    if (++m_row < m_rows->size()) return true;
    if (m_cursor.empty() || m_rows->size() < k_fetch) return false;
    return fetch();
}

Result<bool> PgStmt::fetch()
{
    auto rows = m_db.run({"FETCH " + std::to_string(k_fetch) + " FROM " + m_cursor, {}}, {});
    if (!rows) return rows.error();
    m_rows.emplace(std::move(*rows));
    m_row = 0;
    return m_rows->size() > 0;
}

void PgStmt::close()
{
    // A cursor ends with its transaction; one closed earlier frees its rows now.
    if (!m_cursor.empty() && m_db.in_transaction()) (void)m_db.exec("CLOSE " + m_cursor);
    m_cursor.clear();
}

}  // namespace

Result<std::unique_ptr<Db>> open_postgres(const std::string& url)
{
    auto conn = pg::Conn::open(url);
    if (!conn) return conn.error();
    return std::unique_ptr<Db>(std::make_unique<PgDb>(url, std::move(*conn)));
}

}  // namespace infra::core::store
