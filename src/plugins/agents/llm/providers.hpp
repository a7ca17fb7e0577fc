#pragma once
// Model endpoints: the OpenAI-compatible chat completions protocol (OpenAI,
// Azure OpenAI, Ollama, vLLM, llama.cpp's server) and the Anthropic
// Messages API, with tool calling, retries with backoff on 429 and 5xx,
// and token usage and latency in every reply.

#include "core/agent/model.hpp"
#include "core/config.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace infra::plugins::agents::llm {

enum class Provider { openai, azure, anthropic };

/// Where the model is and how to reach it; from config and the environment.
struct Settings {
    Provider provider = Provider::openai;
    std::string base_url;  ///< without a trailing '/'
    std::string model;
    std::string api_key;      ///< the secret itself; never logged, never in an error
    std::string api_version;  ///< Azure's api-version query parameter
    int max_tokens = 4096;
    int retries = 4;                          ///< further attempts after a 429, a 5xx or a network error
    std::chrono::milliseconds backoff{1000};  ///< the first wait; doubles each time, capped at 30 s
    std::chrono::milliseconds timeout{120000};
};

/// Reads llm.provider, llm.base_url, llm.model, llm.api_key_env,
/// llm.max_tokens, llm.retries and llm.api_version, with OPENAI_BASE_URL,
/// OPENAI_API_KEY, ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY and
/// AZURE_OPENAI_API_KEY as the defaults.
core::Result<Settings> settings_from(const core::Config& config);

/// A model over the endpoint. No request outlives deadline; cancelled is
/// polled while waiting to retry.
std::unique_ptr<core::agent::Model> make_model(Settings settings, std::chrono::steady_clock::time_point deadline,
                                               std::function<bool()> cancelled);

/// The request body a provider gets for a conversation (exposed for tests).
nlohmann::json openai_body(const Settings& s, const std::vector<core::agent::Message>& messages,
                           const nlohmann::json& tools);
nlohmann::json anthropic_body(const Settings& s, const std::vector<core::agent::Message>& messages,
                              const nlohmann::json& tools);

/// Parses a provider's response body into a Reply.
core::Result<core::agent::Reply> parse_openai(const std::string& body);
core::Result<core::agent::Reply> parse_anthropic(const std::string& body);

}  // namespace infra::plugins::agents::llm
