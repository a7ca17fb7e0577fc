#pragma once
// Reading untrusted input: a buffered byte source that knows its line and
// column, so that every error can name the place.

#include "core/result.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace infra::core {

/// A position in an input, 1-based, as editors show it.
struct Position {
    std::uint64_t line = 1;
    std::uint64_t column = 1;
    std::uint64_t offset = 0;
};

/// Bytes from a file, stdin or memory, read in large blocks.
class ByteSource {
public:
    /// Opens path, or stdin when path is "-"; the display name is used in messages.
    static Result<std::unique_ptr<ByteSource>> open(const std::string& path);

    /// A source over bytes held in memory (tests, HTTP bodies, fuzzers).
    static std::unique_ptr<ByteSource> from_string(std::string data, std::string name = "<input>");

    ~ByteSource();
    ByteSource(const ByteSource&) = delete;
    ByteSource& operator=(const ByteSource&) = delete;

    /// The name used in messages: the path, or "<stdin>".
    const std::string& name() const { return m_name; }

    /// The next byte, or -1 at the end; advances the position.
    int get()
    {
        if (m_pos == m_end && !refill()) return -1;
        m_last = m_where;
        unsigned char c = static_cast<unsigned char>(m_buf[m_pos++]);
        ++m_where.offset;
        if (c == '\n') {
            ++m_where.line;
            m_where.column = 1;
        } else if ((c & 0xC0) != 0x80) {
            ++m_where.column;  // count UTF-8 characters, not bytes
        }
        return c;
    }

    /// The next byte without consuming it, or -1 at the end.
    int peek()
    {
        if (m_pos == m_end && !refill()) return -1;
        return static_cast<unsigned char>(m_buf[m_pos]);
    }

    /// The bytes buffered past the current position, reading more when
    /// there are none; empty at the end. For readers that scan in bulk.
    std::string_view window()
    {
        if (m_pos == m_end) refill();
        return std::string_view(m_buf.data() + m_pos, m_end - m_pos);
    }

    /// Reads once more without consuming anything: window() with the bytes
    /// of one more read after it, or as it was at the end of the input.
    std::string_view more();

    /// Consumes the first n bytes of window(), as n calls of get() would.
    void advance(std::size_t n);

    /// Up to n bytes from the current position without consuming them.
    std::string_view peek_prefix(std::size_t n);

    /// Reads everything that is left, failing past limit bytes.
    Result<std::string> read_all(std::size_t limit);

    /// Where the next byte will be read from.
    const Position& position() const { return m_where; }

    /// Where the byte last returned by get() was.
    const Position& last_position() const { return m_last; }

    /// Bytes consumed so far.
    std::uint64_t consumed() const { return m_where.offset; }

    /// Makes positions count from p (a line cut out of a larger input).
    void set_position(const Position& p) { m_where = p; }

    /// A read error (not end of input) seen by the last refill, if any.
    const std::string& io_error() const { return m_io_error; }

private:
    ByteSource() = default;
    bool refill();

    std::string m_name;
    int m_fd = -1;
    bool m_owns_fd = false;
    bool m_eof = false;
    std::string m_buf;
    std::size_t m_pos = 0;
    std::size_t m_end = 0;
    Position m_where;
    Position m_last;
    std::string m_io_error;
};

}  // namespace infra::core
