#pragma once
// The HTTP service behind `infra-agent serve`: webhooks (/hooks/github,
// /hooks/alertmanager, /hooks/pagerduty, /hooks/sns, /hooks/gitlab), the REST API
// (/v1/tasks ...), the broker API of distributed workers (/v1/credentials),
// /metrics, /healthz and /readyz. Every task it makes is
// admitted through core/intake, in group commits: concurrent deliveries
// share one transaction, so a burst costs a few fsyncs, not one each.

#include "core/approval.hpp"
#include "core/creds/broker.hpp"
#include "core/events/event.hpp"
#include "core/policy/engine.hpp"
#include "core/queue/queue.hpp"
#include "core/result.hpp"
#include "core/serve/metrics.hpp"
#include "core/serve/reviews.hpp"
#include "core/signals/signal.hpp"
#include "core/store/db.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace infra::core::serve {

/// A bearer token for the REST API: who it is, and the SHA-256 of the token.
struct Token {
    std::string name;
    std::string sha256;
};

/// Reads an API tokens file: one "NAME TOKEN" or "NAME sha256:HEX" per line,
/// '#' comments. Errors give file:line.
Result<std::vector<Token>> load_tokens(const std::string& path);

struct Options {
    std::string host = "127.0.0.1";
    int port = 8787;                             ///< 0 picks a free port
    std::size_t max_body = 5u << 20;             ///< larger bodies get 413
    std::chrono::seconds io_timeout{10};         ///< per read and write: slow clients are cut off
    int threads = 64;                            ///< connections served at once
    std::vector<Token> tokens;                   ///< for /v1/*; none = the API refuses everyone
    std::vector<Token> worker_tokens;            ///< for /v1/credentials (distributed workers) only
    std::map<std::string, std::string> secrets;  ///< webhook source -> shared secret
    std::string repository_id;                   ///< for tasks whose signal names none
    nlohmann::json schedules = nlohmann::json::array();
    /// Who may approve for which group (approvals.groups): a token's name
    /// approves only for the groups it is a member of.
    approval::Groups approvers;
};

struct Deps {
    const signals::Registry& signals;
    const policy::Engine& engine;
    store::Db& state;        ///< used by the admission thread only
    std::string state_path;  ///< read by the API on its own connection
    queue::Queue& queue;
    events::EventSink& events;
    /// The broker behind /v1/credentials: mints what a request asks once
    /// the server has bound it to the caller's lease and task (scope, task,
    /// trace, lifetime, lease and the lease's end), and records the mint;
    /// empty = the endpoint is off.
    std::function<Result<nlohmann::json>(const creds::MintRequest& request)> mint;
    /// The forge where reviewers approve infra-agent's pull requests
    /// (core/serve/reviews.hpp); null = reviews and comments there are not read.
    change::Reviewers* reviewers = nullptr;
    /// Runs the gated apply that `/infra-agent apply` asks for; empty = refused.
    ApplyFn apply;
    /// Follows a bot pull request a forge says was closed: (forge,
    /// repository, number, "merged" or "closed", by whom) -> the transition
    /// made, or null when it is none of ours; empty = not followed here.
    std::function<Result<nlohmann::json>(const std::string& forge, const std::string& repository, std::int64_t number,
                                         const std::string& state, const std::string& by)>
        follow;
};

class Server {
public:
    Server(Options options, Deps deps);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds the listening socket; errors name the address.
    Status bind();
    int port() const;
    /// Serves until stop(); returns once in-flight requests are answered.
    void run();
    /// Stops accepting; safe from any thread or a signal-watching thread.
    void stop();

    /// Admits tasks as if they came from a webhook (the scheduler uses it).
    Result<std::vector<std::string>> submit(const std::string& source, std::vector<AgentTask> tasks);

    Metrics& metrics();

private:
    class Impl;
    std::unique_ptr<Impl> m;
};

}  // namespace infra::core::serve
