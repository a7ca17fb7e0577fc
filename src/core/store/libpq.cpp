#include "core/store/libpq.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace infra::core::store::pg {

namespace {

// The soname Debian's libpq5 installs; the ABI has been stable under it since PostgreSQL 8.2.
constexpr const char* k_soname = "libpq.so.5";

LibPq g_libpq;

Result<const LibPq*> open_libpq()
{
    void* handle = ::dlopen(k_soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = ::dlerror();
        return fail(Errc::unavailable,
                    std::string("PostgreSQL support needs ") + k_soname + ", which cannot be loaded: " + (why ? why : "not found"),
                    "install PostgreSQL's client library: apt install libpq5");
    }
    std::string missing;
#define INFRA_LIBPQ_RESOLVE(name)                                                                  \
    g_libpq.name = reinterpret_cast<decltype(&::name)>(::dlsym(handle, #name));                    \
    if (!g_libpq.name) missing += (missing.empty() ? "" : ", ") + std::string(#name);
    INFRA_LIBPQ_FUNCTIONS(INFRA_LIBPQ_RESOLVE)
#undef INFRA_LIBPQ_RESOLVE
    if (!missing.empty())
        return fail(Errc::unavailable, std::string(k_soname) + " lacks " + missing,
                    "install libpq5 from PostgreSQL 12 or later");
    return &g_libpq;
}

}  // namespace

Result<const LibPq*> load_libpq()
{
    static std::once_flag once;
    static Result<const LibPq*> loaded = fail(Errc::unavailable, "libpq was not loaded");
    std::call_once(once, [] { loaded = open_libpq(); });
    return loaded;
}

const LibPq& libpq() { return g_libpq; }

}  // namespace infra::core::store::pg
