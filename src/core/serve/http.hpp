#pragma once
// The HTTP server serve answers on, as an interface: its implementation
// (cpp-httplib, which brings OpenSSL's TLS and brotli with it) is a module
// of infra-agent's own, loaded by the first server opened, so that no other
// command pays for loading it.
//
// Apart from open(), which the binary defines, everything here is inline or
// abstract: the module implements it without linking anything of
// infra-agent's.
#include "core/result.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace infra::core::serve::http {

/// Bumped whenever anything in this header changes shape: a module built
/// for another interface is refused instead of called.
constexpr int k_interface = 1;

/// A request, valid while its handler runs.
class Request {
public:
    virtual ~Request() = default;
    virtual std::string_view method() const = 0;
    virtual const std::string& body() const = 0;
    /// The value of the header (names compare without case), or "".
    virtual std::string header(std::string_view name) const = 0;
    /// Calls fn with each header's name and value.
    virtual void each_header(const std::function<void(const std::string&, const std::string&)>& fn) const = 0;
    /// The route pattern's capture i (0 is the whole path).
    virtual std::string match(std::size_t i) const = 0;
};

/// The response a handler fills in.
class Response {
public:
    virtual ~Response() = default;
    virtual int status() const = 0;
    virtual void set_status(int status) = 0;
    virtual bool has_body() const = 0;
    virtual void set_content(std::string body, std::string_view content_type) = 0;
    virtual void set_header(std::string_view name, std::string_view value) = 0;
};

using Handler = std::function<void(const Request&, Response&)>;

struct Limits {
    std::size_t max_body = 5u << 20;      ///< larger bodies get 413
    std::chrono::seconds io_timeout{10};  ///< per read and write
    std::chrono::seconds keep_alive_timeout{5};
    std::size_t keep_alive_requests = 1000;  ///< requests one connection may carry
    int threads = 64;                        ///< connections served at once
};

class Server {
public:
    virtual ~Server() = default;
    /// Routes: pattern is a regular expression over the whole path.
    virtual void get(const std::string& pattern, Handler h) = 0;
    virtual void post(const std::string& pattern, Handler h) = 0;
    /// Called for a response with no body after an error status (404, 413, ...).
    virtual void on_error(Handler h) = 0;
    /// Binds host:port (port 0 picks a free one); the port bound, or -1.
    virtual int bind(const std::string& host, int port) = 0;
    /// Serves until stop().
    virtual void listen() = 0;
    virtual void stop() = 0;
};

/// A server with these limits, from the HTTP module (loaded on first use).
Result<std::unique_ptr<Server>> open(const Limits& limits);

/// What the module exports: a new server, or null when interface is not
/// the one it was built for.
using OpenFn = Server* (*)(int interface, const Limits* limits);
constexpr const char* k_open_symbol = "infra_agent_http_open";

}  // namespace infra::core::serve::http
