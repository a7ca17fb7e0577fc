// The `broker` provider of distributed workers: a worker holds no signing
// key and no cloud or forge credential of its own; it asks the broker API of
// `serve` (POST /v1/credentials) with its worker token and the lease it
// holds the task under (worker id and fencing token), and serve mints
// through its own provider, only the task's own scopes for the lease's
// holder and until the lease ends, and keeps the ledger in the state store.
#include "plugins/credentials/providers.hpp"

#include "core/http.hpp"
#include "core/json_access.hpp"
#include "core/log.hpp"
#include "core/text.hpp"

#include <cstdlib>

#include <spdlog/spdlog.h>

namespace infra::plugins::credentials {
namespace {

using core::Errc;
using core::fail;

class Remote final : public core::creds::Provider {
public:
    Remote(std::string url, std::string token) : m_url(std::move(url)), m_token(std::move(token)) {}

    std::string name() const override { return "broker"; }
    std::chrono::seconds max_ttl() const override { return std::chrono::hours(1); }

    core::Status mint(const core::creds::Scope&, core::creds::Credential& c) override
    {
        core::http::Request req;
        req.method = "POST";
        req.url = m_url + "/v1/credentials";
        req.headers = {{"Authorization", "Bearer " + m_token}, {"Content-Type", "application/json"}};
        // The lease the task is held under: serve mints only for its holder.
        nlohmann::json ask = {{"scope", c.scope},
                              {"taskId", c.task_id},
                              {"traceId", c.trace_id},
                              {"ttlSeconds", std::max<std::int64_t>(1, (c.expires_ms - c.issued_ms) / 1000)}};
        if (!c.worker_id.empty()) {
            ask["workerId"] = c.worker_id;
            ask["leaseToken"] = c.lease_token;
        }
        req.body = ask.dump();
        req.timeout = std::chrono::seconds(30);
        auto res = core::http::send(req);
        if (!res) return fail(Errc::unavailable, "broker at " + m_url + ": " + res.error().message);
        auto body = nlohmann::json::parse(res->body, nullptr, false);
        std::string why = body.is_object() ? core::string_member(body, "error") : "";
        if (res->status == 401 || res->status == 403)
            return fail(Errc::denied, "broker at " + m_url +
                                          " refused: " + (why.empty() ? "HTTP " + std::to_string(res->status) : why));
        if (res->status != 200 || !body.is_object())
            return fail(Errc::unavailable, "broker at " + m_url + ": HTTP " + std::to_string(res->status) +
                                               (why.empty() ? "" : ": " + why));
        std::string secret = core::string_member(body, "token");
        if (secret.empty()) return fail(Errc::unavailable, "broker at " + m_url + ": the answer has no token");
        c.secret = secret;
        if (auto exp = body.find("expiresMs"); exp != body.end() && exp->is_number_integer())
            c.expires_ms = std::min(c.expires_ms, exp->get<std::int64_t>());
        if (auto extra = body.find("extra"); extra != body.end() && extra->is_object()) c.extra = *extra;
        c.extra["brokerId"] = core::string_member(body, "id");
        c.extra["brokerProvider"] = core::string_member(body, "provider");
        return {};
    }

    core::Result<std::string> worker_name() const override
    {
        core::http::Request req;
        req.method = "GET";
        req.url = m_url + "/v1/credentials/identity";
        req.headers = {{"Authorization", "Bearer " + m_token}};
        req.timeout = std::chrono::seconds(30);
        auto res = core::http::send(req);
        if (!res) return fail(Errc::unavailable, "broker at " + m_url + ": " + res.error().message);
        auto body = nlohmann::json::parse(res->body, nullptr, false);
        std::string name = body.is_object() ? core::string_member(body, "worker") : "";
        if (res->status != 200 || name.empty()) {
            std::string why = body.is_object() ? core::string_member(body, "error") : "";
            return fail(res->status == 401 ? Errc::denied : Errc::unavailable,
                        "broker at " + m_url + " did not say whose worker token this is: HTTP " +
                            std::to_string(res->status) + (why.empty() ? "" : ": " + why));
        }
        return name;
    }

private:
    std::string m_url;
    std::string m_token;
};

}  // namespace

namespace {

struct Settings {
    std::string url;  ///< without a trailing '/'
    std::string token;
};

core::Result<Settings> settings(const core::Config& config)
{
    auto url = config.get("broker.url");
    if (!url || url->empty())
        return fail(Errc::invalid_input, "the broker provider needs broker.url",
                    "the URL of `serve` (behind TLS across machines), e.g. https://infra-agent.internal");
    if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0)
        return fail(Errc::invalid_input,
                    "broker.url: expected an http:// or https:// URL, not " + core::text::quote(*url));
    if (url->rfind("http://", 0) == 0) {
        std::string host = url->substr(7, url->find_first_of(":/", 7) - 7);
        if (host != "127.0.0.1" && host != "localhost" && host != "[")
            spdlog::warn("broker.url {} is plain HTTP: credentials from the broker cross the network unencrypted",
                         core::text::quote(*url));
    }
    std::string var = config.get_or("broker.token_env", "INFRA_AGENT_WORKER_TOKEN");
    const char* token = std::getenv(var.c_str());
    if (!token || !*token)
        return fail(Errc::invalid_input, "the broker provider needs a worker token in $" + var,
                    "one of the tokens in serve.worker_tokens_file");
    core::log::add_secret(token);
    std::string base = *url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return Settings{base, token};
}

}  // namespace

core::Result<std::unique_ptr<core::creds::Provider>> make_remote(const core::Config& config)
{
    auto s = settings(config);
    if (!s) return fail(s.error());
    return std::unique_ptr<core::creds::Provider>(std::make_unique<Remote>(s->url, s->token));
}

}  // namespace infra::plugins::credentials
