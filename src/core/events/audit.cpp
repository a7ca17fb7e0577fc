#include "core/events/audit.hpp"

#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/store/db.hpp"

#include <deque>
#include <iterator>
#include <map>

namespace infra::core::events::audit {

const std::string k_genesis(64, '0');

namespace {

constexpr const char* k_head_key = "audit.head";

void put(std::string& out, std::string_view field)
{
    out += std::to_string(field.size());
    out += ':';
    out += field;
    out += ',';
}

constexpr const char* k_read_head = "SELECT value FROM meta WHERE key = ?";
constexpr const char* k_write_head = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value";

Status set_head(store::Db& db, const Head& h)
{
    auto s = db.prepare(k_write_head);
    if (!s) return s.error();
    s->bind(1, k_head_key).bind(2, to_string(h));
    return s->run();
}

// The head at a statement that ran k_read_head (its row, if any, current).
Result<std::optional<Head>> read_head(store::Db& db, store::Stmt& s, bool found)
{
    if (!found) return std::optional<Head>{};
    auto h = parse_head(s.text(0));
    if (!h)
        return fail(Errc::invalid_input,
                    "database '" + db.path() + "': the audit head '" + s.text(0) + "' is malformed");
    return std::optional<Head>{*h};
}

std::string data_text(const Event& e)
{
    return e.data.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

const char* const k_select =
    "SELECT seq, time, COALESCE(task_id, ''), type, data, COALESCE(trace_id, ''), COALESCE(span_id, ''), "
    "COALESCE(parent_id, ''), COALESCE(prev_hash, ''), COALESCE(hash, '') FROM events ";

Record read_record(const store::Stmt& s)
{
    Record r;
    r.seq = s.integer(0);
    r.event.time = s.text(1);
    r.event.task_id = s.text(2);
    r.event.type = s.text(3);
    r.data_text = s.text(4);
    r.event.trace_id = s.text(5);
    r.event.span_id = s.text(6);
    r.event.parent_id = s.text(7);
    r.prev_hash = s.text(8);
    r.hash = s.text(9);
    return r;
}

namespace {

bool holds_at(const Record& r, std::int64_t seq)
{
    return link_hash(r.prev_hash, seq, r.event, r.data_text) == r.hash;
}

Problem problem(std::int64_t seq, std::string kind, std::string message)
{
    return {seq, std::move(kind), std::move(message)};
}

// Names what happened at the first record r that does not hold, from the
// records around it (window, in seq order, r among them).
Problem classify(const Record& r, const std::string& expected_prev, std::int64_t expected_seq,
                 const std::deque<Record>& window, const std::optional<Head>& recorded_head)
{
    std::string at = "event " + std::to_string(r.seq);
    if (holds_at(r, r.seq)) {
        if (expected_seq > 0 && r.seq > expected_seq)
            return problem(expected_seq, "deleted",
                           r.seq == expected_seq + 1 ? "event " + std::to_string(expected_seq) + " is missing"
                                                     : "events " + std::to_string(expected_seq) + " to " +
                                                           std::to_string(r.seq - 1) + " are missing");
        if (expected_seq == 0) return problem(r.seq, "deleted", "the events before " + at + " are missing");
        for (const auto& o : window)
            if (o.seq != r.seq && o.hash == r.prev_hash)
                return problem(r.seq, "reordered",
                               at + " was chained after event " + std::to_string(o.seq) + ", not after event " +
                                   std::to_string(r.seq - 1));
        return problem(r.seq - 1, "changed",
                       "event " + std::to_string(r.seq - 1) + " is not the event that " + at +
                           " was chained to: it was changed or replaced");
    }
    if (recorded_head && r.seq > recorded_head->seq)
        return problem(r.seq, "inserted", at + " comes after the recorded head: it was added outside infra-agent");
    for (const auto& o : window)
        if (o.seq > r.seq && o.hash == r.prev_hash)
            return problem(r.seq, "reordered", at + " was recorded after event " + std::to_string(o.seq));
    const Record* next = nullptr;
    for (const auto& o : window)
        if (o.seq == r.seq + 1) next = &o;
    if (next && holds_at(*next, next->seq - 1) && next->prev_hash == expected_prev)
        return problem(r.seq, "inserted",
                       at + " was inserted: event " + std::to_string(next->seq) + " was recorded as " + at);
    if (holds_at(r, r.seq - 1) && r.prev_hash != expected_prev)
        return problem(r.seq - 1, "inserted",
                       "event " + std::to_string(r.seq - 1) + " was inserted: " + at + " was recorded as event " +
                           std::to_string(r.seq - 1));
    if (holds_at(r, r.seq + 1))
        return problem(r.seq, "deleted",
                       "an event before " + at + " was deleted and the rest renumbered: " + at +
                           " was recorded as event " + std::to_string(r.seq + 1));
    for (const auto& o : window)
        if (o.seq != r.seq && holds_at(r, o.seq))
            return problem(r.seq, "reordered", at + " was recorded as event " + std::to_string(o.seq));
    return problem(r.seq, "changed", at + " does not match its hash: it was changed");
}

}  // namespace

std::string link_hash(const std::string& prev_hash, std::int64_t seq, const Event& e, const std::string& data_text)
{
    std::string in;
    in.reserve(prev_hash.size() + data_text.size() + e.type.size() + 160);
    put(in, prev_hash);
    put(in, std::to_string(seq));
    put(in, e.time);
    put(in, e.task_id);
    put(in, e.type);
    put(in, e.trace_id);
    put(in, e.span_id);
    put(in, e.parent_id);
    put(in, data_text);
    return crypto::sha256_hex(in);
}

std::string to_string(const Head& h)
{
    return std::to_string(h.seq) + ":" + h.hash;
}

std::optional<Head> parse_head(std::string_view s)
{
    auto colon = s.find(':');
    if (colon == std::string_view::npos || colon == 0 || s.size() - colon - 1 != 64) return std::nullopt;
    Head h;
    for (char c : s.substr(0, colon)) {
        if (c < '0' || c > '9' || h.seq > (INT64_MAX - 9) / 10) return std::nullopt;
        h.seq = h.seq * 10 + (c - '0');
    }
    h.hash = std::string(s.substr(colon + 1));
    for (char c : h.hash)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
    return h;
}

Result<std::optional<Head>> head(store::Db& db)
{
    auto s = db.prepare(k_read_head);
    if (!s) return s.error();
    s->bind(1, k_head_key);
    auto row = s->step();
    if (!row) return row.error();
    return read_head(db, *s, *row);
}

Head Prepared::last() const
{
    if (hashes.empty()) return from;
    return {from.seq + static_cast<std::int64_t>(hashes.size()), hashes.back()};
}

namespace {

// Links events[from_index...] on from the link before them.
void link(Prepared& p, std::size_t from_index)
{
    std::string prev = from_index == 0 ? p.from.hash : p.hashes[from_index - 1];
    for (std::size_t i = from_index; i < p.events.size(); ++i) {
        p.hashes[i] = link_hash(prev, p.from.seq + 1 + static_cast<std::int64_t>(i), p.events[i], p.texts[i]);
        prev = p.hashes[i];
    }
}

// Rows per INSERT statement, the most that fit first: one statement for
// many rows costs SQLite far less than a statement per row (10 parameters a
// row, well under the limit).
constexpr std::size_t k_insert_rows[] = {64, 8, 1};

std::string insert_sql(std::size_t rows)
{
    std::string sql =
        "INSERT INTO events (seq, time, task_id, type, data, trace_id, span_id, parent_id, prev_hash, hash) VALUES ";
    for (std::size_t r = 0; r < rows; ++r)
        sql += r ? ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    return sql;
}

}  // namespace

Prepared prepare(std::vector<Event> batch, Head from)
{
    Prepared p;
    p.from = std::move(from);
    // An event about a task that was emitted outside the task's span (a
    // heartbeat, an approval, a lease that expired) joins the task's trace:
    // here when the batch knows it, in append() from the log otherwise.
    std::map<std::string, std::string> trace_of;
    for (const auto& e : batch)
        if (!e.trace_id.empty() && !e.task_id.empty()) trace_of[e.task_id] = e.trace_id;
    p.texts.reserve(batch.size());
    for (auto& e : batch) {
        if (e.trace_id.empty() && !e.task_id.empty())
            if (auto known = trace_of.find(e.task_id); known != trace_of.end()) e.trace_id = known->second;
        p.texts.push_back(log::redact(data_text(e)));
        e.data = nullptr;  // its text is what is stored: freed here, not in the writer's transaction
    }
    p.events = std::move(batch);
    p.hashes.resize(p.events.size());
    link(p, 0);
    return p;
}

Prepared join(std::vector<Prepared> parts)
{
    if (parts.empty()) return {};
    Prepared all = std::move(parts.front());
    for (std::size_t i = 1; i < parts.size(); ++i) {
        Prepared& p = parts[i];
        std::move(p.events.begin(), p.events.end(), std::back_inserter(all.events));
        std::move(p.texts.begin(), p.texts.end(), std::back_inserter(all.texts));
        std::move(p.hashes.begin(), p.hashes.end(), std::back_inserter(all.hashes));
    }
    return all;
}

Appender::Appender(store::Db& db) : m_db(db) {}
Appender::~Appender() = default;

Result<store::Stmt*> Appender::stmt(std::unique_ptr<store::Stmt>& slot, const std::string& sql)
{
    if (!slot) {
        auto s = m_db.prepare(sql);
        if (!s) return s.error();
        slot = std::make_unique<store::Stmt>(std::move(*s));
    }
    slot->reset();
    return slot.get();
}

Result<Head> Appender::append(Prepared& p)
{
    // The chain goes on from the recorded head, not from the last row: an
    // event deleted from the end stays a gap that verify reports.
    auto read = stmt(m_head, k_read_head);
    if (!read) return read.error();
    (*read)->bind(1, k_head_key);
    auto row = (*read)->step();
    if (!row) return row.error();
    auto h = read_head(m_db, **read, *row);
    (*read)->reset();
    if (!h) return h.error();
    Head recorded = h->value_or(Head{0, k_genesis});
    if (p.events.empty()) return recorded;
    std::size_t relink = p.events.size();
    if (!(recorded == p.from)) {
        p.from = std::move(recorded);
        relink = 0;
    }
    std::map<std::string, std::string> trace_of;
    for (std::size_t i = 0; i < p.events.size(); ++i) {
        Event& e = p.events[i];
        if (!e.trace_id.empty() || e.task_id.empty()) continue;
        auto known = trace_of.find(e.task_id);
        if (known == trace_of.end()) {
            auto traced = stmt(
                m_traced,
                "SELECT trace_id FROM events WHERE task_id = ? AND trace_id IS NOT NULL ORDER BY seq DESC LIMIT 1");
            if (!traced) return traced.error();
            (*traced)->bind(1, e.task_id);
            auto found = (*traced)->step();
            if (!found) return found.error();
            known = trace_of.emplace(e.task_id, *found ? (*traced)->text(0) : std::string()).first;
            (*traced)->reset();
        }
        if (known->second.empty()) continue;
        e.trace_id = known->second;
        relink = std::min(relink, i);
    }
    if (relink < p.events.size()) link(p, relink);

    for (std::size_t at = 0; at < p.events.size();) {
        std::size_t size = 0;
        while (k_insert_rows[size] > p.events.size() - at) ++size;
        std::size_t rows = k_insert_rows[size];
        auto ins = stmt(m_inserts[size], insert_sql(rows));
        if (!ins) return ins.error();
        for (std::size_t r = 0; r < rows; ++r) {
            std::size_t i = at + r;
            const Event& e = p.events[i];
            int c = static_cast<int>(r * 10);
            auto text_or_null = [&](int col, const std::string& v) {
                if (v.empty()) (*ins)->bind_null(c + col);
                else (*ins)->bind(c + col, v);
            };
            (*ins)->bind(c + 1, p.from.seq + 1 + static_cast<std::int64_t>(i)).bind(c + 2, e.time).bind(c + 4, e.type);
            (*ins)
                ->bind(c + 5, p.texts[i])
                .bind(c + 9, i == 0 ? p.from.hash : p.hashes[i - 1])
                .bind(c + 10, p.hashes[i]);
            text_or_null(3, e.task_id);
            text_or_null(6, e.trace_id);
            text_or_null(7, e.span_id);
            text_or_null(8, e.parent_id);
        }
        if (auto st = (*ins)->run(); !st) return st.error();
        at += rows;
    }
    Head now = p.last();
    auto set = stmt(m_set_head, k_write_head);
    if (!set) return set.error();
    (*set)->bind(1, k_head_key).bind(2, to_string(now));
    if (auto st = (*set)->run(); !st) return st.error();
    return now;
}

Status append(store::Db& db, const std::vector<Event>& batch)
{
    if (batch.empty()) return {};
    Prepared p = prepare(batch, Head{0, k_genesis});
    auto h = Appender(db).append(p);
    if (!h) return h.error();
    return {};
}

Status adopt_unchained(store::Db& db)
{
    auto sel = db.prepare(std::string(k_select) + "ORDER BY seq");
    if (!sel) return sel.error();
    auto upd = db.prepare("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?");
    if (!upd) return upd.error();
    Head link{0, k_genesis};
    std::vector<std::pair<std::int64_t, std::pair<std::string, std::string>>> links;
    for (;;) {
        auto row = sel->step();
        if (!row) return row.error();
        if (!*row) break;
        Record r = read_record(*sel);
        // In their order: events were never deleted before, so seq has no gaps.
        std::string hash = link_hash(link.hash, r.seq, r.event, r.data_text);
        links.push_back({r.seq, {link.hash, hash}});
        link = {r.seq, std::move(hash)};
    }
    for (const auto& [seq, l] : links) {
        upd->reset();
        upd->bind(1, l.first).bind(2, l.second).bind(3, seq);
        if (auto st = upd->run(); !st) return st;
    }
    if (!links.empty())
        if (auto st = set_head(db, link); !st) return st;
    if (db.dialect() == store::Dialect::postgres)
        return db.exec(R"sql(
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: events cannot be %',
        CASE TG_OP WHEN 'UPDATE' THEN 'changed' ELSE 'deleted' END;
END $$;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();
)sql");
    return db.exec(R"sql(
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: events cannot be changed'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: events cannot be deleted'); END;
)sql");
}

Status scan(store::Db& db, std::int64_t from, const std::function<Status(const Record&)>& visit)
{
    auto snapshot = store::Snapshot::begin(db);  // one snapshot while others append
    if (!snapshot) return snapshot.error();
    auto sel = db.prepare(std::string(k_select) + "WHERE seq >= ? ORDER BY seq");
    if (!sel) return sel.error();
    sel->bind(1, from);
    for (;;) {
        auto row = sel->step();
        if (!row) return row.error();
        if (!*row) return {};
        if (auto st = visit(read_record(*sel)); !st) return st;
    }
}

Result<Report> verify(store::Db& db, const std::optional<Head>& expected)
{
    // One read transaction: the head and the rows are one snapshot, even
    // while other processes append.
    auto snapshot = store::Snapshot::begin(db);
    if (!snapshot) return snapshot.error();

    auto recorded = head(db);
    if (!recorded) return recorded.error();
    Report out;
    std::string expected_prev = k_genesis;
    std::int64_t expected_seq = 0;  // 0: the first row may have any seq
    bool expected_seen = false;
    std::deque<Record> window;  // the last records seen, for classify
    std::optional<Record> bad;
    int after_bad = 0;
    auto sel = db.prepare(std::string(k_select) + "ORDER BY seq");
    if (!sel) return sel.error();
    for (;;) {
        auto row = sel->step();
        if (!row) return row.error();
        if (!*row) break;
        Record r = read_record(*sel);
        window.push_back(r);
        if (window.size() > 48) window.pop_front();
        if (bad) {
            if (++after_bad >= 16) break;
            continue;
        }
        // expected_prev starts as the genesis hash: the first event must follow it.
        if (!holds_at(r, r.seq) || r.prev_hash != expected_prev || (expected_seq != 0 && r.seq != expected_seq)) {
            bad = r;
            continue;
        }
        if (expected && r.seq == expected->seq) {
            expected_seen = true;
            if (r.hash != expected->hash) {
                out.problem = problem(r.seq, "changed",
                                      "event " + std::to_string(r.seq) +
                                          " is not the event of the head kept elsewhere: the log was rewritten");
                return out;
            }
        }
        ++out.events;
        out.head = Head{r.seq, r.hash};
        expected_prev = r.hash;
        expected_seq = r.seq + 1;
    }
    if (bad) {
        out.problem = classify(*bad, expected_prev, expected_seq, window, *recorded);
        return out;
    }
    std::int64_t last = out.head ? out.head->seq : 0;
    if (*recorded) {
        const Head& h = **recorded;
        if (last < h.seq)
            out.problem = problem(last + 1, "deleted",
                                  last + 1 == h.seq ? "event " + std::to_string(h.seq) + ", the newest, is missing"
                                                    : "events " + std::to_string(last + 1) + " to " +
                                                          std::to_string(h.seq) + ", the newest, are missing");
        else if (last > h.seq)
            out.problem = problem(h.seq + 1, "inserted",
                                  "events after " + std::to_string(h.seq) + " were added outside infra-agent");
        else if (out.head->hash != h.hash)
            out.problem = problem(last, "changed", "event " + std::to_string(last) + " is not the recorded head");
    } else if (out.head) {
        out.problem = problem(out.head->seq, "inserted", "the log has events but no recorded head");
    }
    if (!out.problem && expected && !expected_seen)
        out.problem =
            problem(expected->seq, "deleted",
                    "event " + std::to_string(expected->seq) + " of the head kept elsewhere is not in the log");
    return out;
}

json to_json(const Record& r)
{
    json j = events::to_json(r.event);
    j.erase("type");
    json out = {{"seq", r.seq}};
    for (auto& [k, v] : j.items()) out[k] = std::move(v);
    out["data"] = json::parse(r.data_text, nullptr, false);
    if (out["data"].is_discarded()) out["data"] = r.data_text;
    out["prevHash"] = r.prev_hash;
    out["hash"] = r.hash;
    return out;
}

}  // namespace infra::core::events::audit
