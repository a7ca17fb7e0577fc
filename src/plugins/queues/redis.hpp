#pragma once
// A thin RAII layer over hiredis: a connection from a redis:// URL (with
// AUTH and SELECT done), binary-safe commands, replies as a small tree, and
// failures as Errors that name the server, never its password.

#include "core/result.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct redisContext;

namespace infra::plugins::redis {

/// A reply: a string (bulk or status), an integer, nil, or an array.
struct Reply {
    enum class Type { string, integer, nil, array, error };
    Type type = Type::nil;
    std::string str;
    std::int64_t integer = 0;
    std::vector<Reply> elements;

    bool is_nil() const { return type == Type::nil; }
    /// An integer reply, or a string holding one.
    std::int64_t as_int() const;
};

/// Where a redis:// URL points.
struct Address {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string user, password;
    int db = 0;
    std::string prefix = "infra:queue:";  ///< ?prefix=NAME: several queues on one server
};

/// Parses redis://[[user]:password@]host[:port][/db][?prefix=NAME]
/// (redis://:PASSWORD@host for a password alone, as Redis 5 and earlier have
/// no users).
core::Result<Address> parse_url(const std::string& url);

class Conn {
public:
    static core::Result<std::unique_ptr<Conn>> open(const Address& a, const std::string& where);
    ~Conn();
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    /// Runs one command (each argument binary-safe). A Redis error reply is
    /// returned as a Reply of type error; a broken connection as an Error.
    core::Result<Reply> command(const std::vector<std::string>& args);
    /// Runs several commands in one round trip; their replies in order.
    core::Result<std::vector<Reply>> pipeline(const std::vector<std::vector<std::string>>& cmds);
    /// Sends a command without reading its reply (SUBSCRIBE).
    core::Status send(const std::vector<std::string>& args);
    /// Waits up to timeout_ms for a reply pushed by the server.
    core::Result<bool> wait_for_push(int timeout_ms);

    /// Whether it can take a command: no error seen, and the server has not
    /// closed its end.
    bool ok() const;
    const std::string& where() const { return m_where; }

private:
    Conn() = default;
    core::Status append(const std::vector<std::string>& args);
    redisContext* m_ctx = nullptr;
    std::string m_where;
};

}  // namespace infra::plugins::redis
