// infra-agent's HTTP module: serve's HTTP server (core/serve/http.hpp) on
// cpp-httplib. Built as infra-agent-http.so and loaded by the first server
// opened; it links nothing of infra-agent's.
#include "core/serve/http.hpp"

#include <httplib.h>

#include <sys/socket.h>

namespace {

using namespace infra::core::serve;

class Request final : public http::Request {
public:
    explicit Request(const httplib::Request& r) : r_(r) {}
    std::string_view method() const override { return r_.method; }
    const std::string& body() const override { return r_.body; }
    std::string header(std::string_view name) const override { return r_.get_header_value(std::string(name)); }
    void each_header(const std::function<void(const std::string&, const std::string&)>& fn) const override
    {
        for (const auto& [name, value] : r_.headers) fn(name, value);
    }
    std::string match(std::size_t i) const override { return i < r_.matches.size() ? r_.matches[i].str() : ""; }

private:
    const httplib::Request& r_;
};

class Response final : public http::Response {
public:
    explicit Response(httplib::Response& r) : r_(r) {}
    int status() const override { return r_.status; }
    void set_status(int status) override { r_.status = status; }
    bool has_body() const override { return !r_.body.empty(); }
    void set_content(std::string body, std::string_view content_type) override
    {
        // What httplib's set_content does, without copying the body.
        r_.body = std::move(body);
        r_.headers.erase("Content-Type");
        r_.set_header("Content-Type", std::string(content_type));
    }
    void set_header(std::string_view name, std::string_view value) override
    {
        r_.set_header(std::string(name), std::string(value));
    }

private:
    httplib::Response& r_;
};

httplib::Server::Handler adapt(http::Handler h)
{
    return [h = std::move(h)](const httplib::Request& req, httplib::Response& res) {
        Request in(req);
        Response out(res);
        h(in, out);
    };
}

class Server final : public http::Server {
public:
    explicit Server(const http::Limits& limits)
    {
        http_.set_payload_max_length(limits.max_body);
        http_.set_read_timeout(limits.io_timeout.count(), 0);
        http_.set_write_timeout(limits.io_timeout.count(), 0);
        http_.set_keep_alive_timeout(limits.keep_alive_timeout.count());
        // cpp-httplib closes a connection after 5 requests by default: a
        // sender that keeps its connection (GitHub, a load balancer) would
        // pay a new handshake, accept and thread hand-off every 5 requests.
        http_.set_keep_alive_max_count(limits.keep_alive_requests);
        // Responses go out in two writes (head, body): without this, Nagle and
        // delayed ACKs hold each keep-alive response for 40 ms.
        http_.set_tcp_nodelay(true);
        // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, with
        // which a second server on the same port would silently take half
        // the requests instead of failing to start.
        http_.set_socket_options([](socket_t sock) {
            int yes = 1;
            ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        });
        auto threads = static_cast<std::size_t>(limits.threads);
        http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    }

    void get(const std::string& pattern, http::Handler h) override { http_.Get(pattern, adapt(std::move(h))); }
    void post(const std::string& pattern, http::Handler h) override { http_.Post(pattern, adapt(std::move(h))); }
    void on_error(http::Handler h) override { http_.set_error_handler(adapt(std::move(h))); }

    int bind(const std::string& host, int port) override
    {
        if (port == 0) return http_.bind_to_any_port(host);
        return http_.bind_to_port(host, port) ? port : -1;
    }
    void listen() override { http_.listen_after_bind(); }
    void stop() override { http_.stop(); }

private:
    httplib::Server http_;
};

}  // namespace

extern "C" __attribute__((visibility("default"))) http::Server* infra_agent_http_open(int interface,
                                                                                      const http::Limits* limits)
{
    if (interface != http::k_interface || !limits) return nullptr;
    return new Server(*limits);
}
