#include "core/log.hpp"

#include "core/timeutil.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <mutex>
#include <vector>

namespace infra::core::log {
namespace {

std::mutex g_secrets_mutex;
std::vector<std::string> g_secrets;

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
            case spdlog::level::err: label = "error"; colour = "\033[31m"; break;
            case spdlog::level::warn: label = "warning"; colour = "\033[33m"; break;
            case spdlog::level::debug: label = "debug"; break;
            case spdlog::level::trace: label = "trace"; break;
            default: break;
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

void add_secret(std::string_view secret)
{
    if (secret.size() < 4) return;  // too short to redact without mangling text
    std::lock_guard lock(g_secrets_mutex);
    g_secrets.emplace_back(secret);
}

std::string redact(std::string_view s)
{
    std::string out(s);
    std::lock_guard lock(g_secrets_mutex);
    for (const auto& secret : g_secrets) {
        for (std::size_t pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos))
            out.replace(pos, secret.size(), "[REDACTED]");
    }
    return out;
}

}  // namespace infra::core::log
