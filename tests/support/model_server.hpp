#pragma once
// A model endpoint on loopback for tests: it speaks the OpenAI chat
// completions protocol (POST /v1/chat/completions) and the Anthropic
// Messages API (POST /v1/messages) and plays a scripted transcript, one
// turn per request, whichever protocol asks.

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace infra::test {

struct ScriptedCall {
    std::string name;
    nlohmann::json arguments = nlohmann::json::object();
};

/// One answer of the model, rendered in the protocol of the request.
struct Turn {
    Turn() = default;
    Turn(std::vector<ScriptedCall> c, std::string t = "", int s = 200)
        : calls(std::move(c)), text(std::move(t)), status(s)
    {
    }

    std::vector<ScriptedCall> calls;
    std::string text;
    int status = 200;                    ///< non-200: an error response
    std::string retry_after;             ///< Retry-After header, if any
    std::chrono::milliseconds delay{0};  ///< wait before answering
    /// Computes calls from the request instead (e.g. to use a path it saw).
    std::function<Turn(const nlohmann::json& request)> dynamic;
};

/// What the server received.
struct Received {
    std::string path;
    nlohmann::json body;
    std::string authorization;  ///< Authorization, x-api-key or api-key, whichever came
};

class ModelServer {
public:
    ModelServer();
    ~ModelServer();
    ModelServer(const ModelServer&) = delete;
    ModelServer& operator=(const ModelServer&) = delete;

    int port() const { return m_port; }
    std::string openai_url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/v1"; }
    std::string anthropic_url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

    /// Replaces the script; turns past its end answer with finish.
    void script(std::vector<Turn> turns);
    std::vector<Received> received() const;
    /// Requests to any other path (a sandboxed command trying to reach out).
    int stray_requests() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
    int m_port = 0;
};

/// The text of every message a request carried, by role ("system", "user",
/// "assistant", "tool"), whichever protocol it used.
std::vector<std::pair<std::string, std::string>> request_texts(const nlohmann::json& body);

}  // namespace infra::test
