#pragma once
// An HTTP client for APIs (model endpoints, forges, clouds) over libcurl.
// libcurl is loaded when the first request is made, so commands that make
// none (ingest, policy eval) do not pay for loading it and the thirty
// libraries it brings.

#include "core/result.hpp"

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace infra::core::http {

struct Request {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout{120000};
    std::chrono::milliseconds connect_timeout{10000};
};

struct Response {
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  ///< names in lower case
};

/// Sends one request. An Error means no HTTP response (DNS, connect, TLS,
/// timeout); any HTTP status is a Response. Messages never contain header
/// values, so credentials in headers cannot leak into errors.
Result<Response> send(const Request& req);

}  // namespace infra::core::http
