#include "core/agent/model.hpp"
#include "core/json_access.hpp"

#include <fstream>

namespace infra::core::agent {

json to_json(const Reply& r)
{
    json calls = json::array();
    for (const auto& c : r.calls) calls.push_back({{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}});
    return {
        {"text", r.text},        {"calls", calls},  {"inputTokens", r.input_tokens}, {"outputTokens", r.output_tokens},
        {"stop", r.stop_reason}, {"model", r.model}};
}

Reply reply_from_json(const json& j)
{
    Reply r;
    r.text = core::string_member(j, "text");
    for (const auto& c : core::array_member(j, "calls"))
        r.calls.push_back(
            {core::string_member(c, "id"), core::string_member(c, "name"), core::object_member(c, "arguments")});
    r.input_tokens = core::int_member(j, "inputTokens");
    r.output_tokens = core::int_member(j, "outputTokens");
    r.stop_reason = core::string_member(j, "stop");
    r.model = core::string_member(j, "model");
    return r;
}

json to_json(const Message& m)
{
    static const char* roles[] = {"system", "user", "assistant", "tool"};
    json j = {{"role", roles[static_cast<int>(m.role)]}, {"content", m.content}};
    if (!m.calls.empty()) {
        json calls = json::array();
        for (const auto& c : m.calls) calls.push_back({{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}});
        j["calls"] = calls;
    }
    if (!m.tool_call_id.empty()) j["toolCallId"] = m.tool_call_id;
    return j;
}

Result<Reply> RecordingModel::complete(const std::vector<Message>& messages, const json& tools)
{
    auto r = m_inner.complete(messages, tools);
    std::ofstream out(m_path, std::ios::app);
    json request = json::array();
    for (const auto& m : messages) request.push_back(to_json(m));
    json line = {{"model", m_inner.name()}, {"request", request}};
    if (r) line["reply"] = to_json(*r);
    else line["error"] = r.error().message;
    out << line.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    if (!out) return fail(Errc::unavailable, "cannot record to '" + m_path + "'");
    return r;
}

Result<ReplayModel> ReplayModel::open(const std::string& path)
{
    std::ifstream in(path);
    if (!in) return fail(Errc::not_found, "cannot read the recording '" + path + "'");
    ReplayModel m;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (line.empty()) continue;
        auto j = json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object())
            return fail(Errc::invalid_input, "'" + path + "': line " + std::to_string(n) + ": not a recorded exchange");
        if (m.m_name.empty()) m.m_name = "replay:" + core::string_member(j, "model");
        if (j.contains("reply")) m.m_replies.push_back(reply_from_json(j["reply"]));
    }
    return m;
}

Result<Reply> ReplayModel::complete(const std::vector<Message>&, const json&)
{
    if (m_next >= m_replies.size())
        return fail(Errc::invalid_input, "the recording has no turn " + std::to_string(m_next + 1),
                    "the run took a different path than the recorded one");
    return m_replies[m_next++];
}

}  // namespace infra::core::agent
