// libFuzzer target for model answers: any body from a model endpoint is a
// Reply or an error, never a crash, in both protocols.
#include "plugins/agents/llm/providers.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    namespace llm = infra::plugins::agents::llm;
    std::string body(reinterpret_cast<const char*>(data), size);
    for (auto parse : {llm::parse_openai, llm::parse_anthropic}) {
        auto r = parse(body);
        if (!r) continue;
        // What a reply holds goes back out in the next request.
        infra::core::agent::Message m{infra::core::agent::Message::Role::assistant, r->text, r->calls, "", "", false};
        llm::Settings s;
        (void)llm::openai_body(s, {m}, nlohmann::json::array())
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        (void)llm::anthropic_body(s, {m}, nlohmann::json::array())
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    return 0;
}
