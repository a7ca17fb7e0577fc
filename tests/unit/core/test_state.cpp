#include "core/change/delivery.hpp"
#include "core/config.hpp"
#include "core/home.hpp"
#include "core/store/migrations.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace infra::core;
using infra::test::TempDir;
using infra::test::write_file;

namespace {

std::int64_t pragma(store::Db& db, const std::string& name)
{
    auto st = db.prepare("PRAGMA " + name);
    EXPECT_TRUE(st && *st->step()) << name;
    return st ? st->integer(0) : -1;
}

}  // namespace

TEST(Migrations, ApplyOnceAndRecordTheirVersion)
{
    TempDir dir;
    auto db = store::Db::open((dir / "s.db").string(), true);
    ASSERT_TRUE(db);
    EXPECT_EQ(*store::schema_version(**db), 0);
    ASSERT_TRUE(store::migrate(**db));
    int latest = store::migrations().back().version;
    EXPECT_EQ(*store::schema_version(**db), latest);
    ASSERT_TRUE(store::migrate(**db));  // idempotent
    auto n = (*db)->prepare("SELECT COUNT(*) FROM schema_migrations");
    ASSERT_TRUE(n && *n->step());
    EXPECT_EQ(n->integer(0), latest);
}

TEST(Migrations, RefuseADatabaseFromANewerBuild)
{
    TempDir dir;
    auto db = store::Db::open((dir / "s.db").string(), true);
    ASSERT_TRUE(db && store::migrate(**db));
    ASSERT_TRUE((*db)->exec("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01T00:00:00Z')"));
    auto st = store::migrate(**db);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("newer than this infra-agent knows"), std::string::npos);
}

// A ledger written before version 11 keeps its rows, and a mint's lookup
// of a credential to reuse is answered from the one index by task.
TEST(Migrations, TheLedgerKeyedByIdKeepsItsRows)
{
    TempDir dir;
    auto db = store::Db::open((dir / "s.db").string(), true);
    ASSERT_TRUE(db);
    ASSERT_TRUE(store::schema_version(**db));
    for (const auto& m : store::migrations()) {
        if (m.version > 10) break;
        ASSERT_TRUE((*db)->exec(m.sql)) << m.name;
        auto ins = (*db)->prepare("INSERT INTO schema_migrations VALUES (?, ?, '2026-01-01T00:00:00Z')");
        ASSERT_TRUE(ins);
        ins->bind(1, m.version).bind(2, m.name);
        ASSERT_TRUE(ins->run());
    }
    ASSERT_TRUE(
        (*db)->exec("INSERT INTO credentials (id, provider, scope, task_id, issued_at, expires_at, token_sha256,"
                    " revoked_at, reuses) VALUES ('01A', 'local', 'git:push:repo=r', 'T1', 1, 2, 'ab', 3, 4)"));
    ASSERT_TRUE(store::migrate(**db));
    auto row =
        (*db)->prepare("SELECT provider, scope, task_id, issued_at, expires_at, token_sha256, revoked_at, reuses,"
                       " extra FROM credentials WHERE id = '01A'");
    ASSERT_TRUE(row && *row->step());
    EXPECT_EQ(row->text(1), "git:push:repo=r");
    EXPECT_EQ(row->text(2), "T1");
    EXPECT_EQ(row->integer(6), 3);
    EXPECT_EQ(row->integer(7), 4);
    EXPECT_EQ(row->text(8), "{}");
    auto plan = (*db)->prepare("EXPLAIN QUERY PLAN SELECT id FROM credentials WHERE provider = 'local' AND scope = 's'"
                               " AND task_id = 'T1' AND revoked_at IS NULL AND expires_at >= 0"
                               " ORDER BY expires_at DESC LIMIT 1");
    ASSERT_TRUE(plan && *plan->step());
    EXPECT_NE(
        plan->text(3).find("USING INDEX credentials_by_task (task_id=? AND provider=? AND scope=? AND expires_at>?)"),
        std::string::npos)
        << plan->text(3);
}

// Processes that find no state db and create it at the same moment (a
// worker starting beside `events --follow`, say) all open it: converting a
// new file to WAL takes a lock SQLite's busy handler does not wait for.
TEST(Migrations, ProcessesCreatingOneFileAtOnceAllOpenIt)
{
    constexpr int k_rounds = 12, k_processes = 6;
    for (int round = 0; round < k_rounds; ++round) {
        TempDir dir;
        std::string path = (dir / "s.db").string();
        int go[2];
        ASSERT_EQ(::pipe(go), 0);
        std::vector<pid_t> children;
        for (int i = 0; i < k_processes; ++i) {
            pid_t pid = ::fork();
            ASSERT_GE(pid, 0);
            if (pid == 0) {
                ::close(go[1]);
                char c;
                (void)::read(go[0], &c, 1);  // all start together, at EOF
                auto db = store::Db::open(path, true);
                if (!db) {
                    std::fprintf(stderr, "%s\n", db.error().message.c_str());
                    ::_exit(1);
                }
                auto st = store::migrate(**db);
                if (!st) std::fprintf(stderr, "%s\n", st.error().message.c_str());
                ::_exit(st ? 0 : 2);
            }
            children.push_back(pid);
        }
        ::close(go[0]);
        ::close(go[1]);
        for (pid_t pid : children) {
            int status = 0;
            ASSERT_EQ(::waitpid(pid, &status, 0), pid);
            EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round;
        }
        auto db = store::Db::open(path, false);
        ASSERT_TRUE(db);
        auto mode = (*db)->prepare("PRAGMA journal_mode");
        ASSERT_TRUE(mode && *mode->step());
        EXPECT_EQ(mode->text(0), "wal");
        EXPECT_EQ(pragma(**db, "page_size"), 1024);
        EXPECT_EQ(*store::schema_version(**db), store::migrations().back().version);
    }
}

// A new file has 1 KiB pages, and its WAL is checkpointed at as many bytes
// as one of SQLite's default 4 KiB pages is (1,000 pages).
TEST(SqliteFiles, NewOnesHaveSmallPagesAndCheckpointAtTheSameWalSize)
{
    TempDir dir;
    auto db = store::Db::open((dir / "s.db").string(), true);
    ASSERT_TRUE(db && store::migrate(**db));
    EXPECT_EQ(pragma(**db, "page_size"), 1024);
    EXPECT_EQ(pragma(**db, "wal_autocheckpoint"), 4000);
    auto again = store::Db::open((dir / "s.db").string(), false);
    ASSERT_TRUE(again);
    EXPECT_EQ(pragma(**again, "wal_autocheckpoint"), 4000);
}

// A state db made before new files had small pages (SQLite's default 4 KiB)
// keeps its pages and its checkpoints every 1,000 of them, and takes the
// migrations and new rows as before.
TEST(SqliteFiles, AnOlderFileKeepsItsPageSize)
{
    TempDir dir;
    std::string path = (dir / "s.db").string();
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "PRAGMA journal_mode=WAL; CREATE TABLE before (x)", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
    auto db = store::Db::open(path, true);
    ASSERT_TRUE(db && store::migrate(**db));
    EXPECT_EQ(pragma(**db, "page_size"), 4096);
    EXPECT_EQ(pragma(**db, "wal_autocheckpoint"), 1000);
    ASSERT_TRUE(
        (*db)->exec("INSERT INTO credentials (id, provider, scope, task_id, issued_at, expires_at, token_sha256)"
                    " VALUES ('01A', 'local', 'git:push:repo=r', 'T1', 1, 2, 'ab')"));
    EXPECT_EQ(pragma(**db, "page_size"), 4096);
}

TEST(Home, InitCreatesConfigPoliciesAndDatabase)
{
    TempDir dir;
    auto r = init_home(dir / ".infra-agent");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->created);
    EXPECT_TRUE(std::filesystem::exists(dir / ".infra-agent/config.yaml"));
    EXPECT_TRUE(std::filesystem::is_directory(dir / ".infra-agent/policies"));
    EXPECT_TRUE(std::filesystem::exists(dir / ".infra-agent/state.db"));
    struct stat st {};
    ::stat((dir / ".infra-agent").c_str(), &st);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    // The commented config is valid YAML that sets nothing.
    auto cfg = Config::load(dir / ".infra-agent/config.yaml", true);
    ASSERT_TRUE(cfg);
    EXPECT_FALSE(cfg->get("queue.url"));
}

TEST(Home, InitTwiceKeepsTheUsersConfig)
{
    TempDir dir;
    ASSERT_TRUE(init_home(dir / "h"));
    write_file(dir / "h/config.yaml", "queue:\n  url: sqlite://mine.db\n");
    auto again = init_home(dir / "h");
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->created);
    EXPECT_FALSE(again->wrote_config);
    EXPECT_EQ(infra::test::read_file(dir / "h/config.yaml"), "queue:\n  url: sqlite://mine.db\n");
}

TEST(Home, IsDiscoveredFromASubdirectory)
{
    TempDir dir;
    std::filesystem::create_directories(dir / "repo/.infra-agent");
    std::filesystem::create_directories(dir / "repo/a/b");
    ::unsetenv("INFRA_AGENT_HOME");
    auto h = resolve_home(std::nullopt, dir / "repo/a/b");
    EXPECT_EQ(h.dir, dir / "repo/.infra-agent");
    EXPECT_EQ(h.origin, "discovered");
    auto flagged = resolve_home(std::string((dir / "x").string()), dir / "repo/a/b");
    EXPECT_EQ(flagged.origin, "--home");
}

TEST(Config, EnvironmentOverridesTheFile)
{
    TempDir dir;
    write_file(dir / "c.yaml", "queue:\n  url: sqlite://file.db\npolicy:\n  dirs: [a, b]\n");
    auto cfg = Config::load(dir / "c.yaml", true);
    ASSERT_TRUE(cfg);
    EXPECT_EQ(cfg->get("queue.url"), "sqlite://file.db");
    EXPECT_EQ(cfg->get_list("policy.dirs"), (std::vector<std::string>{"a", "b"}));
    ::setenv("INFRA_AGENT_QUEUE_URL", "redis://127.0.0.1:6379", 1);
    ::setenv("INFRA_AGENT_POLICY_DIRS", "x:y", 1);
    EXPECT_EQ(cfg->get("queue.url"), "redis://127.0.0.1:6379");
    EXPECT_EQ(cfg->get_list("policy.dirs"), (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(cfg->list()["queue.url"].second, ConfigOrigin::environment);
    ::unsetenv("INFRA_AGENT_QUEUE_URL");
    ::unsetenv("INFRA_AGENT_POLICY_DIRS");
    EXPECT_EQ(Config::env_name("llm.api_key_env"), "INFRA_AGENT_LLM_API_KEY_ENV");
}

TEST(Config, YamlErrorsGiveLineAndColumn)
{
    TempDir dir;
    write_file(dir / "c.yaml", "queue:\n  url: [unclosed\n");
    auto cfg = Config::load(dir / "c.yaml", true);
    ASSERT_FALSE(cfg);
    EXPECT_EQ(cfg.error().code, Errc::invalid_input);
    EXPECT_NE(cfg.error().message.find("c.yaml': line 3"), std::string::npos) << cfg.error().message;
}

TEST(Config, MissingOptionalFileIsEmpty)
{
    TempDir dir;
    auto cfg = Config::load(dir / "none.yaml", false);
    ASSERT_TRUE(cfg);
    EXPECT_FALSE(Config::load(dir / "none.yaml", true));
}

TEST(Config, EveryCommandNamesTheRepositoryByOneRule)
{
    TempDir dir;
    write_file(dir / "empty.yaml", "");
    auto none = Config::load(dir / "empty.yaml", true);
    ASSERT_TRUE(none);
    EXPECT_EQ(change::repository_id(*none, "", ""), "");
    EXPECT_EQ(change::repository_id(*none, "", "https://github.com/acme/infra.git"), "acme/infra");
    EXPECT_EQ(change::repository_id(*none, "", "/src/acme/infra"), "acme/infra");

    write_file(dir / "git.yaml", "git:\n  repository: acme/from-git\n");
    auto git = Config::load(dir / "git.yaml", true);
    ASSERT_TRUE(git);
    EXPECT_EQ(change::repository_id(*git, "", "/src/acme/infra"), "acme/from-git");

    write_file(dir / "both.yaml", "repository:\n  id: acme/from-id\ngit:\n  repository: acme/from-git\n");
    auto both = Config::load(dir / "both.yaml", true);
    ASSERT_TRUE(both);
    EXPECT_EQ(change::repository_id(*both, "", "/src/acme/infra"), "acme/from-id");
    EXPECT_EQ(change::repository_id(*both, "acme/flag", "/src/acme/infra"), "acme/flag");
}
