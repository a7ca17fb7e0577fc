// libFuzzer target for the streaming JSON reader under the selections the
// scanner parsers use, with keep-going resynchronization.
#include "core/json_stream.hpp"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace infra::core;
    auto src = ByteSource::from_string(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    json_stream::Reader reader(*src, {{"", "*", "results.failed_checks.*", "*.results.failed_checks.*"},
                                      {"check_type", "*.check_type", "runs.*.tool"}});
    json_stream::Handler h;
    std::size_t n = 0;
    h.record = [&](json_stream::Record&& r, const json_stream::Context& ctx) {
        n += r.value.dump().size();
        (void)ctx.lookup("*.check_type", r.path);
    };
    for (int i = 0; i < 10000; ++i) {
        auto r = reader.next(h);
        if (r && !*r) break;
        if (!r) reader.skip_line();
    }
    return 0;
}
