#pragma once
// The audit log: the events table, append-only and chained with SHA-256.
// Each event's hash covers the previous event's hash, its own sequence
// number and every field, so a changed, deleted, inserted or reordered event
// breaks the chain at the first place it was touched. The newest link (the
// head) is also kept in the meta table; a head copied elsewhere (`audit
// verify --head`) proves that nothing before it changed later.

#include "core/events/event.hpp"
#include "core/result.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace infra::core::store {
class Db;
class Stmt;
}  // namespace infra::core::store

namespace infra::core::events::audit {

/// The hash that precedes the first event.
extern const std::string k_genesis;

/// One stored event with its link.
struct Record {
    std::int64_t seq = 0;
    Event event;
    std::string data_text;  ///< the data exactly as stored (what the hash covers)
    std::string prev_hash;
    std::string hash;
};

/// The columns read_record() reads, as "SELECT ... FROM events " (add the
/// WHERE and ORDER BY).
extern const char* const k_select;

/// The record at a statement's current row (data left unparsed: data_text).
Record read_record(const store::Stmt& s);

/// The hash of one link: SHA-256 over prev_hash, seq and every field, each
/// length-prefixed so that no two different records hash alike.
std::string link_hash(const std::string& prev_hash, std::int64_t seq, const Event& e, const std::string& data_text);

/// A link of the chain: an event's seq and hash.
struct Head {
    std::int64_t seq = 0;
    std::string hash;
    bool operator==(const Head&) const = default;
};

/// Events made ready to append before the write transaction, so that the
/// transaction holds the database's write lock for the inserts only: each
/// event's stored text (secrets replaced), its trace where the batch knows
/// it, and its link computed from the head the writer expects (`from`).
struct Prepared {
    std::vector<Event> events;  ///< without their data: texts holds it
    std::vector<std::string> texts;
    std::vector<std::string> hashes;  ///< hashes[i] links events[i], seq from.seq + 1 + i
    Head from;
    /// The head after these events, if from holds.
    Head last() const;
};
Prepared prepare(std::vector<Event> batch, Head from);

/// Parts prepared one after another (each from the last of the one before)
/// as one, appended with one read and one write of the head.
Prepared join(std::vector<Prepared> parts);

/// Appends to the chain through one connection, its statements prepared
/// once (a sink keeps one for as long as its connection).
class Appender {
public:
    explicit Appender(store::Db& db);
    ~Appender();
    Appender(const Appender&) = delete;
    Appender& operator=(const Appender&) = delete;

    /// Appends prepared events to the chain and returns its new head. The
    /// links are kept when the recorded head is still batch.from, and
    /// computed again when another writer appended meanwhile. Must run
    /// inside a write transaction (BEGIN IMMEDIATE), which keeps concurrent
    /// writers from forking the chain.
    Result<Head> append(Prepared& batch);

private:
    Result<store::Stmt*> stmt(std::unique_ptr<store::Stmt>& slot, const std::string& sql);

    store::Db& m_db;
    std::unique_ptr<store::Stmt> m_head, m_set_head, m_traced;
    std::unique_ptr<store::Stmt> m_inserts[3];  // of k_insert_rows rows
};

/// prepare() and append() in one, inside the caller's write transaction.
Status append(store::Db& db, const std::vector<Event>& batch);

/// Chains events stored before the chain existed (schema migration 6) and
/// makes the events table append-only for SQL as well.
Status adopt_unchained(store::Db& db);

/// The newest link recorded in the meta table: nothing for an empty log.
Result<std::optional<Head>> head(store::Db& db);
/// "SEQ:HASH", and back.
std::string to_string(const Head& h);
std::optional<Head> parse_head(std::string_view s);

/// What verify found first, if anything.
struct Problem {
    std::int64_t seq = 0;  ///< the first event that does not hold
    std::string kind;      ///< changed, deleted, inserted, reordered, truncated
    std::string message;
};

struct Report {
    std::int64_t events = 0;
    std::optional<Head> head;        ///< the last verified link
    std::optional<Problem> problem;  ///< empty when the whole chain holds
};

/// Walks the whole log in order, in one read transaction (one snapshot).
/// expected, when given, must be a link of the chain (an earlier head kept
/// elsewhere).
Result<Report> verify(store::Db& db, const std::optional<Head>& expected = std::nullopt);

/// Every record with from <= seq, in order, to visit (audit export), read in
/// one read transaction like verify.
Status scan(store::Db& db, std::int64_t from, const std::function<Status(const Record&)>& visit);

/// The record as one JSON object, with its links (audit export's lines).
json to_json(const Record& r);

}  // namespace infra::core::events::audit
