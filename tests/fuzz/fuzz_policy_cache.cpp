// libFuzzer target for the compiled-policy cache: an entry's body is read
// from the user's cache directory, where anything may have written. Any
// bytes decode to policies that name the file, or to nothing.
#include "core/policy/cache.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::vector<infra::core::policy::Policy> out;
    std::string_view body(reinterpret_cast<const char*>(data), size);
    if (infra::core::policy::cache::decode(body, "p.yaml", out))
        for (const auto& p : out)
            if (p.where.file != "p.yaml") std::abort();
    return 0;
}
