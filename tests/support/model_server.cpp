#include "support/model_server.hpp"

#include <httplib.h>

#include <stdexcept>
#include <thread>

namespace infra::test {

using nlohmann::json;

struct ModelServer::Impl {
    httplib::Server server;
    std::thread thread;
    mutable std::mutex mutex;
    std::vector<Turn> turns;
    std::size_t next = 0;
    std::vector<Received> received;
    int stray = 0;
    int ids = 0;
};

namespace {

std::string openai_body(const Turn& t, const std::string& id_prefix, int& ids)
{
    json msg = {{"role", "assistant"}, {"content", t.text.empty() ? json() : json(t.text)}};
    if (!t.calls.empty()) {
        json calls = json::array();
        for (const auto& c : t.calls)
            calls.push_back({{"id", id_prefix + std::to_string(++ids)},
                             {"type", "function"},
                             {"function", {{"name", c.name}, {"arguments", c.arguments.dump()}}}});
        msg["tool_calls"] = calls;
    }
    return json{
        {"id", "chatcmpl-test"},
        {"object", "chat.completion"},
        {"model", "test-model-2025"},
        {"choices", {{{"index", 0}, {"message", msg}, {"finish_reason", t.calls.empty() ? "stop" : "tool_calls"}}}},
        {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 20}, {"total_tokens", 120}}}}
        .dump();
}

std::string anthropic_body(const Turn& t, const std::string& id_prefix, int& ids)
{
    json content = json::array();
    if (!t.text.empty()) content.push_back({{"type", "text"}, {"text", t.text}});
    for (const auto& c : t.calls)
        content.push_back({{"type", "tool_use"},
                           {"id", id_prefix + std::to_string(++ids)},
                           {"name", c.name},
                           {"input", c.arguments}});
    return json{{"id", "msg_test"},
                {"type", "message"},
                {"role", "assistant"},
                {"model", "test-model-2025"},
                {"content", content},
                {"stop_reason", t.calls.empty() ? "end_turn" : "tool_use"},
                {"usage", {{"input_tokens", 100}, {"output_tokens", 20}}}}
        .dump();
}

}  // namespace

ModelServer::ModelServer() : m_impl(std::make_unique<Impl>())
{
    auto handle = [this](bool anthropic) {
        return [this, anthropic](const httplib::Request& req, httplib::Response& res) {
            Received r{req.path, json::parse(req.body, nullptr, false), ""};
            for (const char* h : {"Authorization", "x-api-key", "api-key"})
                if (req.has_header(h)) r.authorization = req.get_header_value(h);
            Turn turn;
            {
                std::lock_guard lock(m_impl->mutex);
                m_impl->received.push_back(r);
                if (m_impl->next < m_impl->turns.size()) turn = m_impl->turns[m_impl->next++];
                else turn.calls = {{"finish", {{"summary", "script over"}}}};
            }
            if (turn.dynamic) turn = turn.dynamic(r.body);
            if (turn.delay.count() > 0) std::this_thread::sleep_for(turn.delay);
            if (!turn.retry_after.empty()) res.set_header("Retry-After", turn.retry_after);
            if (turn.status != 200) {
                res.status = turn.status;
                res.set_content(
                    json{{"error", {{"message", "scripted failure " + std::to_string(turn.status)}, {"type", "test"}}}}
                        .dump(),
                    "application/json");
                return;
            }
            std::lock_guard lock(m_impl->mutex);
            res.set_content(anthropic ? anthropic_body(turn, "toolu_", m_impl->ids)
                                      : openai_body(turn, "call_", m_impl->ids),
                            "application/json");
        };
    };
    m_impl->server.Post("/v1/chat/completions", handle(false));
    m_impl->server.Post("/v1/messages", handle(true));
    auto stray = [this](const httplib::Request&, httplib::Response& res) {
        std::lock_guard lock(m_impl->mutex);
        ++m_impl->stray;
        res.set_content("stolen", "text/plain");
    };
    m_impl->server.Get(".*", stray);
    m_impl->server.Post("/exfil.*", stray);
    m_port = m_impl->server.bind_to_any_port("127.0.0.1");
    if (m_port <= 0) throw std::runtime_error("cannot bind a loopback port");
    m_impl->thread = std::thread([this] { m_impl->server.listen_after_bind(); });
}

ModelServer::~ModelServer()
{
    m_impl->server.stop();
    if (m_impl->thread.joinable()) m_impl->thread.join();
}

void ModelServer::script(std::vector<Turn> turns)
{
    std::lock_guard lock(m_impl->mutex);
    m_impl->turns = std::move(turns);
    m_impl->next = 0;
    m_impl->received.clear();
}

std::vector<Received> ModelServer::received() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->received;
}

int ModelServer::stray_requests() const
{
    std::lock_guard lock(m_impl->mutex);
    return m_impl->stray;
}

std::vector<std::pair<std::string, std::string>> request_texts(const json& body)
{
    std::vector<std::pair<std::string, std::string>> out;
    if (body.contains("system") && body["system"].is_string()) out.push_back({"system", body["system"]});
    for (const auto& m : body.value("messages", json::array())) {
        std::string role = m.value("role", "");
        if (m.contains("content") && m["content"].is_string()) {
            out.push_back({role, m["content"]});
        } else if (m.contains("content") && m["content"].is_array()) {
            for (const auto& b : m["content"]) {
                if (b.value("type", "") == "text") out.push_back({role, b.value("text", "")});
                else if (b.value("type", "") == "tool_result") out.push_back({"tool", b.value("content", "")});
            }
        }
    }
    return out;
}

}  // namespace infra::test
