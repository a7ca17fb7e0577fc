// libFuzzer target for the policy loader: any YAML gives policies or lint
// findings, never a crash; what compiles must decide without crashing.
#include "core/policy/engine.hpp"
#include "core/policy/testing.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace infra::core::policy;
    static const json k_tasks[] = {
        *complete_test_task(json::parse(R"({"type":"compliance-remediation","context":{"environment":"production",
            "agentSlug":"builtin"},"payload":{"finding":{"canonicalRuleId":"CKV_AWS_18"},"files":["a.tf"]}})")),
        *complete_test_task(json::parse(R"({"type":"chat","payload":{"requestsChange":true}})")),
    };
    PolicySet set;
    parse_policies(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml", set.policies, set.findings);
    auto engine = Engine::compile(std::move(set));
    if (!engine) return 0;
    for (const auto& t : k_tasks) {
        Decision d = (*engine)->decide(t, true);
        (void)to_json(d, true);
    }
    return 0;
}
