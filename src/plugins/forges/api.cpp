#include "plugins/forges/api.hpp"

namespace infra::plugins::forges {

using core::Errc;
using nlohmann::json;

core::Result<json> call_api(const ApiCall& api, const std::string& method, const std::string& path, const json& body)
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
    if (!resp) return core::fail(Errc::unavailable, "cannot reach " + api.forge + " at " + api.base_url + ": " + resp.error().message);
    json j = json::parse(resp->body, nullptr, false);
    if (resp->status >= 200 && resp->status < 300) {
        if (resp->body.empty()) return json::object();
        if (j.is_discarded()) return core::fail(Errc::unavailable, method + " " + path + ": " + api.forge + " answered with no JSON");
        return j;
    }
    std::string why;
    if (j.is_object() && j.contains("message"))
        why = j["message"].is_string() ? j["message"].get<std::string>() : j["message"].dump();
    if (auto v = resp->headers.find("sl-violations"); v != resp->headers.end()) why += (why.empty() ? "" : ": ") + v->second;
    if (j.is_object() && j.contains("errors")) why += " " + j["errors"].dump();
    Errc code = resp->status == 401 || resp->status == 403   ? Errc::denied
                : resp->status == 400 || resp->status == 422 ? Errc::invalid_input
                                                             : Errc::unavailable;
    return core::fail(code, method + " " + path + ": " + api.forge + " answered " + std::to_string(resp->status) +
                                (why.empty() ? "" : " (" + why.substr(0, 500) + ")"));
}

}  // namespace infra::plugins::forges
