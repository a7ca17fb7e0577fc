#include "core/change/forge.hpp"

#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <chrono>

namespace infra::core::change {
namespace {

constexpr const char* k_columns =
    "id, forge, repository, branch, base, number, url, state, title, body, head_commit, task_id, dedupe_key, diff, "
    "labels, updates, created_at, updated_at, reason, findings";

PullRequest from_row(const store::Stmt& st)
{
    PullRequest p;
    p.id = st.text(0);
    p.forge = st.text(1);
    p.repository = st.text(2);
    p.branch = st.text(3);
    p.base = st.text(4);
    p.number = st.integer(5);
    p.url = st.text(6);
    p.state = st.text(7);
    p.title = st.text(8);
    p.body = st.text(9);
    p.head_commit = st.text(10);
    p.task_id = st.text(11);
    p.dedupe_key = st.text(12);
    p.diff = st.text(13);
    auto labels = json::parse(st.text(14), nullptr, false);
    if (labels.is_array())
        for (const auto& l : labels)
            if (l.is_string()) p.labels.push_back(l.get<std::string>());
    p.updates = st.integer(15);
    p.created_ms = st.integer(16);
    p.updated_ms = st.integer(17);
    p.reason = st.text(18);
    p.findings = json::parse(st.text(19), nullptr, false);
    if (!p.findings.is_array()) p.findings = json::array();
    return p;
}

std::int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Result<std::vector<PullRequest>> collect(store::Stmt& st)
{
    std::vector<PullRequest> out;
    while (true) {
        auto row = st.step();
        if (!row) return fail(row.error());
        if (!*row) break;
        out.push_back(from_row(st));
    }
    return out;
}

}  // namespace

json PullRequest::to_json(bool with_body) const
{
    json j = {{"id", id},
              {"forge", forge},
              {"repository", repository},
              {"branch", branch},
              {"base", base},
              {"number", number},
              {"url", url},
              {"state", state},
              {"title", title},
              {"labels", labels},
              {"headCommit", head_commit},
              {"taskId", task_id},
              {"dedupeKey", dedupe_key},
              {"updates", updates},
              {"createdAt", timeutil::format_rfc3339_ms(created_ms)},
              {"updatedAt", timeutil::format_rfc3339_ms(updated_ms)},
              {"reason", reason},
              {"findings", findings}};
    if (with_body) {
        j["body"] = body;
        j["diff"] = diff;
    }
    return j;
}

PullRequest record_for(const std::string& forge, const PrRequest& req, const std::optional<PullRequest>& existing)
{
    PullRequest pr;
    if (existing) {
        pr = *existing;
    } else {
        pr.id = ids::new_ulid();
        pr.forge = forge;
        pr.repository = req.repository;
        pr.branch = req.branch;
        pr.dedupe_key = req.dedupe_key;
        pr.created_ms = now_ms();
    }
    pr.updated_ms = now_ms();
    pr.base = req.base;
    pr.state = "open";
    pr.title = req.title;
    pr.body = req.body;
    pr.labels = req.labels;
    pr.head_commit = req.head_commit;
    pr.task_id = req.task_id;
    pr.diff = req.diff;
    pr.findings = req.findings;
    pr.reason.clear();
    return pr;
}

Result<std::optional<PullRequest>> PrStore::find(const std::string& forge, const std::string& repository,
                                                 const std::string& branch)
{
    auto st = m_db.prepare(std::string("SELECT ") + k_columns +
                           " FROM pull_requests WHERE forge = ? AND repository = ? AND branch = ?");
    if (!st) return fail(st.error());
    st->bind(1, forge).bind(2, repository).bind(3, branch);
    auto rows = collect(*st);
    if (!rows) return fail(rows.error());
    if (rows->empty()) return std::optional<PullRequest>();
    return std::optional<PullRequest>(std::move(rows->front()));
}

Result<PullRequest> PrStore::get(const std::string& ref)
{
    std::string r = ref;
    if (!r.empty() && r[0] == '#') r.erase(0, 1);
    bool numeric = !r.empty() && r.size() < 12 && r.find_first_not_of("0123456789") == std::string::npos;
    auto st = numeric ? m_db.prepare(std::string("SELECT ") + k_columns +
                                     " FROM pull_requests WHERE number = ? ORDER BY updated_at DESC LIMIT 1")
                      : m_db.prepare(std::string("SELECT ") + k_columns +
                                     " FROM pull_requests WHERE id >= ? AND id < ? ORDER BY id LIMIT 2");
    if (!st) return fail(st.error());
    if (numeric) st->bind(1, static_cast<std::int64_t>(std::stoll(r)));
    else st->bind(1, r).bind(2, r + "\x7f");
    auto rows = collect(*st);
    if (!rows) return fail(rows.error());
    if (rows->empty()) return fail(Errc::not_found, "no pull request " + text::quote(ref));
    if (rows->size() > 1 && (*rows)[0].id != r)
        return fail(Errc::usage, "pull request id prefix " + text::quote(ref) + " is ambiguous");
    return std::move(rows->front());
}

Result<std::vector<PullRequest>> PrStore::list(const std::string& state, const std::string& repository,
                                               std::size_t limit)
{
    std::string sql = std::string("SELECT ") + k_columns + " FROM pull_requests WHERE TRUE";
    if (!state.empty()) sql += " AND state = ?1";
    if (!repository.empty()) sql += " AND repository = ?2";
    sql += " ORDER BY updated_at DESC LIMIT ?3";
    auto st = m_db.prepare(sql);
    if (!st) return fail(st.error());
    if (!state.empty()) st->bind(1, state);
    if (!repository.empty()) st->bind(2, repository);
    st->bind(3, static_cast<std::int64_t>(limit));
    return collect(*st);
}

Status PrStore::save(const PullRequest& pr, bool created, const std::string& comment)
{
    auto tx = store::Transaction::begin(m_db);
    if (!tx) return fail(tx.error());
    std::int64_t now = now_ms();
    json labels = pr.labels;
    if (created) {
        auto st = m_db.prepare("INSERT INTO pull_requests (id, forge, repository, branch, base, number, url, state, "
                               "title, body, head_commit, "
                               "task_id, dedupe_key, diff, labels, updates, created_at, updated_at, reason, findings) "
                               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)");
        if (!st) return fail(st.error());
        st->bind(1, pr.id)
            .bind(2, pr.forge)
            .bind(3, pr.repository)
            .bind(4, pr.branch)
            .bind(5, pr.base)
            .bind(6, pr.number);
        st->bind(7, pr.url).bind(8, pr.state).bind(9, pr.title).bind(10, pr.body).bind(11, pr.head_commit);
        st->bind(12, pr.task_id)
            .bind(13, pr.dedupe_key)
            .bind(14, pr.diff)
            .bind(15, labels.dump())
            .bind(16, now)
            .bind(17, now);
        st->bind(18, pr.reason).bind(19, pr.findings.dump());
        if (auto r = st->run(); !r) return fail(r.error());
    } else {
        auto st = m_db.prepare(
            "UPDATE pull_requests SET url = ?, state = ?, title = ?, body = ?, head_commit = ?, task_id = ?, diff = ?, "
            "labels = ?, number = ?, updates = updates + 1, updated_at = ?, reason = ?, findings = ? WHERE id = ?");
        if (!st) return fail(st.error());
        st->bind(1, pr.url).bind(2, pr.state).bind(3, pr.title).bind(4, pr.body).bind(5, pr.head_commit);
        st->bind(6, pr.task_id).bind(7, pr.diff).bind(8, labels.dump()).bind(9, pr.number).bind(10, now);
        st->bind(11, pr.reason).bind(12, pr.findings.dump()).bind(13, pr.id);
        if (auto r = st->run(); !r) return fail(r.error());
        auto up = m_db.prepare(
            "INSERT INTO pull_request_updates (pr_id, time, task_id, head_commit, comment) VALUES (?, ?, ?, ?, ?)");
        if (!up) return fail(up.error());
        up->bind(1, pr.id).bind(2, now).bind(3, pr.task_id).bind(4, pr.head_commit).bind(5, comment);
        if (auto r = up->run(); !r) return fail(r.error());
    }
    return tx->commit();
}

Status PrStore::set_state(const std::string& pr_id, const std::string& state, const std::string& reason,
                          const std::string& comment)
{
    auto tx = store::Transaction::begin(m_db);
    if (!tx) return fail(tx.error());
    std::int64_t now = now_ms();
    auto st = m_db.prepare("UPDATE pull_requests SET state = ?, reason = ?, updated_at = ? WHERE id = ?");
    if (!st) return fail(st.error());
    st->bind(1, state).bind(2, reason).bind(3, now).bind(4, pr_id);
    if (auto r = st->run(); !r) return fail(r.error());
    auto up = m_db.prepare("INSERT INTO pull_request_updates (pr_id, time, task_id, head_commit, comment) "
                           "SELECT id, ?, task_id, head_commit, ? FROM pull_requests WHERE id = ?");
    if (!up) return fail(up.error());
    up->bind(1, now).bind(2, comment).bind(3, pr_id);
    if (auto r = up->run(); !r) return fail(r.error());
    return tx->commit();
}

Result<std::int64_t> PrStore::next_number(const std::string& forge, const std::string& repository)
{
    auto st = m_db.prepare("SELECT COALESCE(MAX(number), 0) + 1 FROM pull_requests WHERE forge = ? AND repository = ?");
    if (!st) return fail(st.error());
    st->bind(1, forge).bind(2, repository);
    auto row = st->step();
    if (!row) return fail(row.error());
    return st->integer(0);
}

Result<std::vector<json>> PrStore::updates(const std::string& pr_id)
{
    auto st = m_db.prepare(
        "SELECT time, task_id, head_commit, comment FROM pull_request_updates WHERE pr_id = ? ORDER BY seq");
    if (!st) return fail(st.error());
    st->bind(1, pr_id);
    std::vector<json> out;
    while (true) {
        auto row = st->step();
        if (!row) return fail(row.error());
        if (!*row) break;
        out.push_back({{"time", timeutil::format_rfc3339_ms(st->integer(0))},
                       {"taskId", st->text(1)},
                       {"headCommit", st->text(2)},
                       {"comment", st->text(3)}});
    }
    return out;
}

}  // namespace infra::core::change
