// libFuzzer target for patches from agents: the input is split into a file
// and a patch; applying either succeeds or fails cleanly.
#include "core/agent/tools.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string in(reinterpret_cast<const char*>(data), size);
    auto cut = in.find('\0');
    std::string text = cut == std::string::npos ? std::string() : in.substr(0, cut);
    std::string patch = cut == std::string::npos ? in : in.substr(cut + 1);
    (void)infra::core::agent::apply_unified(text, patch);
    return 0;
}
