#pragma once
// Language models as the agent loop sees them: a conversation in, a reply
// (text and tool calls) out. Adapters for the OpenAI-compatible and the
// Anthropic protocols live in src/plugins/agents/llm.

#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace infra::core::agent {

using nlohmann::json;

/// A tool call the model asks for.
struct ToolRequest {
    std::string id;
    std::string name;
    json arguments = json::object();
};

/// One message of a conversation.
struct Message {
    enum class Role { system, user, assistant, tool } role = Role::user;
    std::string content;
    std::vector<ToolRequest> calls;  ///< assistant messages
    std::string tool_call_id;        ///< tool results
    std::string tool_name;           ///< tool results
    bool tool_error = false;         ///< tool results
};

/// What the model answered, and what it cost.
struct Reply {
    std::string text;
    std::vector<ToolRequest> calls;
    long input_tokens = 0;
    long output_tokens = 0;
    std::string stop_reason;
    std::string model;
    double ms = 0;
};

class Model {
public:
    virtual ~Model() = default;
    /// "openai:gpt-4o", for events.
    virtual std::string name() const = 0;
    /// One turn. tools are the JSON Schemas of the tools on offer.
    virtual Result<Reply> complete(const std::vector<Message>& messages, const json& tools) = 0;
};

/// A model that records every exchange to a JSON Lines file, around another.
class RecordingModel final : public Model {
public:
    RecordingModel(Model& inner, std::string path) : m_inner(inner), m_path(std::move(path)) {}
    std::string name() const override { return m_inner.name(); }
    Result<Reply> complete(const std::vector<Message>& messages, const json& tools) override;

private:
    Model& m_inner;
    std::string m_path;
};

/// A model that plays back a recorded file, turn by turn, offline and
/// deterministically; a turn past the end is an error.
class ReplayModel final : public Model {
public:
    static Result<ReplayModel> open(const std::string& path);
    std::string name() const override { return m_name; }
    Result<Reply> complete(const std::vector<Message>& messages, const json& tools) override;

private:
    std::vector<Reply> m_replies;
    std::size_t m_next = 0;
    std::string m_name;
};

json to_json(const Reply& r);
Reply reply_from_json(const json& j);
json to_json(const Message& m);

}  // namespace infra::core::agent
