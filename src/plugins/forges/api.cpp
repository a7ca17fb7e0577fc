#include "plugins/forges/api.hpp"

#include "core/dynlib.hpp"
#include "core/text.hpp"

#include <zip.h>

#include <mutex>

namespace infra::plugins::forges {

std::string base_url(std::string url)
{
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
}

std::string url_encode(const std::string& s)
{
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
        else {
            out += '%';
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        }
    }
    return out;
}

namespace {

core::Error answer_error(const ApiCall& api, const std::string& method, const std::string& path,
                         const core::http::Response& resp)
{
    json j = json::parse(resp.body, nullptr, false);
    std::string why;
    if (j.is_object() && j.contains("message"))
        why = j["message"].is_string() ? j["message"].get<std::string>() : j["message"].dump();
    if (auto v = resp.headers.find("sl-violations"); v != resp.headers.end())
        why += (why.empty() ? "" : ": ") + v->second;
    if (j.is_object() && j.contains("errors")) why += " " + j["errors"].dump();
    Errc code = resp.status == 401 || resp.status == 403   ? Errc::denied
                : resp.status == 400 || resp.status == 422 ? Errc::invalid_input
                                                           : Errc::unavailable;
    return core::make_error(code, method + " " + path + ": " + api.forge + " answered " + std::to_string(resp.status) +
                                      (why.empty() ? "" : " (" + why.substr(0, 500) + ")"));
}

}  // namespace

namespace {

// libzip is opened when an artifact is first read (core/dynlib).
// clang-format off
#define INFRA_LIBZIP_FUNCTIONS(X)                                                                  \
    X(zip_discard) X(zip_error_fini) X(zip_error_init) X(zip_error_strerror) X(zip_fclose) X(zip_fopen) \
    X(zip_fread) X(zip_open_from_source) X(zip_source_buffer_create) X(zip_source_free) X(zip_stat) X(zip_strerror)
// clang-format on

INFRA_LIBZIP_FUNCTIONS(INFRA_DYNLIB_DECLARE)

core::Status load_libzip()
{
    static core::Status loaded = core::fail(Errc::internal, "libzip was not loaded");
    static std::once_flag once;
    std::call_once(once, [] {
        loaded =
            core::dynlib::load("reading pipeline artifacts", INFRA_LIBZIP_SONAME, INFRA_LIBZIP_PACKAGE,
                               [](void* handle, std::string& missing) { INFRA_LIBZIP_FUNCTIONS(INFRA_DYNLIB_BIND) });
    });
    return loaded;
}

}  // namespace

core::Result<std::string> file_in_zip(const std::string& archive, const std::string& file)
{
    if (auto st = load_libzip(); !st) return st.error();
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* src = zip_source_buffer_create(archive.data(), archive.size(), 0, &error);
    if (!src)
        return core::fail(Errc::unavailable, std::string("cannot read the artifact: ") + zip_error_strerror(&error));
    zip_t* z = zip_open_from_source(src, ZIP_RDONLY, &error);
    if (!z) {
        zip_source_free(src);
        std::string why = zip_error_strerror(&error);
        zip_error_fini(&error);
        return core::fail(Errc::unavailable, "the artifact is not a zip archive: " + why);
    }
    struct Closer {
        zip_t* z;
        ~Closer() { zip_discard(z); }
    } closer{z};
    zip_stat_t st;
    if (zip_stat(z, file.c_str(), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        return core::fail(Errc::not_found, "the artifact has no file " + core::text::quote(file));
    if (st.size > (16u << 20))
        return core::fail(Errc::unavailable, "the artifact's " + file + " is larger than 16 MiB");
    zip_file_t* f = zip_fopen(z, file.c_str(), 0);
    if (!f) return core::fail(Errc::unavailable, "cannot open " + file + " in the artifact: " + zip_strerror(z));
    std::string out(st.size, '\0');
    zip_int64_t n = zip_fread(f, out.data(), out.size());
    zip_fclose(f);
    if (n < 0 || static_cast<zip_uint64_t>(n) != st.size)
        return core::fail(Errc::unavailable, "cannot read " + file + " in the artifact");
    return out;
}

core::Result<std::string> get_raw(const ApiCall& api, const std::string& path)
{
    core::http::Request r;
    r.url = api.base_url + path;
    r.headers = api.headers;
    r.headers.emplace_back("Authorization", "Bearer " + api.token);
    r.timeout = std::chrono::seconds(120);
    auto resp = core::http::send(r);
    if (!resp)
        return core::fail(Errc::unavailable,
                          "cannot reach " + api.forge + " at " + api.base_url + ": " + resp.error().message);
    if (resp->status == 301 || resp->status == 302 || resp->status == 303 || resp->status == 307) {
        auto location = resp->headers.find("location");
        if (location == resp->headers.end() || location->second.empty())
            return core::fail(Errc::unavailable, "GET " + path + ": " + api.forge + " redirected without a Location");
        core::http::Request follow;
        follow.url = location->second;
        if (follow.url.rfind("/", 0) == 0) {
            // A relative redirect stays on the API's host.
            auto scheme = api.base_url.find("://");
            auto slash = scheme == std::string::npos ? std::string::npos : api.base_url.find('/', scheme + 3);
            follow.url = api.base_url.substr(0, slash) + follow.url;
        }
        follow.timeout = r.timeout;
        resp = core::http::send(follow);
        if (!resp)
            return core::fail(Errc::unavailable, "GET " + path + ": cannot fetch where " + api.forge +
                                                     " redirected: " + resp.error().message);
    }
    if (resp->status >= 200 && resp->status < 300) return std::move(resp->body);
    return core::fail(answer_error(api, "GET", path, *resp));
}

namespace {

/// call_api, where 404 answers null when absent_is_null.
core::Result<json> send(const ApiCall& api, const std::string& method, const std::string& path, const json& body,
                        bool absent_is_null)
{
    core::http::Request r;
    r.method = method;
    r.url = api.base_url + path;
    r.headers = api.headers;
    r.headers.emplace_back("Authorization", "Bearer " + api.token);
    if (!body.is_null()) {
        r.body = body.dump();
        r.headers.emplace_back("Content-Type", "application/json");
    }
    r.timeout = std::chrono::seconds(30);
    auto resp = core::http::send(r);
    if (!resp)
        return core::fail(Errc::unavailable,
                          "cannot reach " + api.forge + " at " + api.base_url + ": " + resp.error().message);
    json j = json::parse(resp->body, nullptr, false);
    if (resp->status >= 200 && resp->status < 300) {
        if (resp->body.empty()) return json::object();
        if (j.is_discarded())
            return core::fail(Errc::unavailable, method + " " + path + ": " + api.forge + " answered with no JSON");
        return j;
    }
    if (absent_is_null && resp->status == 404) return json();
    return core::fail(answer_error(api, method, path, *resp));
}

}  // namespace

core::Result<std::optional<json>> find_api(const ApiCall& api, const std::string& path)
{
    auto found = send(api, "GET", path, json(), true);
    if (!found) return core::fail(found.error());
    if (found->is_null()) return std::optional<json>{};
    return std::optional<json>{std::move(*found)};
}

core::Result<json> call_api(const ApiCall& api, const std::string& method, const std::string& path, const json& body)
{
    return send(api, method, path, body, false);
}

}  // namespace infra::plugins::forges
