#include "core/state.hpp"

#include "core/store/migrations.hpp"
#include "core/text.hpp"

#include <filesystem>
#include <sys/stat.h>

namespace infra::core {

Status configure_state(Home& home, const Config& config)
{
    std::string url = config.get_or("state.url", "");
    if (url.empty()) return {};
    if (store::is_postgres_url(url)) {
        home.state_url = url;
        return {};
    }
    if (url.rfind("sqlite://", 0) == 0 && url.size() > 9) {
        std::filesystem::path file = url.substr(9);
        home.state_url = (file.is_absolute() ? file : home.dir / file).string();
        return {};
    }
    return fail(Errc::invalid_input,
                "state.url '" + text::redact_url(url) + "' is neither sqlite://PATH nor postgres://...",
                "set state.url in " + home.config_file().string() + " or " + Config::env_name("state.url"));
}

Result<std::unique_ptr<store::Db>> open_state(const Home& home)
{
    if (home.state_error) return *home.state_error;
    if (home.state_is_remote()) {
        auto db = store::Db::open(home.state_url, false);
        if (!db) return db.error();
        if (auto st = store::migrate(**db); !st) return st.error();
        return db;
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(home.dir, ec)) {
        std::filesystem::create_directories(home.dir, ec);
        if (ec) return fail(Errc::unavailable, "cannot create state home '" + home.dir.string() + "': " + ec.message());
        ::chmod(home.dir.c_str(), 0700);
    }
    auto db = store::Db::open(home.state_location(), true);
    if (!db) return db.error();
    if (auto st = store::migrate(**db); !st) return st.error();
    return db;
}

}  // namespace infra::core
