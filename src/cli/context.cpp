#include "cli/context.hpp"

#include "cli/exit_codes.hpp"
#include "core/log.hpp"
#include "core/share.hpp"
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

core::Result<std::vector<std::filesystem::path>> Context::policy_dirs(const std::vector<std::string>& flag_dirs,
                                                                      bool no_bundle)
{
    namespace fs = std::filesystem;
    auto cfg = config();
    if (!cfg) return cfg.error();
    std::vector<fs::path> dirs;
    std::string bundle = (*cfg)->get_or("policy.bundle", "");
    if (!no_bundle && bundle != "none" && bundle != "false") {
        fs::path b = bundle.empty() ? core::share_dir("policies") : fs::path(bundle);
        if (b.empty())
            return core::fail(core::Errc::not_found, "cannot find the installed policy bundle",
                              "set policy.bundle to its directory, or pass --no-bundle");
        dirs.push_back(b);
    }
    if (!flag_dirs.empty()) {
        for (const auto& d : flag_dirs) dirs.emplace_back(d);
        return dirs;
    }
    auto configured = (*cfg)->get_list("policy.dirs");
    if (!configured.empty()) {
        // Relative directories in config are relative to the home.
        for (const auto& d : configured) dirs.push_back(fs::path(d).is_absolute() ? fs::path(d) : home().dir / d);
        return dirs;
    }
    std::error_code ec;
    if (fs::is_directory(home().policies_dir(), ec)) dirs.push_back(home().policies_dir());
    return dirs;
}

core::Result<std::string> Context::queue_url(const std::string& flag)
{
    if (!flag.empty()) return flag;
    auto cfg = config();
    if (!cfg) return cfg.error();
    std::string url = (*cfg)->get_or("queue.url", "");
    if (url.empty()) {
        // The embedded default: the queue lives in the state store (the
        // PostgreSQL queue in a PostgreSQL state store).
        if (home().state_is_remote()) return home().state_url;
        std::error_code ec;
        std::filesystem::create_directories(home().dir, ec);
        return "sqlite://" + home().state_location();
    }
    if (url.rfind("sqlite://", 0) == 0 && url.size() > 9 && url[9] != '/')
        url = "sqlite://" + (home().dir / url.substr(9)).string();
    return url;
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
    namespace fs = std::filesystem;
    auto cfg = config();
    std::string configured = cfg ? (*cfg)->get_or("policy.cache", "") : "";
    if (configured == "none" || configured == "false") return {};
    if (!configured.empty()) return configured;
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "infra-agent/policies";
    if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache/infra-agent/policies";
    return {};
}

void Context::emit(const nlohmann::json& j)
{
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
}

void Context::record(std::string_view type, nlohmann::json fields)
{
    nlohmann::json line = {{"type", type}, {"formatVersion", k_format_version}};
    line.update(fields);
    emit(line);
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
