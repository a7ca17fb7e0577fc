#include "core/input.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace infra::core {
namespace {
constexpr std::size_t k_block = 64 * 1024;
}

Result<std::unique_ptr<ByteSource>> ByteSource::open(const std::string& path)
{
    std::unique_ptr<ByteSource> src(new ByteSource());
    if (path == "-" || path.empty()) {
        src->m_name = "<stdin>";
        src->m_fd = STDIN_FILENO;
    } else {
        src->m_name = path;
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return fail(errno == ENOENT ? Errc::not_found : Errc::unavailable,
                        "cannot open '" + path + "': " + std::strerror(errno));
        struct stat st {};
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
            ::close(fd);
            return fail(Errc::invalid_input, "cannot read '" + path + "': is a directory");
        }
        src->m_fd = fd;
        src->m_owns_fd = true;
    }
    src->m_buf.resize(k_block);
    return src;
}

std::unique_ptr<ByteSource> ByteSource::from_string(std::string data, std::string name)
{
    std::unique_ptr<ByteSource> src(new ByteSource());
    src->m_name = std::move(name);
    src->m_end = data.size();
    src->m_buf = std::move(data);
    src->m_eof = true;
    return src;
}

ByteSource::~ByteSource()
{
    if (m_owns_fd) ::close(m_fd);
}

bool ByteSource::refill()
{
    if (m_eof) return false;
    // Keep unread bytes (a peeked prefix may still be in the buffer).
    if (m_pos > 0) {
        std::memmove(m_buf.data(), m_buf.data() + m_pos, m_end - m_pos);
        m_end -= m_pos;
        m_pos = 0;
    }
    if (m_buf.size() - m_end < k_block / 2) m_buf.resize(m_buf.size() + k_block);
    for (;;) {
        ssize_t n = ::read(m_fd, m_buf.data() + m_end, m_buf.size() - m_end);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            m_io_error = std::strerror(errno);
            m_eof = true;
            return m_pos < m_end;
        }
        if (n == 0) {
            m_eof = true;
            return m_pos < m_end;
        }
        m_end += static_cast<std::size_t>(n);
        return true;
    }
}

std::string_view ByteSource::more()
{
    refill();
    return std::string_view(m_buf.data() + m_pos, m_end - m_pos);
}

void ByteSource::advance(std::size_t n)
{
    if (n == 0) return;
    // All bytes but the last in bulk; the last through get(), which also
    // sets last_position().
    const char* begin = m_buf.data() + m_pos;
    const char* end = begin + n - 1;
    const char* line_start = begin;
    for (const char* nl; (nl = static_cast<const char*>(std::memchr(line_start, '\n', end - line_start)));) {
        ++m_where.line;
        m_where.column = 1;
        line_start = nl + 1;
    }
    for (const char* p = line_start; p < end; ++p) m_where.column += (static_cast<unsigned char>(*p) & 0xC0) != 0x80;
    m_where.offset += n - 1;
    m_pos += n - 1;
    get();
}

std::string_view ByteSource::peek_prefix(std::size_t n)
{
    while (m_end - m_pos < n && !m_eof) {
        if (m_buf.size() - m_end < k_block && m_pos == 0) m_buf.resize(m_buf.size() + k_block);
        std::size_t before = m_end - m_pos;
        refill();
        if (m_end - m_pos == before) break;
    }
    return std::string_view(m_buf.data() + m_pos, std::min(n, m_end - m_pos));
}

Result<std::string> ByteSource::read_all(std::size_t limit)
{
    std::string out;
    for (;;) {
        if (m_pos == m_end && !refill()) break;
        out.append(m_buf.data() + m_pos, m_end - m_pos);
        for (std::size_t i = m_pos; i < m_end; ++i)
            if (m_buf[i] == '\n') ++m_where.line;
        m_where.offset += m_end - m_pos;
        m_pos = m_end;
        if (out.size() > limit)
            return fail(Errc::invalid_input,
                        "cannot read '" + m_name + "': larger than " + std::to_string(limit) + " bytes");
    }
    if (!m_io_error.empty()) return fail(Errc::unavailable, "cannot read '" + m_name + "': " + m_io_error);
    return out;
}

}  // namespace infra::core
