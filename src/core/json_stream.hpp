#pragma once
// Streaming JSON: the records of a large report one at a time, in memory
// bounded by the largest record, with line and column in every error.

#include "core/input.hpp"
#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace infra::core::json_stream {

using nlohmann::json;

/// One step of a path into a document: an object key or an array index.
struct Segment {
    std::string key;
    long long index = -1;  ///< >= 0 for an array element
};
using Path = std::vector<Segment>;

/// "runs.0.results.3" for a path.
std::string to_string(const Path& path);

/// A record found in a document, with where it was found.
struct Record {
    json value;
    Path path;                 ///< concrete path from the document root
    std::uint64_t line = 1;    ///< line of the record's first byte
    std::size_t document = 0;  ///< 0-based index of the top-level value
};

/// What the top of a document looked like, for parsers to check its shape.
struct DocumentShape {
    json::value_t root = json::value_t::discarded;
    std::vector<std::string> keys;  ///< keys of the root object, or of the first element of a root array
    std::uint64_t line = 1;         ///< line where the document starts
};

/// Which parts of each document to materialize. Patterns are dotted paths
/// where "*" matches any key or index; the empty pattern is the root.
struct Selection {
    std::vector<std::string> records;  ///< each match is handed over as a Record
    std::vector<std::string> context;  ///< small values kept for the whole document
    bool whole_documents = false;      ///< "" selects a root array too (whole small documents)
    /// The members of a record object that its parser reads, by dotted
    /// name ("check_result.result"): when given, Record::value keeps only
    /// these (json_slice::Fields), and is the cheaper to build.
    std::vector<std::string> fields = {};
};

/// Values kept by Selection::context, looked up relative to a record.
class Context {
public:
    /// The value of a context pattern for the record at path: the pattern's
    /// wildcards take the record's concrete segments. Null when absent.
    const json& lookup(const std::string& pattern, const Path& record_path) const;
    void clear() { m_values.clear(); }
    void put(std::string path, json value) { m_values[std::move(path)] = std::move(value); }

private:
    std::map<std::string, json> m_values;
};

/// Callbacks of a streaming read.
struct Handler {
    std::function<void(const DocumentShape&)> begin_document;
    std::function<void(Record&&, const Context&)> record;
    std::function<void(const DocumentShape&, const Context&)> end_document;
};

/// Limits that keep hostile input from exhausting the process.
struct Limits {
    std::size_t max_depth = 256;
    /// The largest container read in one piece (by simdjson, see
    /// json_slice.hpp) rather than token by token; 0 reads all by tokens.
    std::size_t max_slice = 256 << 10;
};

/// Reads every top-level JSON value of src (one document, an array, or JSON
/// Lines) and streams the selected records. A syntax error stops the read
/// with an Error naming the source, line and column; with keep_going, the
/// caller may call again to resume at the next line. Returns false at the end.
class Reader {
public:
    Reader(ByteSource& src, Selection selection, Limits limits = {});
    ~Reader();

    /// Reads the next document; true when one was read, false at the end,
    /// an Error for malformed input.
    Result<bool> next(const Handler& handler);

    /// After an error: skips the rest of the current line so that the next
    /// call starts with the next JSON Lines record.
    void skip_line();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// Parses a whole small document held in memory (webhook bodies) with
/// line and column in the error; name is used in messages.
Result<json> parse_document(std::string_view text, const std::string& name, Limits limits = {});

}  // namespace infra::core::json_stream
