#pragma once
// A thin RAII layer over libpq: a connection, parameterised statements
// (text parameters, or bytes sent in binary), results with typed reads, and
// failures as Errors that name the server, never its password.

#include "core/result.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace infra::core::store::pg {

/// One statement parameter: text (Postgres infers the type from the
/// statement), bytes for a bytea, or NULL.
struct Param {
    enum class Kind { text, bytes, null };
    Kind kind = Kind::null;
    std::string value;

    Param() = default;
    Param(std::string_view s) : kind(Kind::text), value(s) {}
    Param(const std::string& s) : kind(Kind::text), value(s) {}
    Param(const char* s) : kind(Kind::text), value(s) {}
    Param(std::int64_t v) : kind(Kind::text), value(std::to_string(v)) {}
    Param(int v) : kind(Kind::text), value(std::to_string(v)) {}
    Param(bool v) : kind(Kind::text), value(v ? "true" : "false") {}
    static Param bytes(const void* data, std::size_t size)
    {
        Param p;
        p.kind = Kind::bytes;
        p.value.assign(static_cast<const char*>(data), size);
        return p;
    }
};

/// A statement's result rows.
class Rows {
public:
    explicit Rows(pg_result* r) : m_r(r) {}
    Rows(Rows&& o) noexcept : m_r(o.m_r) { o.m_r = nullptr; }
    Rows& operator=(Rows&&) = delete;
    ~Rows();

    int size() const;
    /// Rows changed by an INSERT, UPDATE or DELETE.
    std::int64_t affected() const;
    std::string text(int row, int col) const;
    std::int64_t integer(int row, int col) const;
    bool is_null(int row, int col) const;
    /// A bytea column's bytes (decoded from Postgres' hex output, or as
    /// they are in a binary result).
    std::string bytes(int row, int col) const;
    /// Whether a column is a bytea.
    bool is_bytea(int col) const;

private:
    friend class Conn;
    pg_result* m_r;
};

/// A statement written with SQLite's placeholders (`?`, numbered in order,
/// and `?N`) in PostgreSQL's (`$1`, `$2` ...), numbered densely in the order
/// of first use: order[k] is the original index of `$k+1`. Quoted strings,
/// quoted names and comments are left alone.
struct Placeholders {
    std::string text;
    std::vector<int> order;
};
Placeholders placeholders(std::string_view sql);

/// An open connection (not shared between threads).
class Conn {
public:
    /// Connects to a postgres:// or postgresql:// URL (libpq's own syntax).
    static core::Result<std::unique_ptr<Conn>> open(const std::string& url);
    ~Conn();
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    /// How a statement's rows come back: as text, or in binary (no hex for
    /// a bytea, integers as they are stored); Rows reads either.
    enum class Results { text, binary };

    /// Runs one statement with parameters ($1, $2 ...). A statement with
    /// parameters is prepared on the server the first time this connection
    /// runs it, and from then on runs without being parsed and planned
    /// again, unless prepare is false (a statement whose text is used once).
    core::Result<Rows> query(std::string_view sql, const std::vector<Param>& params = {},
                             Results results = Results::text, bool prepare = true);
    /// Runs one or more statements without parameters or results.
    core::Status exec(std::string_view sql);

    /// Whether the connection still works (it is dropped from pools if not).
    bool ok() const;
    /// Whether the server has closed the connection (a restart, a
    /// failover, an idle timeout, pg_terminate_backend).
    bool broken() const;
    /// The socket, for waiting on notifications.
    int socket() const;
    /// Reads what the server sent; true when a notification arrived.
    bool take_notifications();

    /// The URL without its password, for messages.
    const std::string& where() const { return m_where; }

private:
    Conn() = default;
    core::Error error(std::string_view what) const;
    core::Result<Rows> result(Rows r);

    pg_conn* m_conn = nullptr;
    std::string m_where;
    std::unordered_map<std::string, std::string> m_prepared;  // SQL -> statement name
    std::int64_t m_statements = 0;
};

}  // namespace infra::core::store::pg
