#pragma once
// A thin RAII layer over SQLite: connections, prepared statements and
// transactions, with failures as Errors that name the database.

#include "core/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace infra::core::store {

class Db;

/// A prepared statement; bind with 1-based indexes, step, read columns.
class Stmt {
public:
    Stmt(Stmt&& other) noexcept;
    Stmt& operator=(Stmt&&) = delete;
    ~Stmt();

    Stmt& bind(int index, std::string_view text);
    Stmt& bind(int index, std::int64_t value);
    Stmt& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Stmt& bind(int index, double value);
    Stmt& bind_null(int index);
    /// Binds bytes as a BLOB.
    Stmt& bind_blob(int index, const void* data, std::size_t size);

    /// Runs one step: true when a row is available, false when done.
    Result<bool> step();
    /// Runs to completion, ignoring rows.
    Status run();
    /// Resets for another execution with new bindings.
    void reset();

    std::string text(int col) const;
    std::int64_t integer(int col) const;
    double real(int col) const;
    bool is_null(int col) const;
    /// The bytes of a BLOB (or TEXT) column, valid until the next step or reset.
    std::string_view blob(int col) const;

private:
    friend class Db;
    Stmt(Db& db, sqlite3_stmt* stmt) : m_db(&db), m_stmt(stmt) {}
    Db* m_db;
    sqlite3_stmt* m_stmt;
};

/// An open database connection.
class Db {
public:
    /// Opens (creating when asked) a database file in WAL mode with foreign
    /// keys on and a busy timeout, so that several processes can share it.
    static Result<std::unique_ptr<Db>> open(const std::string& path, bool create);

    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    /// Runs one or more statements without results.
    Status exec(std::string_view sql);
    /// Prepares one statement.
    Result<Stmt> prepare(std::string_view sql);

    /// The message of the connection's last error, with the database named.
    Error error(std::string_view what) const;

    const std::string& path() const { return m_path; }
    sqlite3* handle() { return m_db; }
    std::int64_t changes() const;

private:
    Db() = default;
    sqlite3* m_db = nullptr;
    std::string m_path;
};

/// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted.
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

}  // namespace infra::core::store
