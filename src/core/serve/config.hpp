#pragma once
// serve's options as the configuration and the command line give them:
// the address, limits, webhook secrets, API and worker tokens, approvers,
// the default repository and the schedules.
#include "core/config.hpp"
#include "core/result.hpp"
#include "core/serve/server.hpp"

#include <string>
#include <utility>

namespace infra::core::serve {

/// The webhook sources serve answers at /hooks/<source>.
constexpr const char* k_webhook_sources[] = {"github", "alertmanager", "pagerduty", "sns", "gitlab"};

/// What the command line sets over the configuration ("" = not set).
struct Flags {
    std::string listen;    ///< HOST:PORT, over serve.listen
    std::string max_body;  ///< e.g. 5MiB, over serve.max_body
};

/// host:port from --listen or serve.listen ([::1]:80 for IPv6).
Result<std::pair<std::string, int>> parse_listen(const std::string& s);

/// The server's options. Webhook secrets are read from the environment
/// variables webhooks.<source>.secret_env names (and kept out of logs);
/// each error names the key or flag and what was expected.
Result<Options> options_from(const Config& config, const Flags& flags);

}  // namespace infra::core::serve
