// libFuzzer target for trace context from outside: a traceparent header on
// the first line (from any webhook sender), an audit head (from --head) on
// the second, OTEL_EXPORTER_OTLP_HEADERS on the third, and event-type globs
// (--type) on the rest. None may crash; a parsed traceparent of version 00
// prints back as it came, and a parsed head does too.
#include "core/events/audit.hpp"
#include "core/events/otlp_exporter.hpp"
#include "core/events/query.hpp"
#include "core/events/trace.hpp"
#include "core/text.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace infra::core::events;
    std::string in(reinterpret_cast<const char*>(data), size);
    std::string line[4];
    std::size_t at = 0;
    for (int i = 0; i < 3 && at <= in.size(); ++i) {
        auto nl = in.find('\n', at);
        line[i] = in.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
        at = nl == std::string::npos ? in.size() + 1 : nl + 1;
    }
    if (at <= in.size()) line[3] = in.substr(at);

    if (auto ctx = parse_traceparent(line[0])) {
        if (ctx->trace_id.size() != 32 || ctx->span_id.size() != 16) std::abort();
        if (line[0].rfind("00-", 0) == 0 && to_traceparent(*ctx).substr(0, 53) != line[0].substr(0, 53)) std::abort();
    }
    if (auto head = audit::parse_head(line[1])) {
        // Leading zeros in the sequence number are the only other form accepted.
        bool leading_zero = line[1].size() > 1 && line[1][0] == '0' && line[1][1] != ':';
        if (!leading_zero && audit::to_string(*head) != line[1]) std::abort();
    }
    (void)parse_otlp_headers(line[2]);
    auto glob_end = line[3].find(' ');
    if (glob_end != std::string::npos)
        (void)infra::core::text::glob_match(line[3].substr(0, glob_end), line[3].substr(glob_end + 1));
    return 0;
}
