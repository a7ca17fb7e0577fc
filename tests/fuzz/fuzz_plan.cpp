// libFuzzer target for `terraform show -json` plans, which agents shape:
// the plan-scope check reads any JSON without crashing.
#include "core/change/validation.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using nlohmann::json;
    json plan = json::parse(std::string(reinterpret_cast<const char*>(data), size), nullptr, false);
    if (plan.is_discarded()) return 0;
    json touched;
    static const auto task = [] {
        infra::core::AgentTask t;
        t.context.resource = "aws_s3_bucket.logs";
        return t;
    }();
    static const auto decision = [] {
        infra::core::policy::Decision d;
        d.plan_scope = {"module.*"};
        return d;
    }();
    (void)infra::core::change::plan_scope_violations(plan, task, decision, touched);
    return 0;
}
