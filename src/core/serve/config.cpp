#include "core/serve/config.hpp"

#include "core/approval.hpp"
#include "core/change/delivery.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <cstdlib>

namespace infra::core::serve {
namespace {

/// The webhook secrets named by webhooks.<source>.secret_env.
Result<std::map<std::string, std::string>> webhook_secrets(const Config& config)
{
    std::map<std::string, std::string> out;
    for (const char* source : k_webhook_sources) {
        std::string key = std::string("webhooks.") + source + ".secret_env";
        std::string var = config.get_or(key, "");
        if (var.empty()) continue;
        const char* value = std::getenv(var.c_str());
        if (!value || !*value)
            return fail(Errc::usage, key + " names " + var + ", which is not set in the environment",
                        "export " + var + " with the webhook's shared secret, or remove " + key);
        log::add_secret(value);
        out[source] = value;
    }
    return out;
}

/// Bytes from "1048576", "512KiB" or "5MiB".
Result<std::size_t> parse_size(const std::string& s)
{
    char* end = nullptr;
    unsigned long long n = std::strtoull(s.c_str(), &end, 10);
    std::string unit = end ? text::lower(end) : "";
    unsigned long long mult = unit.empty() || unit == "b"    ? 1
                              : unit == "k" || unit == "kib" ? 1024
                              : unit == "m" || unit == "mib" ? 1u << 20
                                                             : 0;
    if (!mult || n == 0)
        return fail(Errc::usage, "max body " + text::quote(s) + ": expected bytes, e.g. 1048576 or 5MiB");
    return static_cast<std::size_t>(n * mult);
}

Result<std::vector<Token>> tokens_from(const Config& config, const std::string& key)
{
    std::string file = config.get_or(key, "");
    if (file.empty()) return std::vector<Token>{};
    return load_tokens(file);
}

}  // namespace

Result<std::pair<std::string, int>> parse_listen(const std::string& s)
{
    auto colon = s.rfind(':');
    std::string host = colon == std::string::npos ? "127.0.0.1" : s.substr(0, colon);
    std::string port = colon == std::string::npos ? s : s.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    char* end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end || p < 0 || p > 65535)
        return fail(Errc::usage, "listen address " + text::quote(s) + ": expected HOST:PORT, e.g. 127.0.0.1:8787");
    return std::make_pair(host.empty() ? std::string("127.0.0.1") : host, static_cast<int>(p));
}

Result<Options> options_from(const Config& config, const Flags& flags)
{
    Options so;
    auto addr = parse_listen(flags.listen.empty() ? config.get_or("serve.listen", "127.0.0.1:8787") : flags.listen);
    if (!addr) return addr.error();
    so.host = addr->first;
    so.port = addr->second;
    std::string max_body = flags.max_body.empty() ? config.get_or("serve.max_body", "") : flags.max_body;
    if (!max_body.empty()) {
        auto n = parse_size(max_body);
        if (!n) return n.error();
        so.max_body = *n;
    }
    if (auto t = config.get_or("serve.io_timeout", ""); !t.empty()) {
        auto d = timeutil::parse_duration(t);
        if (!d || d->count() < 1000)
            return fail(Errc::usage, "serve.io_timeout " + text::quote(t) + ": expected whole seconds, e.g. 10s");
        so.io_timeout = std::chrono::duration_cast<std::chrono::seconds>(*d);
    }
    auto secrets = webhook_secrets(config);
    if (!secrets) return secrets.error();
    so.secrets = std::move(*secrets);
    auto tokens = tokens_from(config, "serve.api_tokens_file");
    if (!tokens) return tokens.error();
    so.tokens = std::move(*tokens);
    auto worker_tokens = tokens_from(config, "serve.worker_tokens_file");
    if (!worker_tokens) return worker_tokens.error();
    so.worker_tokens = std::move(*worker_tokens);
    auto approvers = approval::Groups::from_config(config);
    if (!approvers) return approvers.error();
    so.approvers = std::move(*approvers);
    so.repository_id = change::repository_id(config, "");
    so.schedules = config.get_json("schedules");
    return so;
}

}  // namespace infra::core::serve
