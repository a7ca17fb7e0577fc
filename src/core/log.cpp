#include "core/log.hpp"

#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <vector>

namespace infra::core::log {
namespace {

std::mutex g_secrets_mutex;
std::vector<std::string> g_secrets;
std::atomic<bool> g_any_secret{false};
constexpr std::size_t k_max_transient = 64;
std::size_t g_configured = 0;  // g_secrets[0, g_configured) are kept for good; the rest are transient

const std::string k_mark = "[REDACTED]";

bool replace_secrets(std::string& s)
{
    bool changed = false;
    for (const auto& secret : g_secrets)
        for (std::size_t pos = s.find(secret); pos != std::string::npos; pos = s.find(secret, pos + k_mark.size())) {
            s.replace(pos, secret.size(), k_mark);
            changed = true;
        }
    return changed;
}

// Writes git-style lines ("infra-agent: warning: ...") or JSON objects.
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    StderrSink(Format format, bool color) : m_format(format), m_color(color) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override
    {
        std::string text = redact(std::string_view(msg.payload.data(), msg.payload.size()));
        std::string line;
        if (m_format == Format::json) {
            nlohmann::json j = {{"time", timeutil::format_rfc3339(msg.time)},
                                {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                                      spdlog::level::to_string_view(msg.level).size())},
                                {"msg", text}};
            line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        } else {
            const char* label = nullptr;
            const char* colour = "";
            switch (msg.level) {
            case spdlog::level::critical:
            case spdlog::level::err:
                label = "error";
                colour = "\033[31m";
                break;
            case spdlog::level::warn:
                label = "warning";
                colour = "\033[33m";
                break;
            case spdlog::level::debug:
                label = "debug";
                break;
            case spdlog::level::trace:
                label = "trace";
                break;
            default:
                break;
            }
            line = "infra-agent: ";
            if (text.rfind("hint: ", 0) == 0) label = nullptr;  // a hint follows its error plainly
            if (label) {
                if (m_color && *colour) line += std::string(colour) + label + "\033[0m: ";
                else line += std::string(label) + ": ";
            }
            line += text + "\n";
        }
        std::fwrite(line.data(), 1, line.size(), stderr);
    }
    void flush_() override { std::fflush(stderr); }

private:
    Format m_format;
    bool m_color;
};

void add_one(std::string_view secret, bool transient)
{
    if (secret.size() < 4) return;  // too short to redact without mangling text
    std::lock_guard lock(g_secrets_mutex);
    auto found = std::find(g_secrets.begin(), g_secrets.end(), secret);
    if (found != g_secrets.end()) {
        if (!transient && found - g_secrets.begin() >= static_cast<long>(g_configured)) {
            g_secrets.erase(found);  // promoted: kept for good
        } else {
            return;
        }
    }
    if (transient) {
        // Short-lived minted tokens: the newest k_max_transient are kept.
        if (g_secrets.size() - g_configured >= k_max_transient)
            g_secrets.erase(g_secrets.begin() + static_cast<long>(g_configured));
        g_secrets.emplace_back(secret);
    } else {
        g_secrets.insert(g_secrets.begin() + static_cast<long>(g_configured), std::string(secret));
        ++g_configured;
    }
    g_any_secret = true;
}

}  // namespace

void setup(std::string_view level, Format format, bool color)
{
    auto sink = std::make_shared<StderrSink>(format, color);
    auto logger = std::make_shared<spdlog::logger>("infra-agent", sink);
    logger->set_level(spdlog::level::from_str(std::string(level)));
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

bool valid_level(std::string_view level)
{
    for (auto l : {"trace", "debug", "info", "warn", "warning", "error", "critical", "off"})
        if (level == l) return true;
    return false;
}

void add_secret(std::string_view secret, bool transient)
{
    // Serialized JSON holds a secret with its quotes and backslashes escaped
    // (a token of printable ASCII without either is written as it is).
    if (!text::json_verbatim(secret)) {
        std::string escaped =
            nlohmann::json(std::string(secret)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        escaped = escaped.substr(1, escaped.size() - 2);
        if (escaped != secret) add_one(escaped, transient);
    }
    add_one(secret, transient);
}

std::string redact(std::string_view s)
{
    std::string out(s);
    if (!g_any_secret.load(std::memory_order_relaxed)) return out;
    std::lock_guard lock(g_secrets_mutex);
    replace_secrets(out);
    return out;
}

}  // namespace infra::core::log
