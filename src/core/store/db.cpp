#include "core/store/db.hpp"

namespace infra::core::store {

bool is_postgres_url(std::string_view location)
{
    return location.rfind("postgres://", 0) == 0 || location.rfind("postgresql://", 0) == 0;
}

Result<std::unique_ptr<Db>> Db::open(const std::string& location, bool create)
{
    if (is_postgres_url(location)) return open_postgres(location);
    return open_sqlite(location, create);
}

Status Stmt::run()
{
    for (;;) {
        auto r = step();
        if (!r) return r.error();
        if (!*r) return {};
    }
}

Result<Transaction> Transaction::begin(Db& db)
{
    if (auto st = db.begin_write(); !st) return st.error();
    return Transaction(db);
}

Transaction::~Transaction()
{
    if (m_db) (void)m_db->exec("ROLLBACK");
}

Status Transaction::commit()
{
    auto st = m_db->exec("COMMIT");
    if (st) m_db = nullptr;
    return st;
}

Result<Snapshot> Snapshot::begin(Db& db)
{
    if (auto st = db.begin_read(); !st) return st.error();
    return Snapshot(db);
}

Snapshot::~Snapshot()
{
    if (m_db) (void)m_db->exec("COMMIT");
}

}  // namespace infra::core::store
