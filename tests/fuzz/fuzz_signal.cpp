// libFuzzer target for one signal parser (FUZZ_SOURCE): any bytes must give
// tasks that validate, or a clean error; never a crash, hang or leak.
#include "core/environment.hpp"
#include "core/signals/signal.hpp"
#include "core/task_json.hpp"
#include "plugins/register_builtin.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

using namespace infra;
using nlohmann::json;

class CheckingSink final : public core::signals::Sink {
public:
    void begin() override {}
    void task(core::AgentTask&& t) override
    {
        // As ingest does: a task whose environment has no canonical spelling
        // (a control character in a tag) is refused with an error there.
        if (!core::normalize_environment(t)) return;
        // Everything else a parser emits must survive the api source's validation.
        json j = core::to_json(t);
        auto back = core::task_from_json(j);
        if (!back) std::abort();
        // And ingest writes it as its JSON dumps, byte for byte.
        std::string line;
        core::append_task_json(line, t);
        if (line != j.dump(-1, ' ', false, json::error_handler_t::replace)) std::abort();
    }
    void commit() override {}
    void abort() override {}
    void skip(const std::string&) override {}
    void reject(const core::Error&) override {}
};

const core::signals::Registry& registry()
{
    static core::signals::Registry r = [] {
        core::signals::Registry reg;
        plugins::register_builtin({reg, nullptr, nullptr, nullptr});
        return reg;
    }();
    return r;
}

const char* const k_github_events[] = {
    "pull_request", "push", "issue_comment", "check_run", "workflow_run", "code_scanning_alert", "ping", ""};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto* parser = registry().find(FUZZ_SOURCE);
    std::string input(reinterpret_cast<const char*>(data), size);
    core::signals::IngestOptions opt;
    opt.keep_going = size > 0 && (data[0] & 1);
    if (std::string(FUZZ_SOURCE) == "github" && size > 0) {
        // The first byte picks the event header, so every handler is reached.
        opt.headers["x-github-event"] = k_github_events[data[0] % 8];
        input.erase(0, 1);
    }
    if (std::string(FUZZ_SOURCE) == "schedule")
        opt.schedules =
            nlohmann::json::parse(R"([{"name":"n","signal":{"type":"drift-detection","context":{"priority":"low"}}}])");
    auto src = core::ByteSource::from_string(std::move(input), "fuzz");
    CheckingSink sink;
    (void)parser->parse(*src, opt, sink);
    return 0;
}
