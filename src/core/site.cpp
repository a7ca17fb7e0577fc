#include "core/site.hpp"

#include "core/share.hpp"

#include <cstdlib>

namespace infra::core {

namespace fs = std::filesystem;

std::string Site::queue_url(const std::string& flag) const
{
    if (!flag.empty()) return flag;
    std::string url = config.get_or("queue.url", "");
    if (url.empty()) {
        // The embedded default: the queue lives in the state store (the
        // PostgreSQL queue in a PostgreSQL state store).
        if (home.state_is_remote()) return home.state_url;
        std::error_code ec;
        fs::create_directories(home.dir, ec);
        return "sqlite://" + home.state_location();
    }
    if (url.rfind("sqlite://", 0) == 0 && url.size() > 9 && url[9] != '/')
        url = "sqlite://" + (home.dir / url.substr(9)).string();
    return url;
}

Result<std::unique_ptr<queue::Queue>> Site::open_queue(const std::string& flag, events::EventSink* events) const
{
    return queues.open(queue_url(flag), {events});
}

Result<std::vector<fs::path>> Site::policy_dirs(const PolicySources& sources) const
{
    std::vector<fs::path> dirs;
    std::string bundle = config.get_or("policy.bundle", "");
    if (!sources.no_bundle && bundle != "none" && bundle != "false") {
        fs::path b = bundle.empty() ? share_dir("policies") : fs::path(bundle);
        if (b.empty())
            return fail(Errc::not_found, "cannot find the installed policy bundle",
                        "set policy.bundle to its directory, or pass --no-bundle");
        dirs.push_back(b);
    }
    if (!sources.dirs.empty()) {
        for (const auto& d : sources.dirs) dirs.emplace_back(d);
        return dirs;
    }
    auto configured = config.get_list("policy.dirs");
    if (!configured.empty()) {
        // Relative directories in config are relative to the home.
        for (const auto& d : configured) dirs.push_back(fs::path(d).is_absolute() ? fs::path(d) : home.dir / d);
        return dirs;
    }
    std::error_code ec;
    if (fs::is_directory(home.policies_dir(), ec)) dirs.push_back(home.policies_dir());
    return dirs;
}

Result<std::unique_ptr<policy::Engine>> Site::load_engine(const PolicySources& sources) const
{
    auto dirs = policy_dirs(sources);
    if (!dirs) return dirs.error();
    return policy::Engine::load(*dirs, policy_cache_dir(config));
}

fs::path policy_cache_dir(const Config& config)
{
    std::string configured = config.get_or("policy.cache", "");
    if (configured == "none" || configured == "false") return {};
    if (!configured.empty()) return configured;
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "infra-agent/policies";
    if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache/infra-agent/policies";
    return {};
}

}  // namespace infra::core
