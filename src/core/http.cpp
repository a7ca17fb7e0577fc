#include "core/http.hpp"

#include "core/text.hpp"

#include <curl/curl.h>
#include <dlfcn.h>

#include <mutex>

namespace infra::core::http {
namespace {

// The libcurl functions used, resolved at first use.
struct Curl {
    bool ok = false;
    std::string error;
    CURLcode (*global_init)(long) = nullptr;
    CURL* (*easy_init)() = nullptr;
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
    CURLcode (*easy_perform)(CURL*) = nullptr;
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
    void (*easy_cleanup)(CURL*) = nullptr;
    const char* (*easy_strerror)(CURLcode) = nullptr;
    curl_slist* (*slist_append)(curl_slist*, const char*) = nullptr;
    void (*slist_free_all)(curl_slist*) = nullptr;
};

const Curl& curl()
{
    static Curl c;
    static std::once_flag once;
    std::call_once(once, [] {
        void* h = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            c.error = "cannot load libcurl (Debian package libcurl4): " + std::string(::dlerror());
            return;
        }
        auto sym = [&](auto& fn, const char* name) {
            fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(h, name));
            return fn != nullptr;
        };
        c.ok = sym(c.global_init, "curl_global_init") && sym(c.easy_init, "curl_easy_init") &&
               sym(c.easy_setopt, "curl_easy_setopt") && sym(c.easy_perform, "curl_easy_perform") &&
               sym(c.easy_getinfo, "curl_easy_getinfo") && sym(c.easy_cleanup, "curl_easy_cleanup") &&
               sym(c.easy_strerror, "curl_easy_strerror") && sym(c.slist_append, "curl_slist_append") &&
               sym(c.slist_free_all, "curl_slist_free_all");
        if (!c.ok) {
            c.error = "libcurl lacks a function infra-agent needs";
            return;
        }
        c.global_init(CURL_GLOBAL_DEFAULT);
    });
    return c;
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* out)
{
    auto* s = static_cast<std::string*>(out);
    if (s->size() > (64u << 20)) return 0;  // a response past 64 MiB is refused
    s->append(data, size * n);
    return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* out)
{
    auto* h = static_cast<std::map<std::string, std::string>*>(out);
    std::string_view line(data, size * n);
    auto colon = line.find(':');
    if (colon != std::string_view::npos)
        (*h)[text::lower(text::trim(line.substr(0, colon)))] = std::string(text::trim(line.substr(colon + 1)));
    return size * n;
}

}  // namespace

Result<Response> send(const Request& req)
{
    const Curl& c = curl();
    if (!c.ok) return fail(Errc::unavailable, c.error);
    CURL* h = c.easy_init();
    if (!h) return fail(Errc::unavailable, "cannot start an HTTP request");
    Response resp;
    curl_slist* headers = nullptr;
    for (const auto& [k, v] : req.headers) headers = c.slist_append(headers, (k + ": " + v).c_str());
    c.easy_setopt(h, CURLOPT_URL, req.url.c_str());
    c.easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
        c.easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
        c.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
    c.easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    c.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    c.easy_setopt(h, CURLOPT_WRITEDATA, &resp.body);
    c.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    c.easy_setopt(h, CURLOPT_HEADERDATA, &resp.headers);
    c.easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    c.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(req.connect_timeout.count()));
    c.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    c.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    c.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = c.easy_perform(h);
    if (rc == CURLE_OK) c.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
    c.slist_free_all(headers);
    c.easy_cleanup(h);
    if (rc != CURLE_OK) {
        // The URL without its query (which may carry a token) names the peer.
        std::string where = req.url.substr(0, req.url.find('?'));
        return fail(Errc::unavailable, req.method + " " + where + ": " + c.easy_strerror(rc));
    }
    return resp;
}

}  // namespace infra::core::http
