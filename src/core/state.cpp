#include "core/state.hpp"

#include "core/store/migrations.hpp"

#include <filesystem>
#include <sys/stat.h>

namespace infra::core {

Result<std::unique_ptr<store::Db>> open_state(const Home& home)
{
    std::error_code ec;
    if (!std::filesystem::is_directory(home.dir, ec)) {
        std::filesystem::create_directories(home.dir, ec);
        if (ec) return fail(Errc::unavailable, "cannot create state home '" + home.dir.string() + "': " + ec.message());
        ::chmod(home.dir.c_str(), 0700);
    }
    auto db = store::Db::open(home.state_db().string(), true);
    if (!db) return db.error();
    if (auto st = store::migrate(**db); !st) return st.error();
    return db;
}

}  // namespace infra::core
