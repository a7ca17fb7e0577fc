#pragma once
// System libraries that only some commands need (libgit2, libpq, hiredis,
// libzip), opened by their soname the first time they are used, so that a
// command that needs none of them does not pay for loading them (and what
// they link) before main.
//
// A library's functions are declared as pointers of the same names:
//
//     #define ZIP_FUNCTIONS(X) X(zip_open) X(zip_close)
//     ZIP_FUNCTIONS(INFRA_DYNLIB_DECLARE)
//     ...
//     Status load() { return dynlib::load("reading zip archives", "libzip.so.4", "libzip4",
//                                         [](void* handle, std::string& missing) { ZIP_FUNCTIONS(INFRA_DYNLIB_BIND) });
//                                         }
//
// Declared in the calling code's namespace, the pointers are found before
// the library's own declarations, so that code calls the library as its
// documentation says.
#include "core/result.hpp"

#include <dlfcn.h>

#include <functional>
#include <string>

namespace infra::core::dynlib {

/// Sets fn to the library's symbol name; adds the name to missing if none.
template <typename Fn>
void bind(void* handle, Fn& fn, const char* name, std::string& missing)
{
    fn = reinterpret_cast<Fn>(::dlsym(handle, name));
    if (!fn) missing += (missing.empty() ? "" : ", ") + std::string(name);
}

/// Opens soname and binds its functions (bind_all calls bind for each and
/// collects the names it lacks). Errors say what needs the library (for
/// example "git support") and what to install (package). Call it once per
/// library (under std::call_once).
Status load(const char* needed_by, const char* soname, const char* package,
            const std::function<void(void*, std::string&)>& bind_all);

}  // namespace infra::core::dynlib

#define INFRA_DYNLIB_DECLARE(name) decltype(&::name) name = nullptr;
#define INFRA_DYNLIB_BIND(name) ::infra::core::dynlib::bind(handle, name, #name, missing);
