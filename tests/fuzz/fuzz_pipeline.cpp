// libFuzzer target for what a CI service hands back to a remote pipeline
// step: job logs searched for terraform's plan summary, artifact archives
// (zip) a plan file is read from, and pipeline steps of validation.steps.
// The first byte picks which.
#include "core/change/pipeline.hpp"
#include "plugins/forges/api.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
    case 0:
        (void)infra::core::change::plan_summary_in(input);
        break;
    case 1:
        (void)infra::plugins::forges::file_in_zip(input, "plan.tfplan");
        break;
    default: {
        auto j = nlohmann::json::parse(input, nullptr, false);
        if (!j.is_discarded()) (void)infra::core::change::pipeline_from(j, "validation.steps[0]");
    }
    }
    return 0;
}
