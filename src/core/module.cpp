#include "core/module.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

namespace infra::core::module {
namespace {

namespace fs = std::filesystem;

/// Where modules are looked for, in order: beside the binary (so a build
/// tree runs its own), then the directory they are installed in. Never the
/// working directory or the environment: a module runs as the user.
std::vector<fs::path> directories()
{
    std::vector<fs::path> dirs;
    std::error_code ec;
    fs::path self = fs::canonical("/proc/self/exe", ec);
    if (!ec) dirs.push_back(self.parent_path());
    dirs.emplace_back(INFRA_AGENT_MODULEDIR);
    return dirs;
}

Result<void*> open(const std::string& file)
{
    std::string tried;
    for (const auto& dir : directories()) {
        fs::path path = dir / file;
        std::error_code ec;
        if (!fs::is_regular_file(path, ec)) {
            tried += (tried.empty() ? "" : ", ") + dir.string();
            continue;
        }
        if (void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
        const char* why = ::dlerror();
        return fail(Errc::unavailable, "cannot load " + path.string() + ": " + (why ? why : "unknown error"),
                    "reinstall infra-agent: the binary and its modules must come from the same build");
    }
    return fail(Errc::unavailable, "infra-agent's module " + file + " is not installed (looked in " + tried + ")",
                "reinstall infra-agent: the binary and its modules must come from the same build");
}

}  // namespace

Result<void*> symbol(std::string_view name, const char* symbol)
{
    static std::mutex mutex;
    static std::map<std::string, void*, std::less<>> loaded;
    std::lock_guard lock(mutex);
    std::string file = "infra-agent-" + std::string(name) + ".so";
    auto it = loaded.find(file);
    if (it == loaded.end()) {
        auto handle = open(file);
        if (!handle) return handle.error();
        it = loaded.emplace(file, *handle).first;
    }
    void* address = ::dlsym(it->second, symbol);
    if (!address)
        return fail(Errc::unavailable, "infra-agent's module " + file + " lacks " + symbol,
                    "reinstall infra-agent: the binary and its modules must come from the same build");
    return address;
}

}  // namespace infra::core::module
