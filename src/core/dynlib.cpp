#include "core/dynlib.hpp"

namespace infra::core::dynlib {

Status load(const char* needed_by, const char* soname, const char* package,
            const std::function<void(void*, std::string&)>& bind_all)
{
    void* handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = ::dlerror();
        return fail(Errc::unavailable,
                    std::string(needed_by) + " needs " + soname +
                        ", which cannot be loaded: " + (why ? why : "not found"),
                    std::string("install it: apt install ") + package);
    }
    std::string missing;
    bind_all(handle, missing);
    if (!missing.empty())
        return fail(Errc::unavailable, std::string(needed_by) + " needs " + soname + ", which lacks " + missing,
                    std::string("install the version infra-agent was built with: apt install ") + package);
    return {};
}

}  // namespace infra::core::dynlib
