#include "core/open_intake.hpp"

namespace infra::core {

Intake::~Intake()
{
    queue.reset();
}

Result<std::vector<intake::Admitted>> Intake::admit(std::vector<AgentTask> tasks, const intake::Options& options)
{
    auto out = intake::admit(std::move(tasks), *engine, *state, *queue, *events, options);
    events->flush();
    return out;
}

Result<std::unique_ptr<Intake>> open_intake(const Site& site, const PolicySources& policies,
                                            const std::string& queue_flag)
{
    auto a = std::make_unique<Intake>();
    auto engine = site.load_engine(policies);
    if (!engine) return engine.error();
    a->engine = std::move(*engine);
    if (auto st = open_recorder(site, *a); !st) return st.error();
    auto queue = site.open_queue(queue_flag, a->events);
    if (!queue) return queue.error();
    a->queue = std::move(*queue);
    return a;
}

}  // namespace infra::core
