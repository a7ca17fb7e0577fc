// libFuzzer target for the streaming JSON reader under the selections the
// scanner parsers use, with keep-going resynchronization. Each input is read
// twice, with containers taken whole by simdjson (json_slice) and token by
// token only: both reads must see the same records, shapes and errors.
#include "core/json_stream.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

using namespace infra::core;

// A value with the type of every number in it (0 and 0u, 1 and 1.0 differ).
void typed(const nlohmann::json& v, std::string& out)
{
    using T = nlohmann::json::value_t;
    switch (v.type()) {
    case T::object:
        out += '{';
        for (auto it = v.begin(); it != v.end(); ++it) {
            out += nlohmann::json(it.key()).dump() + ':';
            typed(*it, out);
            out += ',';
        }
        out += '}';
        break;
    case T::array:
        out += '[';
        for (const auto& e : v) {
            typed(e, out);
            out += ',';
        }
        out += ']';
        break;
    case T::number_integer:
        out += "i" + v.dump();
        break;
    case T::number_unsigned:
        out += "u" + v.dump();
        break;
    case T::number_float:
        out += (std::signbit(v.get<double>()) ? "f-" : "f+") + v.dump();
        break;
    default:
        out += v.dump();
        break;
    }
}

// Everything a reader reports about data, as text.
std::string trace(const std::string& data, std::size_t max_slice, bool fields)
{
    auto src = ByteSource::from_string(data, "fuzz");
    json_stream::Selection sel{{"", "*", "results.failed_checks.*", "*.results.failed_checks.*"},
                               {"check_type", "*.check_type", "runs.*.tool"}};
    if (fields) sel.fields = {"check_id", "check_result.result", "a.b.c", "k"};
    json_stream::Limits limits;
    limits.max_slice = max_slice;
    json_stream::Reader reader(*src, sel, limits);
    std::string out;
    json_stream::Handler h;
    h.begin_document = [&](const json_stream::DocumentShape& s) { out += "begin " + std::to_string(s.line) + "\n"; };
    h.record = [&](json_stream::Record&& r, const json_stream::Context& ctx) {
        out += "record " + json_stream::to_string(r.path) + " " + std::to_string(r.line) + " " +
               std::to_string(r.document) + " ";
        typed(r.value, out);
        out += " " + ctx.lookup("*.check_type", r.path).dump() + "\n";
    };
    h.end_document = [&](const json_stream::DocumentShape& s, const json_stream::Context& ctx) {
        out += "end " + std::to_string(static_cast<int>(s.root));
        for (const auto& k : s.keys) out += " " + nlohmann::json(k).dump();
        out += " " + ctx.lookup("check_type", {}).dump() + "\n";
    };
    for (int i = 0; i < 10000; ++i) {
        auto r = reader.next(h);
        if (r && !*r) break;
        if (!r) {
            out += "error " + r.error().message + "\n";
            reader.skip_line();
        }
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string input(reinterpret_cast<const char*>(data), size);
    bool fields = size > 0 && (data[0] & 1);
    // A small limit too, so that large containers are read by tokens around taken ones.
    std::size_t limit = size > 1 && (data[1] & 1) ? 64 : json_stream::Limits{}.max_slice;
    if (trace(input, limit, fields) != trace(input, 0, fields)) std::abort();
    return 0;
}
