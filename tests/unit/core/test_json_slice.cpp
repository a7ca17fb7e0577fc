// The streaming reader's fast path: containers taken whole by simdjson give
// the records, shapes and errors that reading token by token gives.
#include "core/json_slice.hpp"
#include "core/json_stream.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace infra::core;
using namespace infra::core::json_stream;

namespace {

// Records (with the type of every number), shapes and errors, as text.
std::string trace(ByteSource& src, Selection sel, std::size_t max_slice)
{
    Limits limits;
    limits.max_slice = max_slice;
    Reader reader(src, std::move(sel), limits);
    std::string out;
    Handler h;
    h.record = [&](Record&& r, const Context& ctx) {
        out += "record " + to_string(r.path) + " line " + std::to_string(r.line) + " " + r.value.dump() + " " +
               ctx.lookup("*.check_type", r.path).dump();
        // 0 and 0u print alike.
        if (r.value.is_object() && r.value.contains("n"))
            out += " n is " + std::string(r.value["n"].type_name()) +
                   (r.value["n"].is_number_unsigned() ? " unsigned" : "");
        out += "\n";
    };
    h.end_document = [&](const DocumentShape& s, const Context&) {
        out += "shape";
        for (const auto& k : s.keys) out += " " + k;
        out += "\n";
    };
    for (;;) {
        auto r = reader.next(h);
        if (!r) {
            out += "error " + r.error().message + "\n";
            reader.skip_line();
            continue;
        }
        if (!*r) return out;
    }
}

std::string trace(const std::string& text, Selection sel, std::size_t max_slice)
{
    auto src = ByteSource::from_string(text, "t.json");
    return trace(*src, std::move(sel), max_slice);
}

const Selection k_checkov{{"results.failed_checks.*", "*.results.failed_checks.*"}, {"*.check_type"}};
const Selection k_elements{{"*"}, {}};

// The same text read with the fast path and without it.
void expect_same(const std::string& text, const Selection& sel = k_checkov)
{
    std::string fast = trace(text, sel, Limits{}.max_slice);
    EXPECT_EQ(fast, trace(text, sel, 0)) << text;
    EXPECT_EQ(trace(text, sel, 16), trace(text, sel, 0)) << text;
}

}  // namespace

TEST(JsonSlice, TakenRecordsAreTheRecordsTokensGive)
{
    std::string report = R"([{"check_type": "terraform", "results": {
        "passed_checks": [{"check_id": "P1", "x": [1, 2, {"y": null}]}, {"check_id": "P2"}],
        "failed_checks": [
          {"check_id": "CKV_1", "n": 7, "m": -7, "f": 1.5e3, "big": 18446744073709551615, "t": true,
           "s": "a\"b\\c\/\u00e9\ud83d\ude00\u0000", "nested": {"a": [[], {}, [1, [2, {"b": "c"}]]]}, "k": "v"},
          {"check_id": "CKV_2", "dup": 1, "dup": 2, "e": [], "o": {}},
          {"check_id": "CKV_3", "last": [{"z": 1}]}
        ]}}])";
    expect_same(report);
    std::string fast = trace(report, k_checkov, Limits{}.max_slice);
    EXPECT_NE(fast.find(R"("s":"a\"b\\c/é😀\u0000")"), std::string::npos) << fast;
    EXPECT_NE(fast.find(R"("n":7,"nested")"), std::string::npos) << fast;
    EXPECT_NE(fast.find(" unsigned"), std::string::npos) << fast;
    EXPECT_NE(fast.find(R"("dup":2)"), std::string::npos) << fast;
}

TEST(JsonSlice, NumbersKeepNlohmannsTypes)
{
    // -0 is a signed integer to nlohmann and is left to it; big integers and
    // overflowing exponents are rejected by simdjson and read by tokens.
    for (std::string n : {"-0", "-0.0", "0", "1E5", "1e-400", "123456789012345678901234567890", "-9223372036854775809",
                          "18446744073709551616", "9007199254740993", "0.1", "1e400"})
        for (const auto& sel : {k_checkov, k_elements})
            expect_same(R"([{"a": 1}, {"check_type": "x", "results": {"failed_checks": [{"n": )" + n +
                            R"(, "k": 1}, {"n": [)" + n + "]}]}}]",
                        sel);
}

TEST(JsonSlice, ErrorsAfterATakenContainerNameTheSamePlace)
{
    // Where the lexer reports an error depends on what it read last: it
    // reads the last member of a taken container itself for that.
    for (std::string text : {
             R"([{"check_type": "x", "results": {"failed_checks": [{"a": {"b": 1}}]]}])",
             R"([{"check_type": "x", "results": {"failed_checks": [{"a": [1, "x"]} #]}}])",
             R"([{"check_type": "x", "results": {"passed_checks": [[], [[]]] }, "failed_checks": 1}])",
             R"([{"check_type": "x", "results": {"passed_checks": {"a": {}, "b": {"c": "d"}}}}])",
             R"([{"check_type": "x", "results": {"failed_checks": [{"a": "\ud800"}, {"b": 1}]}}])",
             R"([{"check_type": "x", "results": {"failed_checks": [{"a": 1,}, {"b": 1}]}}])",
             R"([{"check_type": "x", "results": {"failed_checks": [{"a": "é)"
             "\xff"
             R"("}]}}])",
             R"([{"check_type": "x", "results": {"failed_checks": [{"a": 1})",
             "{\"a\": 1}\n{\"check_type\": \"x\", \"results\": {\"failed_checks\": [{\"a\": 1}]}}\n{\"b\": "
             "[1,}\n[{\"c\": 2}]\n",
         })
        for (const auto& sel : {k_checkov, k_elements}) expect_same(text, sel);
}

TEST(JsonSlice, NestingBeyondTheLimitIsTheReadersError)
{
    std::string deep = std::string(300, '[') + std::string(300, ']');
    std::string text = R"([{"check_type": "x", "results": {"failed_checks": [{"a": )" + deep + "}]}}]";
    expect_same(text);
    EXPECT_NE(trace(text, k_checkov, Limits{}.max_slice).find("nesting deeper than 256 levels"), std::string::npos);
}

TEST(JsonSlice, ShapeKeysOfTakenObjectsAreAllThere)
{
    expect_same(R"({"b": {"x": 1}, "a": [1], "b": 2, "c": "d"})", Selection{{""}, {}});
    expect_same(R"([{"k1": [1], "k2": {"z": 1}, "k1": 3}, {"k3": 1}])", k_elements);
    std::string fast = trace(R"([{"k1": [1], "k2": {"z": 1}, "k1": 3}, {"k3": 1}])", k_elements, Limits{}.max_slice);
    EXPECT_NE(fast.find("shape k1 k2 k1\n"), std::string::npos) << fast;
}

TEST(JsonSlice, FieldsKeepOnlyWhatTheParserReads)
{
    Selection sel = k_checkov;
    sel.fields = {"check_id", "check_result.result", "tags"};
    std::string text = R"([{"check_type": "x", "results": {"failed_checks": [
        {"check_id": "A", "check_result": {"result": "FAILED", "entity": {"big": [1, 2, 3]}}, "code": "...", "tags": {"x": 1}},
        {"check_result": [{"result": 1, "other": 2}], "check_id": "B"}]}}])";
    expect_same(text, sel);
    std::string fast = trace(text, sel, Limits{}.max_slice);
    EXPECT_NE(fast.find(R"({"check_id":"A","check_result":{"result":"FAILED"},"tags":{"x":1}})"), std::string::npos)
        << fast;
    EXPECT_NE(fast.find(R"({"check_id":"B","check_result":[{"result":1}]})"), std::string::npos) << fast;
}

TEST(JsonSlice, ContainersArrivingInPiecesAreTakenWhole)
{
    // A pipe delivers a record a few bytes at a time: the reader reads on
    // until the record's end, consuming nothing before it.
    auto dir = std::filesystem::temp_directory_path() / ("json-slice-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto fifo = (dir / "in").string();
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::string text = R"([{"check_type": "terraform", "results": {"failed_checks": [)";
    for (int i = 0; i < 50; ++i)
        text += (i ? ", " : "") + std::string(R"({"check_id": "C)") + std::to_string(i) +
                R"(", "s": "x\"y\\", "n": [1, {"a": "b"}]})";
    text += "]}}]\n";
    std::thread writer([&] {
        std::ofstream out(fifo, std::ios::binary);
        for (std::size_t i = 0; i < text.size(); i += 7) {
            out << text.substr(i, 7) << std::flush;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    auto src = ByteSource::open(fifo);
    ASSERT_TRUE(src);
    std::string piecewise = trace(**src, k_checkov, Limits{}.max_slice);
    writer.join();
    std::filesystem::remove_all(dir);
    EXPECT_EQ(piecewise, trace(text, k_checkov, 0));
    EXPECT_NE(piecewise.find("failed_checks.49 line 1"), std::string::npos) << piecewise;
}

TEST(JsonSlice, FieldsProjectThroughArrays)
{
    json_slice::Fields fields({"a.b", "c"});
    auto v = nlohmann::json::parse(R"({"a": [{"b": 1, "x": 2}, 3], "c": {"d": 4}, "e": 5})");
    fields.prune(v);
    EXPECT_EQ(v.dump(), R"({"a":[{"b":1},3],"c":{"d":4}})");
    EXPECT_EQ(fields.member("e"), nullptr);
    ASSERT_NE(fields.member("c"), nullptr);
    EXPECT_TRUE(fields.member("c")->empty());
}
