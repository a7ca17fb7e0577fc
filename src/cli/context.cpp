#include "cli/context.hpp"

#include "cli/exit_codes.hpp"
#include "core/log.hpp"
#include "core/state.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace infra::cli {

Context::Context() : m_stdout_tty(isatty(STDOUT_FILENO) == 1), m_stderr_tty(isatty(STDERR_FILENO) == 1) {}

bool Context::color() const
{
    const char* no_color = std::getenv("NO_COLOR");
    if (no_color && *no_color) return false;
    const char* term = std::getenv("TERM");
    if (term && std::string_view(term) == "dumb") return false;
    return m_stderr_tty;
}

void Context::setup_logging()
{
    std::string level = m_globals.log_level;
    std::string format = m_globals.log_format;
    // The config file may set them too; a broken config is reported by the
    // command that needs it, not here.
    if (level.empty() || format.empty()) {
        auto cfg = config();
        if (cfg) {
            if (level.empty()) level = (*cfg)->get_or("log.level", "");
            if (format.empty()) format = (*cfg)->get_or("log.format", "");
        }
    }
    if (level.empty() || !core::log::valid_level(level)) level = "info";
    if (m_globals.quiet) level = "error";
    if (m_globals.verbose == 1) level = "debug";
    if (m_globals.verbose > 1) level = "trace";
    core::log::setup(level, format == "json" ? core::log::Format::json : core::log::Format::text, color());
}

const core::Home& Context::home()
{
    if (!m_home) {
        std::optional<std::string> flag;
        if (!m_globals.home.empty()) flag = m_globals.home;
        m_home = core::resolve_home(flag, std::filesystem::current_path());
        // Where the state store is comes from the configuration, which is
        // found through the home (the home is set first for that).
        auto cfg = config();
        if (!cfg) m_home->state_error = cfg.error();
        else if (auto st = core::configure_state(*m_home, **cfg); !st) m_home->state_error = st.error();
    }
    return *m_home;
}

core::Result<const core::Config*> Context::config()
{
    if (!m_config) {
        std::filesystem::path file;
        bool required = false;
        if (!m_globals.config.empty()) {
            file = m_globals.config;
            required = true;
        } else if (const char* env = std::getenv("INFRA_AGENT_CONFIG"); env && *env) {
            file = env;
            required = true;
        } else {
            file = home().config_file();
        }
        auto c = core::Config::load(file, required);
        if (!c) return c.error();
        m_config = std::move(*c);
    }
    return &*m_config;
}

core::Result<core::Site> Context::site()
{
    auto cfg = config();
    if (!cfg) return cfg.error();
    return core::Site{**cfg, home(), m_credentials, m_forges, m_queues, m_agents, m_signals};
}

core::Result<std::vector<std::filesystem::path>> Context::policy_dirs(const std::vector<std::string>& flag_dirs,
                                                                      bool no_bundle)
{
    auto s = site();
    if (!s) return s.error();
    return s->policy_dirs({flag_dirs, no_bundle});
}

core::Result<std::string> Context::queue_url(const std::string& flag)
{
    if (!flag.empty()) return flag;
    auto s = site();
    if (!s) return s.error();
    return s->queue_url(flag);
}

core::Result<std::unique_ptr<core::queue::Queue>> Context::open_queue(const std::string& flag,
                                                                      core::events::EventSink* events)
{
    auto url = queue_url(flag);
    if (!url) return url.error();
    return m_queues.open(*url, {events});
}

std::filesystem::path Context::policy_cache_dir()
{
    if (auto cfg = config()) return core::policy_cache_dir(**cfg);
    return core::policy_cache_dir(core::Config());
}

void Context::emit(const nlohmann::json& j)
{
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
}

void Context::record(std::string_view type, nlohmann::json fields)
{
    fields["type"] = type;
    fields["formatVersion"] = k_format_version;
    emit(fields);
}

void Context::print(std::string_view text)
{
    std::fwrite(text.data(), 1, text.size(), stdout);
}

int Context::fail(const core::Error& e)
{
    spdlog::error("{}", e.message);
    if (!e.hint.empty()) spdlog::error("hint: {}", e.hint);
    return exit_code::for_error(e);
}

void Context::warn(const std::string& message)
{
    spdlog::warn("{}", message);
}

void Context::note(const std::string& message)
{
    spdlog::info("{}", message);
}

}  // namespace infra::cli
