#include "core/json_stream.hpp"

#include "core/json_slice.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <string>

namespace infra::core::json_stream {

std::string to_string(const Path& path)
{
    std::string out;
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (i) out += '.';
        out += path[i].index >= 0 ? std::to_string(path[i].index) : path[i].key;
    }
    return out;
}

const json& Context::lookup(const std::string& pattern, const Path& record_path) const
{
    static const json k_null;
    auto parts = text::split(pattern, '.');
    std::string concrete;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i) concrete += '.';
        if (parts[i] == "*") {
            if (i >= record_path.size()) return k_null;
            const auto& seg = record_path[i];
            concrete += seg.index >= 0 ? std::to_string(seg.index) : seg.key;
        } else {
            concrete += parts[i];
        }
    }
    auto it = m_values.find(concrete);
    return it == m_values.end() ? k_null : it->second;
}

namespace {

// Where nlohmann's lexer reads: straight from the source's buffer, a byte
// at a time without a call per byte. The source learns what was consumed
// in bulk (sync), and so still knows the line and column of every byte.
class Cursor {
public:
    explicit Cursor(ByteSource& src) : m_src(src) {}

    int get()
    {
        if (m_cur != m_end) return static_cast<unsigned char>(*m_cur++);
        return refill();
    }

    /// The source, consumed up to what the lexer has read.
    ByteSource& sync()
    {
        m_src.advance(static_cast<std::size_t>(m_cur - m_begin));
        m_begin = m_cur;
        return m_src;
    }

    /// The source as sync() leaves it, for a reader that consumes (or reads
    /// ahead) on its own: the lexer's next byte comes from its window again.
    ByteSource& release()
    {
        sync();
        m_begin = m_cur = m_end = nullptr;
        return m_src;
    }

private:
    int refill()
    {
        auto window = sync().window();
        if (window.empty()) return std::char_traits<char>::eof();
        m_begin = m_cur = window.data();
        m_end = m_begin + window.size();
        return static_cast<unsigned char>(*m_cur++);
    }

    ByteSource& m_src;
    const char* m_begin = nullptr;
    const char* m_cur = nullptr;
    const char* m_end = nullptr;
};

// The input adapter nlohmann's lexer takes (it keeps a copy of it).
class CursorAdapter {
public:
    using char_type = char;
    explicit CursorAdapter(Cursor& cursor) : m_cursor(&cursor) {}
    std::char_traits<char>::int_type get_character() { return m_cursor->get(); }

private:
    Cursor* m_cursor;
};

std::vector<std::vector<std::string>> compile(const std::vector<std::string>& patterns)
{
    std::vector<std::vector<std::string>> out;
    for (const auto& p : patterns) out.push_back(p.empty() ? std::vector<std::string>{} : text::split(p, '.'));
    return out;
}

bool segment_matches(const std::string& pat, const Segment& seg)
{
    if (pat == "*") return true;
    return seg.index < 0 && seg.key == pat;
}

enum class Mode { walk, skip, build };

struct Frame {
    Mode mode;
    bool is_array;
    bool capture_root;  // this container is the root of a captured value
};

// The SAX handler: walks the shallow part of a document, builds a DOM only
// for selected subtrees, and skips everything else without storing it.
class Sax {
public:
    Sax(const std::vector<std::vector<std::string>>& records, const std::vector<std::vector<std::string>>& context,
        const json_slice::Fields& fields, const Limits& limits, Cursor& src, json_slice::Parser& fast,
        const Handler& handler, std::size_t document)
        : m_records(records), m_context_patterns(context), m_fields(fields), m_limits(limits), m_src(src), m_fast(fast),
          m_handler(handler), m_document(document)
    {
        for (const auto& p : records) m_max_len = std::max(m_max_len, p.size());
        for (const auto& p : context) m_max_len = std::max(m_max_len, p.size());
    }

    Context& context() { return m_context; }
    void whole_document(bool on) { m_whole = on; }
    DocumentShape& shape() { return m_shape; }
    const std::string& own_error() const { return m_own_error; }

    bool null() { return skipped(json::value_t::null) || scalar(json(nullptr)); }
    bool boolean(bool v) { return skipped(json::value_t::boolean) || scalar(json(v)); }
    bool number_integer(json::number_integer_t v) { return skipped(json::value_t::number_integer) || scalar(json(v)); }
    bool number_unsigned(json::number_unsigned_t v)
    {
        return skipped(json::value_t::number_unsigned) || scalar(json(v));
    }
    bool number_float(json::number_float_t v, const std::string&)
    {
        return skipped(json::value_t::number_float) || scalar(json(v));
    }
    bool string(json::string_t& v) { return skipped(json::value_t::string) || scalar(json(std::move(v))); }
    bool binary(json::binary_t&) { return skipped(json::value_t::binary) || scalar(json()); }

    bool start_object(std::size_t) { return start(false); }
    bool start_array(std::size_t) { return start(true); }
    bool end_object() { return end(); }
    bool end_array() { return end(); }

    bool key(json::string_t& k)
    {
        if (m_frames.size() == 1 && m_shape.root == json::value_t::object) m_shape.keys.push_back(k);
        else if (m_frames.size() == 2 && m_shape.root == json::value_t::array && m_root_elements == 1 &&
                 !m_frames[1].is_array)
            m_shape.keys.push_back(k);
        if (m_frames.back().mode == Mode::walk) {
            m_path.back().key = k;
            m_path.back().index = -1;
        } else if (m_frames.back().mode == Mode::build) {
            m_pending_key = std::move(k);
        }
        return true;
    }

    bool parse_error(std::size_t, const std::string& last_token, const nlohmann::detail::exception& ex)
    {
        m_parse_error = ex.what();
        m_last_token = last_token;
        return false;
    }

    /// The token that broke the document, as nlohmann read it.
    const std::string& last_token() const { return m_last_token; }

    const std::string& parse_error_text() const { return m_parse_error; }

private:
    enum class Class { record, context, walk, skip };

    // A root-level record pattern ("") selects objects and scalars, never a
    // root array: its elements are what "*" selects.
    Class classify(bool is_array = false) const
    {
        for (const auto& p : m_records)
            if (matches(p) && !(p.empty() && is_array && !m_whole)) return Class::record;
        for (const auto& p : m_context_patterns)
            if (matches(p)) return Class::context;
        if (m_path.size() >= m_max_len) return Class::skip;
        for (const auto* set : {&m_records, &m_context_patterns})
            for (const auto& p : *set)
                if (p.size() > m_path.size() && prefix_matches(p)) return Class::walk;
        return Class::skip;
    }

    bool matches(const std::vector<std::string>& p) const { return p.size() == m_path.size() && prefix_matches(p); }

    bool prefix_matches(const std::vector<std::string>& p) const
    {
        for (std::size_t i = 0; i < m_path.size(); ++i)
            if (!segment_matches(p[i], m_path[i])) return false;
        return true;
    }

    // Positions m_path on the value that is starting, in a walked container.
    void advance()
    {
        if (!m_frames.empty() && m_frames.back().mode == Mode::walk && m_frames.back().is_array) ++m_path.back().index;
    }

    bool depth_ok()
    {
        if (m_frames.size() >= m_limits.max_depth) {
            m_own_error = "nesting deeper than " + std::to_string(m_limits.max_depth) + " levels";
            return false;
        }
        return true;
    }

    void note_root(json::value_t t)
    {
        if (m_frames.empty()) {
            m_shape.root = t;
            if (m_handler.begin_document) m_handler.begin_document(m_shape);
        } else if (m_frames.size() == 1 && m_frames[0].is_array) {
            ++m_root_elements;
        }
    }

    json* insert(json value)
    {
        json& parent = *m_stack.back();
        if (parent.is_array()) {
            parent.push_back(std::move(value));
            return &parent.back();
        }
        json& slot = parent[m_pending_key];
        slot = std::move(value);
        return &slot;
    }

    // A scalar inside a skipped container, which is not built at all.
    bool skipped(json::value_t t)
    {
        if (m_frames.empty() || m_frames.back().mode != Mode::skip) return false;
        note_root(t);
        return true;
    }

    bool scalar(json value)
    {
        note_root(value.type());
        if (m_frames.empty()) {
            m_path.clear();
            if (classify() == Class::record) emit_record(std::move(value));
            return true;
        }
        Frame& top = m_frames.back();
        if (top.mode == Mode::skip) return true;
        if (top.mode == Mode::build) {
            insert(std::move(value));
            return true;
        }
        advance();
        switch (classify()) {
        case Class::record:
            emit_record(std::move(value));
            break;
        case Class::context:
            m_context.put(to_string(m_path), std::move(value));
            break;
        default:
            break;
        }
        return true;
    }

    bool start(bool is_array)
    {
        if (!depth_ok()) return false;
        json::value_t t = is_array ? json::value_t::array : json::value_t::object;
        note_root(t);
        std::size_t depth = m_frames.size();
        Mode parent = m_frames.empty() ? Mode::walk : m_frames.back().mode;
        if (parent == Mode::skip) {
            m_frames.push_back({Mode::skip, is_array, false});
            take_whole(is_array, depth, nullptr);
            return true;
        }
        if (parent == Mode::build) {
            json* child = insert(json(t));
            m_stack.push_back(child);
            m_frames.push_back({Mode::build, is_array, false});
            take_whole(is_array, depth, child);
            return true;
        }
        advance();
        Class c = classify(is_array);
        if (c == Class::record || c == Class::context) {
            m_capture = json(t);
            m_capture_is_record = c == Class::record;
            m_capture_path = m_path;
            m_capture_line = m_src.sync().position().line;
            m_stack.clear();
            m_stack.push_back(&m_capture);
            m_frames.push_back({Mode::build, is_array, true});
            take_whole(is_array, depth, &m_capture);
        } else if (c == Class::walk) {
            m_frames.push_back({Mode::walk, is_array, false});
            m_path.push_back(Segment{});
        } else {
            m_frames.push_back({Mode::skip, is_array, false});
            take_whole(is_array, depth, nullptr);
        }
        return true;
    }

    // Reads most of the container just opened at depth (frames above it)
    // in one piece with simdjson, into *into (a skipped one is only
    // checked): bytes at a time are many times slower. The lexer reads on
    // from its last member or element, and reads it all when the container
    // is too large, too deep or not well-formed, naming the place of any
    // error as it always has.
    void take_whole(bool is_array, std::size_t depth, json* into)
    {
        // A root array's elements are counted for the document's shape one by one.
        if (m_limits.max_slice == 0 || (depth == 0 && is_array)) return;
        json_slice::Want want;
        want.max_bytes = m_limits.max_slice;
        want.max_depth = m_limits.max_depth - depth;
        want.value = into != nullptr;
        want.fields = into == &m_capture && m_capture_is_record ? &m_fields : nullptr;
        want.keys =
            !is_array && (depth == 0 || (depth == 1 && m_shape.root == json::value_t::array && m_root_elements == 1));
        auto taken = m_fast.take(m_src.release(), is_array, want);
        if (!taken) return;
        if (into) *into = std::move(taken->value);
        for (auto& k : taken->keys) m_shape.keys.push_back(std::move(k));
    }

    bool end()
    {
        Frame f = m_frames.back();
        m_frames.pop_back();
        if (f.mode == Mode::walk) {
            m_path.pop_back();
        } else if (f.mode == Mode::build) {
            m_stack.pop_back();
            if (f.capture_root) {
                if (m_capture_is_record) {
                    m_fields.prune(m_capture);
                    Record r{std::move(m_capture), std::move(m_capture_path), m_capture_line, m_document};
                    if (m_handler.record) m_handler.record(std::move(r), m_context);
                } else {
                    m_context.put(to_string(m_capture_path), std::move(m_capture));
                }
                m_capture = json();
            }
        }
        return true;
    }

    void emit_record(json value)
    {
        Record r{std::move(value), m_path, m_src.sync().position().line, m_document};
        if (m_handler.record) m_handler.record(std::move(r), m_context);
    }

    const std::vector<std::vector<std::string>>& m_records;
    const std::vector<std::vector<std::string>>& m_context_patterns;
    const json_slice::Fields& m_fields;
    const Limits& m_limits;
    Cursor& m_src;
    json_slice::Parser& m_fast;
    const Handler& m_handler;
    std::size_t m_document;
    std::size_t m_max_len = 0;

    std::vector<Frame> m_frames;
    Path m_path;
    std::vector<json*> m_stack;
    std::string m_pending_key;
    json m_capture;
    bool m_capture_is_record = false;
    Path m_capture_path;
    std::uint64_t m_capture_line = 1;
    Context m_context;
    DocumentShape m_shape;
    std::size_t m_root_elements = 0;
    bool m_whole = false;
    std::string m_parse_error;
    std::string m_last_token;
    std::string m_own_error;
};

// nlohmann's messages start with "[json.exception.parse_error.101] parse
// error at line 1, column 5: "; keep only what was expected and found.
std::string describe(const std::string& what)
{
    auto pos = what.find(": ");
    std::string rest = pos == std::string::npos ? what : what.substr(pos + 2);
    return rest;
}

void skip_space(ByteSource& src)
{
    for (;;) {
        int c = src.peek();
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            src.get();
        } else if (c == 0xEF && src.position().offset == 0) {
            // A UTF-8 byte order mark at the very start is not an error.
            auto p = src.peek_prefix(3);
            if (p == "\xEF\xBB\xBF") {
                src.get();
                src.get();
                src.get();
            } else {
                return;
            }
        } else {
            return;
        }
    }
}

}  // namespace

struct Reader::Impl {
    ByteSource& src;
    std::vector<std::vector<std::string>> records;
    std::vector<std::vector<std::string>> context;
    json_slice::Fields fields;
    Limits limits;
    json_slice::Parser fast{};
    std::size_t document = 0;
    bool decided = false;    // whether the input is JSON Lines is known
    bool line_mode = false;  // JSON Lines: one document per line, errors end at the line
    bool whole = false;      // the root is a record whatever its type

    Result<bool> parse_one(ByteSource& in, const Handler& handler, bool strict)
    {
        Cursor cursor(in);
        Sax sax(records, context, fields, limits, cursor, fast, handler, document);
        sax.whole_document(whole);
        sax.shape().line = in.position().line;
        nlohmann::detail::parser<json, CursorAdapter> parser{CursorAdapter(cursor)};
        bool ok = parser.sax_parse(&sax, strict);
        cursor.sync();
        ++document;
        if (!ok) {
            // Point at the character that broke the document, not past it.
            Position p =
                in.peek() < 0 && in.position().offset > in.last_position().offset ? in.position() : in.last_position();
            // Point at the start of the offending token ("x" in {"k" "x"}).
            const std::string& tok = sax.last_token();
            if (sax.own_error().empty() && tok.size() > 1 && tok.front() == '"' &&
                tok.find('\n') == std::string::npos && tok.find("<U+") == std::string::npos) {
                std::uint64_t chars = 0;
                for (unsigned char c : tok) chars += (c & 0xC0) != 0x80;
                if (chars > 1 && p.column > chars - 1) p.column -= chars - 1;
            }
            std::string what = !sax.own_error().empty() ? sax.own_error() : describe(sax.parse_error_text());
            if (!in.io_error().empty()) what = in.io_error();
            return fail(Errc::invalid_input, "cannot parse '" + src.name() + "': line " + std::to_string(p.line) +
                                                 ", column " + std::to_string(p.column) + ": " + what);
        }
        if (handler.end_document) handler.end_document(sax.shape(), sax.context());
        return true;
    }

    // After the first document: a document that ended on its own line,
    // followed by a newline, makes the input JSON Lines.
    void decide(std::uint64_t start_line)
    {
        decided = true;
        if (src.position().line != start_line) return;
        for (;;) {
            int c = src.peek();
            if (c == ' ' || c == '\t' || c == '\r') {
                src.get();
                continue;
            }
            line_mode = c == '\n';
            return;
        }
    }

    Result<bool> next_line(const Handler& handler)
    {
        for (;;) {
            Position start = src.position();
            std::string line;
            int c;
            while ((c = src.get()) >= 0 && c != '\n') {
                line.push_back(static_cast<char>(c));
                if (line.size() > (256u << 20))
                    return fail(Errc::invalid_input, "cannot parse '" + src.name() + "': line " +
                                                         std::to_string(start.line) + " is longer than 256 MiB");
            }
            if (c < 0 && line.empty()) {
                if (!src.io_error().empty())
                    return fail(Errc::unavailable, "cannot read '" + src.name() + "': " + src.io_error());
                return false;
            }
            if (text::trim(line).empty()) continue;
            auto sub = ByteSource::from_string(std::move(line), src.name());
            sub->set_position(start);
            skip_space(*sub);
            return parse_one(*sub, handler, /*strict=*/true);
        }
    }
};

Reader::Reader(ByteSource& src, Selection selection, Limits limits)
    : m_impl(new Impl{src, compile(selection.records), compile(selection.context), json_slice::Fields(selection.fields),
                      limits})
{
    m_impl->whole = selection.whole_documents;
}

Reader::~Reader() = default;

Result<bool> Reader::next(const Handler& handler)
{
    if (m_impl->line_mode) return m_impl->next_line(handler);
    auto& src = m_impl->src;
    skip_space(src);
    if (src.peek() < 0) {
        if (!src.io_error().empty())
            return fail(Errc::unavailable, "cannot read '" + src.name() + "': " + src.io_error());
        return false;
    }
    std::uint64_t start_line = src.position().line;
    auto r = m_impl->parse_one(src, handler, /*strict=*/false);
    if (r && !m_impl->decided) m_impl->decide(start_line);
    return r;
}

void Reader::skip_line()
{
    if (m_impl->line_mode) return;  // the bad line is already consumed
    // Resynchronizing after an error is line-based from here on.
    m_impl->decided = true;
    m_impl->line_mode = true;
    auto& src = m_impl->src;
    for (;;) {
        int c = src.get();
        if (c < 0 || c == '\n') return;
    }
}

namespace {

/// The deepest nesting of arrays and objects in text, outside strings.
std::size_t nesting(std::string_view text)
{
    std::size_t depth = 0, deepest = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            deepest = std::max(deepest, ++depth);
        } else if ((c == '}' || c == ']') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

}  // namespace

Result<json> parse_document(std::string_view text, const std::string& name, Limits limits)
{
    // The common case, a well-formed document within the limits, parses
    // straight from memory; anything else takes the reader below, whose
    // errors give line and column.
    if (nesting(text) <= limits.max_depth) {
        json fast = json::parse(text.begin(), text.end(), nullptr, false);
        if (!fast.is_discarded()) return fast;
    }
    auto src = ByteSource::from_string(std::string(text), name);
    Reader reader(*src, Selection{{""}, {}, true}, limits);
    json out;
    bool got = false;
    Handler h;
    h.record = [&](Record&& r, const Context&) {
        out = std::move(r.value);
        got = true;
    };
    auto r = reader.next(h);
    if (!r) return r.error();
    if (!*r || !got) return fail(Errc::invalid_input, "cannot parse '" + name + "': empty input");
    skip_space(*src);
    if (src->peek() >= 0) {
        const Position& p = src->position();
        return fail(Errc::invalid_input, "cannot parse '" + name + "': line " + std::to_string(p.line) + ", column " +
                                             std::to_string(p.column) + ": unexpected data after the JSON document");
    }
    return out;
}

}  // namespace infra::core::json_stream
