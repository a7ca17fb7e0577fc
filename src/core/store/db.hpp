#pragma once
// The state store's connection: SQLite (a file in the state home, the
// default) or PostgreSQL (`state.url: postgres://...`), behind one small
// interface of prepared statements and transactions. Statements are written
// once, in the SQL both engines read, with `?` or `?N` placeholders; where
// the engines differ (JSON functions, schema DDL), callers ask dialect().
// Failures are Errors that name the database (never a password).

#include "core/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace infra::core::store {

enum class Dialect { sqlite, postgres };

/// True when a state location is a PostgreSQL URL (postgres:// or
/// postgresql://) rather than the path of a SQLite file.
bool is_postgres_url(std::string_view location);

/// A prepared statement; bind with 1-based indexes, step, read columns.
class Stmt {
public:
    /// What an engine provides; Stmt forwards to it.
    class Impl {
    public:
        virtual ~Impl() = default;
        virtual void bind_text(int index, std::string_view text) = 0;
        virtual void bind_int(int index, std::int64_t value) = 0;
        virtual void bind_real(int index, double value) = 0;
        virtual void bind_null(int index) = 0;
        virtual void bind_blob(int index, const void* data, std::size_t size) = 0;
        virtual Result<bool> step() = 0;
        virtual void reset() = 0;
        virtual std::string text(int col) const = 0;
        virtual std::int64_t integer(int col) const = 0;
        virtual double real(int col) const = 0;
        virtual bool is_null(int col) const = 0;
        virtual std::string_view blob(int col) const = 0;
    };

    explicit Stmt(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
    Stmt(Stmt&& other) noexcept = default;
    Stmt& operator=(Stmt&&) = delete;

    Stmt& bind(int index, std::string_view text)
    {
        m->bind_text(index, text);
        return *this;
    }
    Stmt& bind(int index, std::int64_t value)
    {
        m->bind_int(index, value);
        return *this;
    }
    Stmt& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Stmt& bind(int index, double value)
    {
        m->bind_real(index, value);
        return *this;
    }
    Stmt& bind_null(int index)
    {
        m->bind_null(index);
        return *this;
    }
    /// Binds bytes as a BLOB (a bytea on PostgreSQL).
    Stmt& bind_blob(int index, const void* data, std::size_t size)
    {
        m->bind_blob(index, data, size);
        return *this;
    }

    /// Runs one step: true when a row is available, false when done.
    Result<bool> step() { return m->step(); }
    /// Runs to completion, ignoring rows.
    Status run();
    /// Resets for another execution; bindings are cleared.
    void reset() { m->reset(); }

    std::string text(int col) const { return m->text(col); }
    std::int64_t integer(int col) const { return m->integer(col); }
    double real(int col) const { return m->real(col); }
    bool is_null(int col) const { return m->is_null(col); }
    /// The bytes of a BLOB (or TEXT) column, valid until the next step or reset.
    std::string_view blob(int col) const { return m->blob(col); }

private:
    std::unique_ptr<Impl> m;
};

/// An open database connection (used by one thread at a time).
class Db {
public:
    /// Opens the state store at location: a postgres:// URL, or the path of
    /// a SQLite file, opened (created when asked) in WAL mode with foreign
    /// keys on and a busy timeout so that several processes can share it.
    static Result<std::unique_ptr<Db>> open(const std::string& location, bool create);

    virtual ~Db() = default;
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    /// Runs one or more statements without parameters or results.
    virtual Status exec(std::string_view sql) = 0;
    /// Prepares one statement.
    virtual Result<Stmt> prepare(std::string_view sql) = 0;
    /// The message of the connection's last error, with the database named.
    virtual Error error(std::string_view what) const = 0;
    /// Rows changed by the last INSERT, UPDATE or DELETE.
    virtual std::int64_t changes() const = 0;

    /// Starts a write transaction. Writers of one store take turns, as
    /// SQLite's BEGIN IMMEDIATE makes them (PostgreSQL: a transaction-scoped
    /// advisory lock), so that read-then-write steps such as extending the
    /// audit chain need no further locking.
    virtual Status begin_write() = 0;
    /// Starts a read transaction: every statement in it sees one snapshot.
    virtual Status begin_read() = 0;
    /// Lets this connection's commits skip waiting for the disk where the
    /// engine allows it per connection (SQLite's synchronous=NORMAL: durable
    /// across a process crash, not a power loss); a no-op on PostgreSQL.
    virtual Status relax_sync() = 0;

    Dialect dialect() const { return m_dialect; }
    /// The file, or the URL without its password, for messages.
    const std::string& path() const { return m_where; }

protected:
    Db(Dialect dialect, std::string where) : m_dialect(dialect), m_where(std::move(where)) {}

private:
    Dialect m_dialect;
    std::string m_where;
};

/// A write transaction (Db::begin_write ... COMMIT); rolls back when
/// destroyed uncommitted.
class Transaction {
public:
    static Result<Transaction> begin(Db& db);
    Transaction(Transaction&& other) noexcept : m_db(other.m_db) { other.m_db = nullptr; }
    ~Transaction();
    Status commit();

private:
    explicit Transaction(Db& db) : m_db(&db) {}
    Db* m_db;
};

/// A read transaction (Db::begin_read ... COMMIT) for as long as it lives:
/// the statements run in it see one snapshot, and on PostgreSQL stream
/// through cursors. Declare those statements after it.
class Snapshot {
public:
    static Result<Snapshot> begin(Db& db);
    Snapshot(Snapshot&& other) noexcept : m_db(other.m_db) { other.m_db = nullptr; }
    ~Snapshot();

private:
    explicit Snapshot(Db& db) : m_db(&db) {}
    Db* m_db;
};

/// Opens a SQLite file (see Db::open).
Result<std::unique_ptr<Db>> open_sqlite(const std::string& path, bool create);
/// Connects to a PostgreSQL server (libpq's URL syntax).
Result<std::unique_ptr<Db>> open_postgres(const std::string& url);

}  // namespace infra::core::store
