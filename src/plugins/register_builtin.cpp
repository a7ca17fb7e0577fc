#include "plugins/register_builtin.hpp"

#include "plugins/agents/builtin/agent.hpp"
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

    if (r.queues) r.queues->add("sqlite", queues::open_sqlite_url);
    if (r.agents) r.agents->add(agents::make_builtin());
}

}  // namespace infra::plugins
