#pragma once
// Real database servers for the tests, each private to the test that starts
// it: PostgreSQL from Debian's packages through initdb and pg_ctl in a
// temporary directory, and redis-server, both on 127.0.0.1 at a free port.
// They stop (and their files go) when the object is destroyed.

#include "support/fixtures.hpp"

#include <string>
#include <sys/types.h>
#include <vector>

namespace infra::test {

/// A port on 127.0.0.1 that nothing listens on right now.
int free_port();

class PostgresServer {
public:
    /// Starts the server; ok() says whether it came up, error() why not.
    PostgresServer();
    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    bool ok() const { return m_error.empty(); }
    const std::string& error() const { return m_error; }
    int port() const { return m_port; }
    /// postgres://postgres@127.0.0.1:PORT/DB
    std::string url(const std::string& db = "postgres") const;
    /// Stops the server at once, as a crash would (pg_ctl stop -m immediate).
    void kill();

private:
    std::string run_as_owner(const std::string& program, const std::vector<std::string>& args);
    TempDir m_dir;
    std::string m_bin;
    int m_port = 0;
    bool m_running = false;
    std::string m_error;
};

class RedisServer {
public:
    RedisServer();
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    bool ok() const { return m_error.empty(); }
    const std::string& error() const { return m_error; }
    int port() const { return m_port; }
    /// redis://127.0.0.1:PORT/0
    std::string url(int db = 0) const;

private:
    TempDir m_dir;
    pid_t m_pid = -1;
    int m_port = 0;
    std::string m_error;
};

}  // namespace infra::test
