#include "plugins/register_builtin.hpp"

#include "plugins/agents/builtin/agent.hpp"
#include "plugins/agents/exec/agent.hpp"
#include "plugins/agents/llm/agent.hpp"
#include "plugins/credentials/providers.hpp"
#include "plugins/forges/forges.hpp"
#include "plugins/queues/postgres_queue.hpp"
#include "plugins/queues/redis_queue.hpp"
#include "plugins/queues/sqlite_queue.hpp"
#include "plugins/signals/parsers.hpp"

namespace infra::plugins {

void register_builtin(Registries r)
{
    using namespace signals;
    // The order is the order of `ingest --list` and of detection ties.
    r.signals.add(make_github());
    r.signals.add(make_alertmanager());
    r.signals.add(make_pagerduty());
    r.signals.add(make_cloudwatch());
    r.signals.add(make_checkov());
    r.signals.add(make_prowler());
    r.signals.add(make_trivy());
    r.signals.add(make_tfsec());
    r.signals.add(make_sarif());
    r.signals.add(make_chat());
    r.signals.add(make_api());
    r.signals.add(make_schedule());

    if (r.queues) {
        r.queues->add("sqlite", queues::open_sqlite_url);
        r.queues->add("postgres", queues::open_postgres_url);
        r.queues->add("redis", queues::open_redis_url);
    }
    if (r.credentials) credentials::register_providers(*r.credentials);
    if (r.forges) forges::register_forges(*r.forges);
    if (!r.agents) return;
    auto config = r.config;
    auto llm = agents::make_llm([config]() -> core::Result<agents::llm::Settings> {
        if (!config) return agents::llm::settings_from(core::Config());
        auto c = config();
        if (!c) return core::fail(c.error());
        return agents::llm::settings_from(**c);
    });
    r.agents->add(llm);
    // agents.fallback: llm hands findings the builtin agent cannot fix to the llm agent.
    r.agents->add(agents::make_builtin([config, llm]() -> core::Result<core::agent::Agent*> {
        if (!config) return nullptr;
        auto c = config();
        if (!c) return core::fail(c.error());
        std::string fallback = (*c)->get_or("agents.fallback", "none");
        if (fallback == "none") return nullptr;
        if (fallback != "llm")
            return core::fail(core::Errc::invalid_input, "agents.fallback: unknown agent '" + fallback + "'",
                              "use llm or none");
        auto settings = agents::llm::settings_from(**c);
        if (!settings) return core::fail(settings.error());
        return llm.get();
    }));
    r.agents->add(agents::make_exec([config]() -> core::Result<std::vector<std::string>> {
        std::vector<std::string> argv;
        if (config) {
            auto c = config();
            if (!c) return core::fail(c.error());
            argv = (*c)->get_list("exec.command");
        }
        if (argv.empty())
            return core::fail(core::Errc::invalid_input, "exec.command is not set",
                              "set it in config.yaml to the agent command, e.g. exec: {command: [./fix.sh]}");
        return argv;
    }));
}

}  // namespace infra::plugins
