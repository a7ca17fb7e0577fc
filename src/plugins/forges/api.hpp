#pragma once
// One JSON request to a forge's REST API: bearer token, JSON body, and an
// error that names the call, the status and the forge's own explanation.

#include "core/http.hpp"
#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace infra::plugins::forges {

// Names the forges' code uses throughout.
using core::Errc;
using nlohmann::json;

struct ApiCall {
    std::string forge;  ///< "GitHub", "GitLab": for messages
    std::string base_url;
    std::string token;
    std::vector<std::pair<std::string, std::string>> headers;  ///< besides Authorization and Content-Type
};

/// Ok when a call whose answer is not needed succeeded, else its error.
inline core::Status status_of(const core::Result<json>& answer)
{
    if (!answer) return core::fail(answer.error());
    return {};
}

/// A base URL without its trailing slashes, so that paths join it with one.
std::string base_url(std::string url);

/// s with every byte but letters, digits and -_.~ percent-encoded (a
/// GitLab project path or a branch in a URL).
std::string url_encode(const std::string& s);

/// Sends method path with body (null: none). 2xx gives the JSON answer ({}
/// for an empty one); 401/403 are Errc::denied, 400/422 Errc::invalid_input,
/// anything else Errc::unavailable, with the forge's message (and Prism's
/// sl-violations) in the error.
core::Result<nlohmann::json> call_api(const ApiCall& api, const std::string& method, const std::string& path,
                                      const nlohmann::json& body);

/// GET path, where 404 means there is none (a membership, a record): the
/// JSON answer, or nothing on 404. Other errors as call_api's.
core::Result<std::optional<nlohmann::json>> find_api(const ApiCall& api, const std::string& path);

/// The body of GET path as it is (logs, files, archives), following one
/// redirect to wherever the API keeps it (without the token: the address
/// it gives is signed). Errors as call_api's.
core::Result<std::string> get_raw(const ApiCall& api, const std::string& path);

/// The file named file in a zip archive held in memory (an artifact), at
/// most 16 MiB of it.
core::Result<std::string> file_in_zip(const std::string& archive, const std::string& file);

}  // namespace infra::plugins::forges
