#include "plugins/agents/llm/providers.hpp"
#include "core/json_access.hpp"

#include "core/http.hpp"
#include "core/log.hpp"

#include <cstdlib>
#include <random>
#include <thread>

namespace infra::plugins::agents::llm {
namespace {

using core::Errc;
using core::Result;
using core::agent::Message;
using core::agent::Reply;
using core::agent::ToolRequest;
using nlohmann::json;

std::string env(const char* name)
{
    const char* v = std::getenv(name);
    return v ? v : "";
}

const json& member(const json& j, const char* key)
{
    static const json k_null;
    if (!j.is_object()) return k_null;
    auto it = j.find(key);
    return it == j.end() ? k_null : *it;
}

std::string string_of(const json& j)
{
    return j.is_string() ? j.get<std::string>() : std::string();
}

long long_of(const json& j)
{
    return j.is_number_integer() ? j.get<long>() : 0;
}

/// The API's own words for an error response, cut short and redacted.
std::string api_error(const std::string& body)
{
    auto j = json::parse(body, nullptr, false);
    std::string msg = string_of(member(member(j, "error"), "message"));
    if (msg.empty()) msg = string_of(member(j, "error"));
    if (msg.empty()) msg = string_of(member(j, "message"));
    if (msg.empty()) msg = body;
    if (msg.size() > 300) msg = msg.substr(0, 300) + "...";
    return core::log::redact(msg);
}

class HttpModel final : public core::agent::Model {
public:
    HttpModel(Settings s, std::chrono::steady_clock::time_point deadline, std::function<bool()> cancelled)
        : m_s(std::move(s)), m_deadline(deadline), m_cancelled(std::move(cancelled))
    {
    }

    std::string name() const override
    {
        static const char* names[] = {"openai", "azure", "anthropic"};
        return std::string(names[static_cast<int>(m_s.provider)]) + ":" + m_s.model;
    }

    Result<Reply> complete(const std::vector<Message>& messages, const json& tools) override
    {
        core::http::Request req;
        req.method = "POST";
        req.headers.push_back({"Content-Type", "application/json"});
        json body;
        switch (m_s.provider) {
        case Provider::openai:
            req.url = m_s.base_url + "/chat/completions";
            if (!m_s.api_key.empty()) req.headers.push_back({"Authorization", "Bearer " + m_s.api_key});
            body = openai_body(m_s, messages, tools);
            break;
        case Provider::azure:
            req.url = m_s.base_url + "/chat/completions?api-version=" + m_s.api_version;
            req.headers.push_back({"api-key", m_s.api_key});
            body = openai_body(m_s, messages, tools);
            break;
        case Provider::anthropic:
            req.url = m_s.base_url + "/v1/messages";
            req.headers.push_back({"x-api-key", m_s.api_key});
            req.headers.push_back({"anthropic-version", "2023-06-01"});
            body = anthropic_body(m_s, messages, tools);
            break;
        }
        req.body = body.dump(-1, ' ', false, json::error_handler_t::replace);

        std::mt19937 rng(std::random_device{}());
        std::string last;
        for (int attempt = 0;; ++attempt) {
            auto start = std::chrono::steady_clock::now();
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(m_deadline - start);
            if (left.count() <= 0)
                return core::fail(Errc::unavailable, "the time limit passed" + (last.empty() ? "" : "; last: " + last));
            req.timeout = std::min(m_s.timeout, left);
            req.connect_timeout = std::min(req.connect_timeout, left);
            auto resp = core::http::send(req);
            double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
            std::chrono::milliseconds wait = m_s.backoff * (1 << std::min(attempt, 5));
            if (resp && resp->status / 100 == 2) {
                auto reply =
                    m_s.provider == Provider::anthropic ? parse_anthropic(resp->body) : parse_openai(resp->body);
                if (reply) reply->ms = ms;
                return reply;
            }
            if (!resp) {
                last = resp.error().message;
            } else {
                last = "HTTP " + std::to_string(resp->status) + ": " + api_error(resp->body);
                bool transient = resp->status == 429 || resp->status == 408 || resp->status >= 500;
                if (!transient) {
                    std::string hint;
                    if (resp->status == 401 || resp->status == 403)
                        hint = "check the API key (llm.api_key_env names the variable that holds it)";
                    else if (resp->status == 404) hint = "check llm.base_url and llm.model";
                    return core::fail(Errc::unavailable, "the model endpoint refused the request: " + last, hint);
                }
                // Retry-After in seconds, as OpenAI and Anthropic send it.
                auto ra = resp->headers.find("retry-after");
                if (ra != resp->headers.end()) {
                    char* end = nullptr;
                    double secs = std::strtod(ra->second.c_str(), &end);
                    if (end != ra->second.c_str() && secs >= 0)
                        wait = std::chrono::milliseconds(static_cast<long long>(secs * 1000));
                }
            }
            if (attempt >= m_s.retries)
                return core::fail(Errc::unavailable,
                                  "the model endpoint failed " + std::to_string(attempt + 1) + " times; last: " + last);
            wait = std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(30));
            // Full jitter on computed waits keeps many workers from retrying in step.
            if (wait.count() > 1) wait = std::chrono::milliseconds(wait.count() / 2 + rng() % (wait.count() / 2 + 1));
            auto until = std::chrono::steady_clock::now() + wait;
            while (std::chrono::steady_clock::now() < until) {
                if (m_cancelled && m_cancelled())
                    return core::fail(Errc::unavailable,
                                      "stopped while waiting to retry the model endpoint; last: " + last);
                std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
                    std::chrono::milliseconds(50),
                    std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()) +
                        std::chrono::milliseconds(1)));
            }
        }
    }

private:
    Settings m_s;
    std::chrono::steady_clock::time_point m_deadline;
    std::function<bool()> m_cancelled;
};

}  // namespace

Result<Settings> settings_from(const core::Config& config)
{
    Settings s;
    std::string provider = config.get_or("llm.provider", "");
    if (provider.empty())
        provider = env("OPENAI_API_KEY").empty() && !env("ANTHROPIC_API_KEY").empty() ? "anthropic" : "openai";
    if (provider == "openai") s.provider = Provider::openai;
    else if (provider == "azure") s.provider = Provider::azure;
    else if (provider == "anthropic") s.provider = Provider::anthropic;
    else
        return core::fail(Errc::invalid_input, "llm.provider: unknown provider '" + provider + "'",
                          "use openai (also for Ollama, vLLM and llama.cpp), azure or anthropic");

    std::string default_url, default_key;
    switch (s.provider) {
    case Provider::openai:
        default_url = env("OPENAI_BASE_URL").empty() ? "https://api.openai.com/v1" : env("OPENAI_BASE_URL");
        default_key = "OPENAI_API_KEY";
        break;
    case Provider::azure:
        default_key = "AZURE_OPENAI_API_KEY";
        break;
    case Provider::anthropic:
        default_url = env("ANTHROPIC_BASE_URL").empty() ? "https://api.anthropic.com" : env("ANTHROPIC_BASE_URL");
        default_key = "ANTHROPIC_API_KEY";
        break;
    }
    s.base_url = config.get_or("llm.base_url", default_url);
    while (!s.base_url.empty() && s.base_url.back() == '/') s.base_url.pop_back();
    if (s.base_url.empty())
        return core::fail(Errc::invalid_input, "llm.base_url is not set",
                          "for azure: https://NAME.openai.azure.com/openai/deployments/DEPLOYMENT");
    if (s.base_url.rfind("http://", 0) != 0 && s.base_url.rfind("https://", 0) != 0)
        return core::fail(Errc::invalid_input, "llm.base_url: '" + s.base_url + "' is not an http(s) URL");
    s.model = config.get_or("llm.model", s.provider == Provider::azure ? "deployment" : "");
    if (s.model.empty())
        return core::fail(Errc::invalid_input, "llm.model is not set", "e.g. infra-agent config: llm: {model: gpt-4o}");

    std::string key_env = config.get_or("llm.api_key_env", default_key);
    s.api_key = env(key_env.c_str());
    core::log::add_secret(s.api_key);
    // Local servers (Ollama, vLLM, llama.cpp) need no key; the hosted APIs do.
    bool hosted = s.base_url.find("api.openai.com") != std::string::npos ||
                  s.base_url.find("api.anthropic.com") != std::string::npos || s.provider == Provider::azure;
    if (s.api_key.empty() && hosted)
        return core::fail(Errc::invalid_input, "no API key: $" + key_env + " is empty",
                          "export " + key_env + ", or set llm.api_key_env to the variable that holds the key");
    s.api_version = config.get_or("llm.api_version", "2024-10-21");
    auto int_key = [&](const char* key, int& out, int lo, int hi) -> core::Status {
        auto v = config.get(key);
        if (!v) return {};
        char* end = nullptr;
        long n = std::strtol(v->c_str(), &end, 10);
        if (v->empty() || *end || n < lo || n > hi)
            return core::fail(Errc::invalid_input, std::string(key) + ": '" + *v + "' is not a whole number from " +
                                                       std::to_string(lo) + " to " + std::to_string(hi));
        out = static_cast<int>(n);
        return {};
    };
    int timeout_s = 120;
    if (auto st = int_key("llm.max_tokens", s.max_tokens, 1, 1000000); !st) return core::fail(st.error());
    if (auto st = int_key("llm.retries", s.retries, 0, 20); !st) return core::fail(st.error());
    if (auto st = int_key("llm.timeout_seconds", timeout_s, 1, 3600); !st) return core::fail(st.error());
    s.timeout = std::chrono::seconds(timeout_s);
    return s;
}

std::unique_ptr<core::agent::Model> make_model(Settings settings, std::chrono::steady_clock::time_point deadline,
                                               std::function<bool()> cancelled)
{
    return std::make_unique<HttpModel>(std::move(settings), deadline, std::move(cancelled));
}

json openai_body(const Settings& s, const std::vector<Message>& messages, const json& tools)
{
    json msgs = json::array();
    for (const auto& m : messages) {
        switch (m.role) {
        case Message::Role::system:
            msgs.push_back({{"role", "system"}, {"content", m.content}});
            break;
        case Message::Role::user:
            msgs.push_back({{"role", "user"}, {"content", m.content}});
            break;
        case Message::Role::assistant: {
            json a = {{"role", "assistant"}, {"content", m.content.empty() ? json() : json(m.content)}};
            if (!m.calls.empty()) {
                json calls = json::array();
                for (const auto& c : m.calls)
                    calls.push_back({{"id", c.id},
                                     {"type", "function"},
                                     {"function", {{"name", c.name}, {"arguments", c.arguments.dump()}}}});
                a["tool_calls"] = calls;
            }
            msgs.push_back(a);
            break;
        }
        case Message::Role::tool:
            msgs.push_back({{"role", "tool"}, {"tool_call_id", m.tool_call_id}, {"content", m.content}});
            break;
        }
    }
    json body = {{"model", s.model}, {"messages", msgs}, {"max_tokens", s.max_tokens}};
    if (tools.is_array() && !tools.empty()) {
        json t = json::array();
        for (const auto& spec : tools) t.push_back({{"type", "function"}, {"function", spec}});
        body["tools"] = t;
        body["tool_choice"] = "auto";
    }
    return body;
}

json anthropic_body(const Settings& s, const std::vector<Message>& messages, const json& tools)
{
    // The Messages API alternates user and assistant turns: tool results and
    // any user text that follows them share one user turn.
    std::string system;
    json msgs = json::array();
    auto user_turn = [&]() -> json& {
        if (msgs.empty() || msgs.back()["role"] != "user")
            msgs.push_back({{"role", "user"}, {"content", json::array()}});
        return msgs.back()["content"];
    };
    for (const auto& m : messages) {
        switch (m.role) {
        case Message::Role::system:
            system += (system.empty() ? "" : "\n\n") + m.content;
            break;
        case Message::Role::user:
            user_turn().push_back({{"type", "text"}, {"text", m.content}});
            break;
        case Message::Role::assistant: {
            json content = json::array();
            if (!m.content.empty()) content.push_back({{"type", "text"}, {"text", m.content}});
            for (const auto& c : m.calls)
                content.push_back({{"type", "tool_use"},
                                   {"id", c.id},
                                   {"name", c.name},
                                   {"input", c.arguments.is_object() ? c.arguments : json::object()}});
            if (content.empty()) content.push_back({{"type", "text"}, {"text", "(no answer)"}});
            msgs.push_back({{"role", "assistant"}, {"content", content}});
            break;
        }
        case Message::Role::tool:
            user_turn().push_back({{"type", "tool_result"},
                                   {"tool_use_id", m.tool_call_id},
                                   {"content", m.content},
                                   {"is_error", m.tool_error}});
            break;
        }
    }
    json body = {{"model", s.model}, {"max_tokens", s.max_tokens}, {"messages", msgs}};
    if (!system.empty()) body["system"] = system;
    if (tools.is_array() && !tools.empty()) {
        json t = json::array();
        for (const auto& spec : tools)
            t.push_back({{"name", core::string_member(spec, "name")},
                         {"description", core::string_member(spec, "description")},
                         {"input_schema", core::object_member(spec, "parameters")}});
        body["tools"] = t;
    }
    return body;
}

Result<Reply> parse_openai(const std::string& body)
{
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return core::fail(Errc::unavailable, "the model endpoint answered with something that is not JSON");
    const json& choices = member(j, "choices");
    if (!choices.is_array() || choices.empty() || !member(choices[0], "message").is_object())
        return core::fail(Errc::unavailable, "the model's answer has no choices[0].message");
    const json& msg = choices[0]["message"];
    Reply r;
    r.text = string_of(member(msg, "content"));
    r.stop_reason = string_of(member(choices[0], "finish_reason"));
    r.model = string_of(member(j, "model"));
    r.input_tokens = long_of(member(member(j, "usage"), "prompt_tokens"));
    r.output_tokens = long_of(member(member(j, "usage"), "completion_tokens"));
    const json& calls = member(msg, "tool_calls");
    if (calls.is_array()) {
        for (const auto& c : calls) {
            ToolRequest t;
            t.id = string_of(member(c, "id"));
            t.name = string_of(member(member(c, "function"), "name"));
            const json& a = member(member(c, "function"), "arguments");
            // Arguments come as JSON text; text that is not JSON stays a
            // string, and the tool box refuses it with a message to the model.
            if (a.is_string()) {
                auto parsed = json::parse(a.get<std::string>(), nullptr, false);
                t.arguments = parsed.is_discarded() ? a : parsed;
                if (a.get<std::string>().empty()) t.arguments = json::object();
            } else if (a.is_object()) {
                t.arguments = a;
            } else {
                t.arguments = json::object();
            }
            if (t.name.empty()) return core::fail(Errc::unavailable, "the model asked for a tool call without a name");
            r.calls.push_back(std::move(t));
        }
    }
    return r;
}

Result<Reply> parse_anthropic(const std::string& body)
{
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return core::fail(Errc::unavailable, "the model endpoint answered with something that is not JSON");
    const json& content = member(j, "content");
    if (!content.is_array()) return core::fail(Errc::unavailable, "the model's answer has no content list");
    Reply r;
    r.stop_reason = string_of(member(j, "stop_reason"));
    r.model = string_of(member(j, "model"));
    r.input_tokens = long_of(member(member(j, "usage"), "input_tokens"));
    r.output_tokens = long_of(member(member(j, "usage"), "output_tokens"));
    for (const auto& block : content) {
        std::string type = string_of(member(block, "type"));
        if (type == "text") {
            r.text += (r.text.empty() ? "" : "\n") + string_of(member(block, "text"));
        } else if (type == "tool_use") {
            ToolRequest t{string_of(member(block, "id")), string_of(member(block, "name")), member(block, "input")};
            if (t.arguments.is_null()) t.arguments = json::object();
            if (t.name.empty()) return core::fail(Errc::unavailable, "the model asked for a tool call without a name");
            r.calls.push_back(std::move(t));
        }
    }
    return r;
}

}  // namespace infra::plugins::agents::llm
