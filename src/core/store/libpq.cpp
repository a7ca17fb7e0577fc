#include "core/store/libpq.hpp"

#include "core/dynlib.hpp"

#include <mutex>
#include <string>

namespace infra::core::store::pg {

namespace {

// The soname Debian's libpq5 installs; the ABI has been stable under it since PostgreSQL 8.2.
constexpr const char* k_soname = "libpq.so.5";

LibPq g_libpq;

Result<const LibPq*> open_libpq()
{
    auto loaded = dynlib::load("PostgreSQL support", k_soname, "libpq5", [](void* handle, std::string& missing) {
#define INFRA_LIBPQ_BIND(name) dynlib::bind(handle, g_libpq.name, #name, missing);
        INFRA_LIBPQ_FUNCTIONS(INFRA_LIBPQ_BIND)
#undef INFRA_LIBPQ_BIND
    });
    if (!loaded) return loaded.error();
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

const LibPq& libpq()
{
    return g_libpq;
}

}  // namespace infra::core::store::pg
