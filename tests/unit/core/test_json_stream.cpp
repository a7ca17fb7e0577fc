#include "core/json_stream.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace infra::core;
using namespace infra::core::json_stream;

namespace {

struct Collected {
    std::vector<Record> records;
    std::vector<DocumentShape> shapes;
    std::vector<std::string> context_seen;
};

Result<std::size_t> read_all(const std::string& text, Selection sel, Collected& c, const std::string& ctx_pattern = "")
{
    auto src = ByteSource::from_string(text, "t.json");
    Reader reader(*src, std::move(sel));
    Handler h;
    h.record = [&](Record&& r, const Context& ctx) {
        if (!ctx_pattern.empty()) c.context_seen.push_back(ctx.lookup(ctx_pattern, r.path).dump());
        c.records.push_back(std::move(r));
    };
    h.end_document = [&](const DocumentShape& s, const Context&) { c.shapes.push_back(s); };
    std::size_t docs = 0;
    for (;;) {
        auto r = reader.next(h);
        if (!r) return r.error();
        if (!*r) return docs;
        ++docs;
    }
}

}  // namespace

TEST(JsonStream, SelectsRecordsInsideADocument)
{
    Collected c;
    auto n = read_all(R"({"kind":"x","results":{"failed":[{"a":1},{"a":2}],"passed":[{"a":3}]}})",
                      {{"results.failed.*"}, {"kind"}}, c, "kind");
    ASSERT_TRUE(n) << n.error().message;
    ASSERT_EQ(c.records.size(), 2u);
    EXPECT_EQ(c.records[0].value["a"], 1);
    EXPECT_EQ(to_string(c.records[1].path), "results.failed.1");
    EXPECT_EQ(c.context_seen[0], "\"x\"");
    ASSERT_EQ(c.shapes.size(), 1u);
    EXPECT_EQ(c.shapes[0].keys, (std::vector<std::string>{"kind", "results"}));
}

TEST(JsonStream, ListFormAndObjectFormBothMatch)
{
    Collected c;
    auto n = read_all(R"([{"t":"a","r":[1,2]},{"t":"b","r":[3]}])", {{"r.*", "*.r.*"}, {"*.t"}}, c, "*.t");
    ASSERT_TRUE(n);
    ASSERT_EQ(c.records.size(), 3u);
    EXPECT_EQ(c.context_seen, (std::vector<std::string>{"\"a\"", "\"a\"", "\"b\""}));
}

TEST(JsonStream, ReadsJsonLinesAsSeparateDocuments)
{
    Collected c;
    auto n = read_all("{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n", {{""}, {}}, c);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 3u);
    ASSERT_EQ(c.records.size(), 3u);
    EXPECT_EQ(c.records[2].line, 4u);
    EXPECT_EQ(c.records[2].document, 2u);
}

TEST(JsonStream, RootPatternDoesNotSwallowARootArray)
{
    Collected c;
    auto n = read_all("[{\"a\":1},{\"a\":2}]", {{"", "*"}, {}}, c);
    ASSERT_TRUE(n);
    ASSERT_EQ(c.records.size(), 2u);
    EXPECT_TRUE(c.records[0].value.is_object());
}

TEST(JsonStream, ErrorNamesFileLineAndColumn)
{
    Collected c;
    auto n = read_all("{\"a\": 1,\n \"b\": [1, 2,, 3]}", {{""}, {}}, c);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, Errc::invalid_input);
    EXPECT_NE(n.error().message.find("'t.json': line 2, column 13"), std::string::npos) << n.error().message;
}

TEST(JsonStream, TruncatedDocumentIsAnError)
{
    Collected c;
    auto n = read_all(R"({"results":{"failed":[{"a":1},{"a":)", {{"results.failed.*"}, {}}, c);
    ASSERT_FALSE(n);
    EXPECT_NE(n.error().message.find("line 1"), std::string::npos);
    EXPECT_EQ(c.records.size(), 1u);  // the caller decides to drop it with the document
}

TEST(JsonStream, DeepNestingIsRefused)
{
    Collected c;
    std::string deep = std::string(10000, '[') + std::string(10000, ']');
    auto n = read_all(deep, {{""}, {}}, c);
    ASSERT_FALSE(n);
    EXPECT_NE(n.error().message.find("nesting deeper than"), std::string::npos) << n.error().message;
}

TEST(JsonStream, SkipsAByteOrderMark)
{
    Collected c;
    auto n = read_all("\xEF\xBB\xBF{\"a\":1}", {{""}, {}}, c);
    ASSERT_TRUE(n) << n.error().message;
    EXPECT_EQ(c.records.size(), 1u);
}

TEST(JsonStream, ResumesAtTheNextLineAfterAnError)
{
    auto src = ByteSource::from_string("{\"a\":1}\n{\"a\":\n{\"a\":3}\n", "t.jsonl");
    Reader reader(*src, {{""}, {}});
    std::vector<int> seen;
    Handler h;
    h.record = [&](Record&& r, const Context&) { seen.push_back(r.value["a"].get<int>()); };
    EXPECT_TRUE(*reader.next(h));
    auto bad = reader.next(h);
    ASSERT_FALSE(bad);
    reader.skip_line();
    EXPECT_TRUE(*reader.next(h));
    EXPECT_FALSE(*reader.next(h));
    EXPECT_EQ(seen, (std::vector<int>{1, 3}));
}

TEST(ParseDocument, RejectsTrailingData)
{
    auto j = parse_document("{} {}", "body");
    ASSERT_FALSE(j);
    EXPECT_NE(j.error().message.find("unexpected data after"), std::string::npos);
    EXPECT_TRUE(parse_document(" {\"x\": [1]} \n", "body"));
    EXPECT_FALSE(parse_document("", "body"));
}

TEST(JsonStream, LinesAndColumnsHoldAcrossTheReadBuffer)
{
    // Records on lines of their own, with two-byte characters, over many
    // 64 KiB reads of a file, then a bad token: every record knows its line
    // and the error names the line and the column (in characters).
    std::string text = "{\"results\": [\n";
    const int n = 20000;
    for (int i = 0; i < n; ++i) text += "  {\"name\": \"caf\xc3\xa9 " + std::to_string(i) + "\"},\n";
    text += "  {\"name\": \"caf\xc3\xa9\" \"oops\"}\n]}\n";
    auto path = std::filesystem::temp_directory_path() / ("json-stream-" + std::to_string(::getpid()) + ".json");
    {
        std::ofstream out(path, std::ios::binary);
        out << text;
    }
    auto src = ByteSource::open(path.string());
    ASSERT_TRUE(src);
    Reader reader(**src, Selection{{"results.*"}, {}});
    std::vector<std::uint64_t> lines;
    Handler h;
    h.record = [&](Record&& r, const Context&) { lines.push_back(r.line); };
    auto r = reader.next(h);
    std::filesystem::remove(path);
    ASSERT_FALSE(r);
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(n));
    EXPECT_EQ(lines.front(), 2u);
    EXPECT_EQ(lines.back(), static_cast<std::uint64_t>(n + 1));
    EXPECT_NE(r.error().message.find("line " + std::to_string(n + 2) + ", column 19:"), std::string::npos)
        << r.error().message;
}
