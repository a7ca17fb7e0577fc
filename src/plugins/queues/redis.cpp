#include "plugins/queues/redis.hpp"

#include "core/dynlib.hpp"
#include "core/process.hpp"
#include "core/text.hpp"

#include <hiredis/hiredis.h>

#include <charconv>
#include <cstdlib>
#include <mutex>

#include <poll.h>

namespace infra::plugins::redis {

using core::Errc;
using core::fail;

namespace {

// hiredis is opened when a Redis queue is first used (core/dynlib).
// clang-format off
#define INFRA_HIREDIS_FUNCTIONS(X)                                                                 \
    X(freeReplyObject) X(redisAppendCommandArgv) X(redisBufferRead) X(redisBufferWrite)           \
    X(redisConnectWithTimeout) X(redisFree) X(redisGetReply) X(redisGetReplyFromReader) X(redisSetTimeout)
// clang-format on

INFRA_HIREDIS_FUNCTIONS(INFRA_DYNLIB_DECLARE)

core::Status load_hiredis()
{
    static core::Status loaded = fail(Errc::internal, "hiredis was not loaded");
    static std::once_flag once;
    std::call_once(once, [] {
        loaded =
            core::dynlib::load("the Redis queue", INFRA_HIREDIS_SONAME, INFRA_HIREDIS_PACKAGE,
                               [](void* handle, std::string& missing) { INFRA_HIREDIS_FUNCTIONS(INFRA_DYNLIB_BIND) });
    });
    return loaded;
}

Reply convert(const redisReply* r)
{
    Reply out;
    if (!r) return out;
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        out.type = Reply::Type::string;
        out.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ERROR:
        out.type = Reply::Type::error;
        out.str.assign(r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER:
        out.type = Reply::Type::integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_ARRAY:
        out.type = Reply::Type::array;
        out.elements.reserve(r->elements);
        for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
        break;
    default:
        break;
    }
    return out;
}

int to_int(std::string_view s, int fallback)
{
    int v = fallback;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() ? v : -1;
}

std::string percent_decode(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            int v = 0;
            auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
            if (ec == std::errc() && p == s.data() + i + 3) {
                out.push_back(static_cast<char>(v));
                i += 2;
                continue;
            }
        }
        out.push_back(s[i]);
    }
    return out;
}

}  // namespace

std::int64_t Reply::as_int() const
{
    if (type == Type::integer) return integer;
    return std::strtoll(str.c_str(), nullptr, 10);
}

core::Result<Address> parse_url(const std::string& url)
{
    auto bad = [&](const std::string& why) {
        return fail(Errc::usage, "queue URL '" + core::text::redact_url(url) + "': " + why,
                    "use redis://[[USER]:PASSWORD@]HOST[:PORT][/DB][?prefix=NAME]");
    };
    if (url.rfind("redis://", 0) != 0) return bad("expected redis://");
    Address a;
    std::string rest = url.substr(8);
    if (auto q = rest.find('?'); q != std::string::npos) {
        for (const auto& kv : core::text::split(rest.substr(q + 1), '&')) {
            auto eq = kv.find('=');
            std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : percent_decode(kv.substr(eq + 1));
            if (k == "prefix" && !v.empty()) a.prefix = v + ":";
            else return bad("unknown parameter '" + k + "'");
        }
        rest = rest.substr(0, q);
    }
    std::string path;
    if (auto slash = rest.find('/'); slash != std::string::npos) {
        path = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
    }
    if (auto at = rest.rfind('@'); at != std::string::npos) {
        std::string info = rest.substr(0, at);
        rest = rest.substr(at + 1);
        auto colon = info.find(':');
        if (colon == std::string::npos) {
            a.user = percent_decode(info);  // as RFC 3986 reads it: a user, no password
        } else {
            a.user = percent_decode(info.substr(0, colon));
            a.password = percent_decode(info.substr(colon + 1));
        }
    }
    if (!rest.empty() && rest.front() == '[') {  // [::1]:6379
        auto close = rest.find(']');
        if (close == std::string::npos) return bad("unclosed '[' in the host");
        a.host = rest.substr(1, close - 1);
        rest = rest.substr(close + 1);
        if (!rest.empty() && rest.front() == ':') {
            a.port = to_int(rest.substr(1), -1);
            rest.clear();
        }
    } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
        a.port = to_int(rest.substr(colon + 1), -1);
        rest = rest.substr(0, colon);
    }
    if (!rest.empty()) a.host = rest;
    if (a.port <= 0 || a.port > 65535) return bad("the port is not a number from 1 to 65535");
    if (!path.empty()) {
        a.db = to_int(path, -1);
        if (a.db < 0) return bad("the path must be a database number, not '" + path + "'");
    }
    return a;
}

core::Result<std::unique_ptr<Conn>> Conn::open(const Address& a, const std::string& where)
{
    if (auto st = load_hiredis(); !st) return st.error();
    std::unique_ptr<Conn> c(new Conn());
    c->m_where = where;
    timeval tv{10, 0};
    c->m_ctx = redisConnectWithTimeout(a.host.c_str(), a.port, tv);
    if (!c->m_ctx || c->m_ctx->err)
        return fail(Errc::unavailable, "cannot connect to '" + where + "': " +
                                           (c->m_ctx ? std::string(c->m_ctx->errstr) : std::string("out of memory")));
    redisSetTimeout(c->m_ctx, timeval{30, 0});
    if (!a.password.empty()) {
        std::vector<std::string> auth = {"AUTH"};
        if (!a.user.empty()) auth.push_back(a.user);
        auth.push_back(a.password);
        auto r = c->command(auth);
        if (!r) return r.error();
        if (r->type == Reply::Type::error)
            return fail(Errc::unavailable, "'" + where + "' refused the credentials: " + r->str);
    }
    if (a.db != 0) {
        auto r = c->command({"SELECT", std::to_string(a.db)});
        if (!r) return r.error();
        if (r->type == Reply::Type::error) return fail(Errc::unavailable, "'" + where + "': " + r->str);
    }
    return c;
}

Conn::~Conn()
{
    if (m_ctx) redisFree(m_ctx);
}

bool Conn::ok() const
{
    if (!m_ctx || m_ctx->err != 0) return false;
    // Between commands nothing is due from the server: anything readable is
    // its end of the connection (or a stray reply this connection cannot
    // match any more).
    pollfd p{m_ctx->fd, POLLIN | POLLRDHUP, 0};
    return ::poll(&p, 1, 0) == 0;
}

core::Status Conn::append(const std::vector<std::string>& args)
{
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(m_ctx, static_cast<int>(args.size()), argv.data(), lens.data()) != REDIS_OK)
        return fail(Errc::unavailable, "'" + m_where + "': " + std::string(m_ctx->errstr));
    return {};
}

core::Result<Reply> Conn::command(const std::vector<std::string>& args)
{
    auto replies = pipeline({args});
    if (!replies) return replies.error();
    return std::move(replies->front());
}

core::Result<std::vector<Reply>> Conn::pipeline(const std::vector<std::vector<std::string>>& cmds)
{
    // A server that closed the connection is an error to report, not a
    // signal that ends the worker.
    core::process::NoSigpipe guard;
    for (const auto& args : cmds)
        if (auto st = append(args); !st) return st.error();
    std::vector<Reply> out;
    for (std::size_t i = 0; i < cmds.size(); ++i) {
        void* r = nullptr;
        if (redisGetReply(m_ctx, &r) != REDIS_OK || !r)
            return fail(Errc::unavailable, "'" + m_where + "': " + std::string(m_ctx->errstr));
        out.push_back(convert(static_cast<redisReply*>(r)));
        freeReplyObject(r);
    }
    return out;
}

core::Status Conn::send(const std::vector<std::string>& args)
{
    if (auto st = append(args); !st) return st;
    core::process::NoSigpipe guard;
    int done = 0;
    while (!done)
        if (redisBufferWrite(m_ctx, &done) != REDIS_OK)
            return fail(Errc::unavailable, "'" + m_where + "': " + std::string(m_ctx->errstr));
    return {};
}

core::Result<bool> Conn::wait_for_push(int timeout_ms)
{
    void* r = nullptr;
    // A reply already read into the buffer is not seen by poll().
    if (redisGetReplyFromReader(m_ctx, &r) != REDIS_OK)
        return fail(Errc::unavailable, "'" + m_where + "': " + std::string(m_ctx->errstr));
    if (!r) {
        pollfd p{m_ctx->fd, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) return false;
        if (redisBufferRead(m_ctx) != REDIS_OK || redisGetReplyFromReader(m_ctx, &r) != REDIS_OK)
            return fail(Errc::unavailable, "'" + m_where + "': " + std::string(m_ctx->errstr));
    }
    if (!r) return false;
    freeReplyObject(r);
    return true;
}

}  // namespace infra::plugins::redis
