#include "core/json_write.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

using nlohmann::json;
namespace json_write = infra::core::json_write;

namespace {

std::string dumped(const json& j)
{
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string written(const json& j)
{
    std::string out = "x";  // appended to, never replaced
    json_write::append(out, j);
    return out.substr(1);
}

}  // namespace

TEST(JsonWrite, WritesWhatTheCompactDumpWrites)
{
    const json cases[] = {
        json::object(),
        json::array(),
        nullptr,
        true,
        false,
        0,
        -1,
        std::numeric_limits<std::int64_t>::min(),
        std::numeric_limits<std::uint64_t>::max(),
        1.5,
        -0.0,
        1e300,
        "",
        "plain ASCII text longer than sixteen bytes, so that it is scanned in blocks",
        "a \"quoted\" word and a back\\slash in the second block of sixteen",
        "tab\there, newline\nthere, and a control \x01 char and DEL \x7f",
        "caf\xc3\xa9 and \xe2\x82\xac and \xf0\x9f\x98\x80, sixteen bytes on",
        "invalid \xff\xfe UTF-8 and a truncated one \xe2\x82",
        std::string("a NUL \0 inside", 14),
        json::parse(R"({"b":[1,2,{"z":null,"a":"x"}],"a":{"\u00e9":"\u0001"},"c":[]})"),
    };
    for (const auto& j : cases) EXPECT_EQ(written(j), dumped(j)) << dumped(j);
}

TEST(JsonWrite, FindsAnEscapeAtEveryPlaceOfABlock)
{
    for (char special : {'"', '\\', '\n', '\x1f', '\x7f', '\x80'}) {
        for (std::size_t at = 0; at < 40; ++at) {
            std::string s(40, 'a');
            s[at] = special;
            std::string out;
            json_write::append_string(out, s);
            EXPECT_EQ(out, dumped(s)) << "at " << at;
        }
    }
}
