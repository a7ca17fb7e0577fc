#include "core/store/pg.hpp"

#include "core/store/libpq.hpp"
#include "core/text.hpp"

#include <cstdlib>

namespace infra::core::store::pg {

namespace {

/// libpq's message without its trailing newline.
std::string message(const char* text)
{
    std::string msg = text ? text : "";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return msg;
}

}  // namespace

Rows::~Rows()
{
    if (m_r) libpq().PQclear(m_r);
}

int Rows::size() const
{
    return libpq().PQntuples(m_r);
}

std::int64_t Rows::affected() const
{
    const char* n = libpq().PQcmdTuples(m_r);
    return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

std::string Rows::text(int row, int col) const
{
    return std::string(libpq().PQgetvalue(m_r, row, col), static_cast<std::size_t>(libpq().PQgetlength(m_r, row, col)));
}

std::int64_t Rows::integer(int row, int col) const
{
    const char* v = libpq().PQgetvalue(m_r, row, col);
    if (libpq().PQfformat(m_r, col) == 0) return std::strtoll(v, nullptr, 10);
    // Binary: a big-endian int2, int4 or int8.
    int n = libpq().PQgetlength(m_r, row, col);
    std::uint64_t u = 0;
    for (int i = 0; i < n; ++i) u = u << 8 | static_cast<unsigned char>(v[i]);
    if (n == 2) return static_cast<std::int16_t>(u);
    if (n == 4) return static_cast<std::int32_t>(u);
    return static_cast<std::int64_t>(u);
}

bool Rows::is_null(int row, int col) const
{
    return libpq().PQgetisnull(m_r, row, col) != 0;
}

std::string Rows::bytes(int row, int col) const
{
    const char* v = libpq().PQgetvalue(m_r, row, col);
    std::size_t n = static_cast<std::size_t>(libpq().PQgetlength(m_r, row, col));
    if (libpq().PQfformat(m_r, col) == 1) return std::string(v, n);
    std::string out;
    if (n < 2 || v[0] != '\\' || v[1] != 'x') return out;
    out.reserve((n - 2) / 2);
    auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    for (std::size_t i = 2; i + 1 < n; i += 2) out.push_back(static_cast<char>(nibble(v[i]) << 4 | nibble(v[i + 1])));
    return out;
}

bool Rows::is_bytea(int col) const
{
    constexpr Oid k_bytea = 17;
    return libpq().PQftype(m_r, col) == k_bytea;
}

Placeholders placeholders(std::string_view sql)
{
    Placeholders out;
    out.text.reserve(sql.size() + 8);
    int last = 0;  // SQLite numbers a bare '?' one past the largest index so far
    auto number_of = [&](int index) {
        for (std::size_t k = 0; k < out.order.size(); ++k)
            if (out.order[k] == index) return static_cast<int>(k) + 1;
        out.order.push_back(index);
        return static_cast<int>(out.order.size());
    };
    for (std::size_t i = 0; i < sql.size(); ++i) {
        char c = sql[i];
        if (c == '\'' || c == '"') {
            std::size_t end = sql.find(c, i + 1);
            if (end == std::string_view::npos) end = sql.size() - 1;
            out.text.append(sql.substr(i, end - i + 1));
            i = end;
            continue;
        }
        if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            std::size_t end = sql.find('\n', i);
            if (end == std::string_view::npos) end = sql.size() - 1;
            out.text.append(sql.substr(i, end - i + 1));
            i = end;
            continue;
        }
        if (c != '?') {
            out.text.push_back(c);
            continue;
        }
        int index = 0;
        std::size_t j = i + 1;
        while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9' && index < 100000)
            index = index * 10 + (sql[j++] - '0');
        if (j == i + 1) index = last + 1;
        if (index > last) last = index;
        out.text += '$';
        out.text += std::to_string(number_of(index));
        i = j - 1;
    }
    return out;
}

core::Result<std::unique_ptr<Conn>> Conn::open(const std::string& url)
{
    if (auto loaded = load_libpq(); !loaded) return loaded.error();
    std::unique_ptr<Conn> c(new Conn());
    c->m_where = core::text::redact_url(url);
    c->m_conn = libpq().PQconnectdb(url.c_str());
    if (!c->m_conn) return fail(Errc::unavailable, "cannot connect to '" + c->m_where + "': out of memory");
    if (libpq().PQstatus(c->m_conn) != CONNECTION_OK) {
        return fail(Errc::unavailable,
                    "cannot connect to '" + c->m_where + "': " + message(libpq().PQerrorMessage(c->m_conn)));
    }
    // Notices (e.g. "relation already exists, skipping") are not errors.
    libpq().PQsetNoticeProcessor(
        c->m_conn, [](void*, const char*) {}, nullptr);
    return c;
}

Conn::~Conn()
{
    if (m_conn) libpq().PQfinish(m_conn);
}

core::Error Conn::error(std::string_view what) const
{
    return core::make_error(Errc::unavailable,
                            "'" + m_where + "': " + std::string(what) + ": " + message(libpq().PQerrorMessage(m_conn)));
}

core::Result<Rows> Conn::query(std::string_view sql, const std::vector<Param>& params, Results results, bool prepare)
{
    std::vector<const char*> values(params.size());
    std::vector<int> lengths(params.size()), formats(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        values[i] = params[i].kind == Param::Kind::null ? nullptr : params[i].value.data();
        lengths[i] = static_cast<int>(params[i].value.size());
        formats[i] = params[i].kind == Param::Kind::bytes ? 1 : 0;
    }
    std::string text(sql);
    int format = results == Results::binary ? 1 : 0;
    if (params.empty() || !prepare)
        return result(Rows(libpq().PQexecParams(m_conn, text.c_str(), static_cast<int>(params.size()), nullptr,
                                                values.data(), lengths.data(), formats.data(), format)));
    for (int attempt = 0;; ++attempt) {
        auto known = m_prepared.find(text);
        if (known == m_prepared.end()) {
            // A bound on what a connection keeps on the server (statements are
            // this program's own, so few in practice).
            if (m_prepared.size() >= 256) {
                if (auto st = exec("DEALLOCATE ALL"); !st) return st.error();
                m_prepared.clear();
            }
            std::string name = "infra_" + std::to_string(++m_statements);
            auto prepared = result(
                Rows(libpq().PQprepare(m_conn, name.c_str(), text.c_str(), static_cast<int>(params.size()), nullptr)));
            if (!prepared) return prepared.error();
            known = m_prepared.emplace(text, std::move(name)).first;
        }
        auto r = result(Rows(libpq().PQexecPrepared(m_conn, known->second.c_str(), static_cast<int>(params.size()),
                                                    values.data(), lengths.data(), formats.data(), format)));
        // A table changed since this connection prepared the statement: prepare it again.
        if (!r && attempt == 0 &&
            r.error().message.find("cached plan must not change result type") != std::string::npos &&
            libpq().PQtransactionStatus(m_conn) == PQTRANS_IDLE) {
            (void)exec("DEALLOCATE " + known->second);
            m_prepared.erase(known);
            continue;
        }
        return r;
    }
}

core::Result<Rows> Conn::result(Rows r)
{
    auto status = libpq().PQresultStatus(r.m_r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
    const char* state = libpq().PQresultErrorField(r.m_r, PG_DIAG_SQLSTATE);
    std::string msg = message(libpq().PQresultErrorMessage(r.m_r));
    // 23xxx: integrity constraint violations (a unique index, say).
    Errc code = state && std::string_view(state).substr(0, 2) == "23" ? Errc::conflict : Errc::unavailable;
    if (msg.empty()) msg = message(libpq().PQerrorMessage(m_conn));
    return fail(code, "'" + m_where + "': " + msg);
}

core::Status Conn::exec(std::string_view sql)
{
    std::string text(sql);
    Rows r(libpq().PQexec(m_conn, text.c_str()));
    auto status = libpq().PQresultStatus(r.m_r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {};
    std::string msg = message(libpq().PQresultErrorMessage(r.m_r));
    if (msg.empty()) msg = message(libpq().PQerrorMessage(m_conn));
    return fail(Errc::unavailable, "'" + m_where + "': " + msg);
}

bool Conn::ok() const
{
    return libpq().PQstatus(m_conn) == CONNECTION_OK && libpq().PQtransactionStatus(m_conn) == PQTRANS_IDLE;
}

bool Conn::broken() const
{
    return libpq().PQstatus(m_conn) == CONNECTION_BAD;
}

int Conn::socket() const
{
    return libpq().PQsocket(m_conn);
}

bool Conn::take_notifications()
{
    if (!libpq().PQconsumeInput(m_conn)) return false;
    bool any = false;
    while (PGnotify* n = libpq().PQnotifies(m_conn)) {
        any = true;
        libpq().PQfreemem(n);
    }
    return any;
}

}  // namespace infra::core::store::pg
