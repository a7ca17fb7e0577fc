#include "cli/external.hpp"

#include "core/text.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace infra::cli {
namespace {

constexpr std::string_view k_prefix = "infra-agent-";

bool executable(const std::string& path)
{
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::vector<External> find_externals()
{
    std::vector<External> out;
    std::set<std::string> seen;
    const char* path = std::getenv("PATH");
    if (!path) return out;
    for (const auto& dir : core::text::split(path, ':')) {
        if (dir.empty()) continue;  // an empty entry means ".", which we do not search
        DIR* d = ::opendir(dir.c_str());
        if (!d) continue;
        std::vector<std::string> names;
        while (auto* e = ::readdir(d)) {
            std::string_view n(e->d_name);
            if (n.size() > k_prefix.size() && n.substr(0, k_prefix.size()) == k_prefix) names.emplace_back(n);
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        for (const auto& n : names) {
            std::string full = dir + "/" + n;
            std::string name = n.substr(k_prefix.size());
            if (seen.count(name) || !executable(full)) continue;
            seen.insert(name);
            out.push_back({name, full});
        }
    }
    return out;
}

std::optional<External> find_external(const std::string& name)
{
    if (name.empty() || name.find('/') != std::string::npos) return std::nullopt;
    const char* path = std::getenv("PATH");
    if (!path) return std::nullopt;
    for (const auto& dir : core::text::split(path, ':')) {
        if (dir.empty()) continue;
        std::string full = dir + "/" + std::string(k_prefix) + name;
        if (executable(full)) return External{name, full};
    }
    return std::nullopt;
}

int exec_external(const External& cmd, const std::vector<std::string>& args, const std::string& home,
                  const std::string& config)
{
    ::setenv("INFRA_AGENT_HOME", home.c_str(), 1);
    ::setenv("INFRA_AGENT_CONFIG", config.c_str(), 1);
    std::vector<char*> argv;
    std::string argv0 = std::string(k_prefix) + cmd.name;
    argv.push_back(argv0.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    ::execv(cmd.path.c_str(), argv.data());
    spdlog::error("cannot run '{}': {}", cmd.path, std::strerror(errno));
    return 126;
}

}  // namespace infra::cli
