// Credentials bound to their task: its repository, its bot branch, what its
// decision's tier allows, the worker holding its lease, and the lease's end.
#include "core/creds/binding.hpp"
#include "core/creds/broker.hpp"
#include "core/git.hpp"
#include "core/home.hpp"
#include "core/state.hpp"
#include "plugins/credentials/providers.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>

namespace infra {
namespace {

using core::Errc;
using core::creds::check_task_scope;
using core::creds::parse_scope;
using core::creds::TaskGrant;
using nlohmann::json;

const std::string k_branch = "infra-agent/compliance-remediation/0011223344556677";

json task(const std::string& repo = "acme/infra")
{
    json t = {{"id", "01TASK"},
              {"type", "compliance-remediation"},
              {"context", json::object()},
              {"dedupeKey", "sha256:00112233445566778899aabbccddeeff"}};
    if (!repo.empty()) t["context"]["repositoryId"] = repo;
    return t;
}

json decision(int tier, bool allowed = true)
{
    return {{"allowed", allowed}, {"tier", tier}};
}

core::Status check(const std::string& scope, const json& t = task(), const json& d = decision(2),
                   const TaskGrant& g = {})
{
    auto s = parse_scope(scope);
    EXPECT_TRUE(s) << scope;
    return check_task_scope(t, d, *s, g);
}

TEST(CredsBinding, TheBranchIsTheOneTheWorkerPushes)
{
    EXPECT_EQ(core::creds::task_branch(task()), k_branch);
    json no_key = task();
    no_key.erase("dedupeKey");
    // Without a dedupe key, the id names the branch, as the worker does.
    EXPECT_EQ(core::creds::task_branch(no_key), core::git::branch_name("compliance-remediation", "01TASK"));
}

TEST(CredsBinding, ATaskMayHaveItsOwnScopesOnly)
{
    EXPECT_TRUE(check("git:fetch:repo=acme/infra"));
    EXPECT_TRUE(check("git:push:repo=acme/infra,branch=" + k_branch));
    EXPECT_TRUE(check("forge:pr:repo=acme/infra"));
    EXPECT_TRUE(check("ci:dispatch:repo=acme/infra,workflow=plan.yml"));
    EXPECT_TRUE(check("ci:read:repo=acme/infra"));
    for (const std::string& bad : std::vector<std::string>{
             "git:push:repo=victim/other,branch=main", "git:push:repo=acme/infra,branch=main",
             "git:push:repo=acme/infra,branch=infra-agent/compliance-remediation/ffffffffffffffff",
             "git:push:repo=acme/infra", "git:push:repo=acme/infra,branch=infra-agent/*",
             "git:push:repo=acme/*,branch=" + k_branch, "git:*:repo=acme/infra",
             "git:push:repo=acme/infra,branch=" + k_branch + ",force=yes", "git:fetch:repo=victim/other",
             "forge:pr:repo=victim/other", "aws:assume-role:role=arn:aws:iam::123456789012:role/Admin,actions=*",
             "ci:dispatch:repo=victim/other,workflow=deploy.yml"}) {
        auto st = check(bad);
        ASSERT_FALSE(st) << bad;
        EXPECT_EQ(st.error().code, Errc::denied) << bad;
        // The refusal names what was asked and what the task may have.
        EXPECT_NE(st.error().message.find("refused"), std::string::npos) << st.error().message;
        std::string said = st.error().message + "\n" + st.error().hint;
        EXPECT_NE(said.find("git:push:branch=" + k_branch + ",repo=acme/infra"), std::string::npos) << said;
    }
    auto aws = check("aws:assume-role:role=arn:aws:iam::123456789012:role/Admin,actions=*");
    EXPECT_NE(aws.error().message.find("'aws:assume-role:actions=*,role=arn:aws:iam::123456789012:role/Admin'"),
              std::string::npos)
        << aws.error().message;
}

TEST(CredsBinding, TheTierDecidesWhetherTheTaskMayPush)
{
    EXPECT_TRUE(check("git:fetch:repo=acme/infra", task(), decision(1)));
    auto st = check("git:push:repo=acme/infra,branch=" + k_branch, task(), decision(1));
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("(tier 1) may have only git:fetch:repo=acme/infra"), std::string::npos)
        << st.error().message;
    EXPECT_FALSE(check("forge:pr:repo=acme/infra", task(), decision(0)));
    EXPECT_TRUE(check("git:push:repo=acme/infra,branch=" + k_branch, task(), decision(4)));
    // A denied task has nothing.
    auto denied = check("git:fetch:repo=acme/infra", task(), decision(2, false));
    ASSERT_FALSE(denied);
    EXPECT_NE(denied.error().message.find("policy denied task '01TASK'"), std::string::npos) << denied.error().message;
    EXPECT_FALSE(check("git:fetch:repo=acme/infra", task(), json::object()));
}

TEST(CredsBinding, TheConfiguredRepositoryServesTasksThatNameNone)
{
    TaskGrant g;
    auto none = check("git:fetch:repo=acme/infra", task(""), decision(2), g);
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message.find("names no repository"), std::string::npos) << none.error().message;
    g.repository = "acme/infra";
    EXPECT_TRUE(check("git:push:repo=acme/infra,branch=" + k_branch, task(""), decision(2), g));
    // A task that names its repository keeps it.
    EXPECT_FALSE(check("git:fetch:repo=acme/infra", task("acme/other"), decision(2), g));
    // CI kept in another repository, by configuration.
    EXPECT_FALSE(check("ci:dispatch:repo=acme/ci,workflow=plan.yml", task(), decision(2), g));
    g.also.push_back(*parse_scope("ci:dispatch:repo=acme/ci,workflow=plan.yml"));
    EXPECT_TRUE(check("ci:dispatch:repo=acme/ci,workflow=plan.yml", task(), decision(2), g));
    EXPECT_FALSE(check("ci:dispatch:repo=acme/ci,workflow=deploy.yml", task(), decision(2), g));
}

core::queue::Entry held(std::int64_t until)
{
    core::queue::Entry e;
    e.id = "01TASK";
    e.state = core::queue::State::leased;
    e.lease_owner = "builder-1:42";
    e.fence = 3;
    e.lease_until_ms = until;
    e.task = task();
    e.decision = decision(2);
    return e;
}

TEST(CredsBinding, ALeaseMintIsForItsHolderUntilItEnds)
{
    const std::int64_t now = 1'800'000'000'000;
    core::creds::LeaseAsk ask{"01TASK", "git:push:repo=acme/infra,branch=" + k_branch, "builder-1:42", 3,
                              std::chrono::seconds(900)};
    auto ok = core::creds::authorize_lease_mint(held(now + 60'000), ask, now, {});
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->ttl, std::chrono::seconds(60));  // cut to the lease's end
    EXPECT_EQ(ok->not_after_ms, now + 60'000);
    ask.ttl = std::chrono::seconds(20);
    EXPECT_EQ(core::creds::authorize_lease_mint(held(now + 60'000), ask, now, {})->ttl, std::chrono::seconds(20));

    auto refused = [&](core::creds::LeaseAsk a, const core::queue::Entry& e, const std::string& why) {
        auto r = core::creds::authorize_lease_mint(e, a, now, {});
        ASSERT_FALSE(r) << why;
        EXPECT_EQ(r.error().code, Errc::denied) << r.error().message;
        EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
    };
    auto a = ask;
    a.worker_id = "builder-2:7";
    refused(a, held(now + 60'000), "is not leased by worker 'builder-2:7'");
    a = ask;
    a.worker_id = "";
    refused(a, held(now + 60'000), "names no lease");
    a = ask;
    a.lease_token = 2;
    refused(a, held(now + 60'000), "lease token 2 of task '01TASK' is not its current lease");
    refused(ask, held(now - 1), "the lease of task '01TASK' ended at");
    auto queued = held(now + 60'000);
    queued.state = core::queue::State::queued;
    refused(ask, queued, "credentials are minted only for tasks a worker holds");
    a = ask;
    a.ttl = std::chrono::seconds(99999);
    refused(a, held(now + 60'000), "a lifetime of 99999s is longer than a task's credential lives");
    a = ask;
    a.scope = "git:push:repo=acme/infra,branch=main";
    refused(a, held(now + 60'000), "refused: task '01TASK' (tier 2) may have only");
    a = ask;
    a.task_id = "01OTHER";
    refused(a, held(now + 60'000), "no task '01OTHER' in the queue");
}

TEST(CredsBinding, AWorkerTokenMintsOnlyForItsOwnWorkerIds)
{
    using core::creds::worker_of;
    EXPECT_TRUE(worker_of("builder-1", "builder-1"));
    EXPECT_TRUE(worker_of("builder-1", "builder-1/host:42"));
    EXPECT_FALSE(worker_of("builder-1", "builder-1/"));
    EXPECT_FALSE(worker_of("builder-1", "builder-10/host:42"));
    EXPECT_FALSE(worker_of("builder-1", "builder-1:42"));
    EXPECT_FALSE(worker_of("builder-1", "host:42"));
    EXPECT_FALSE(worker_of("", "host:42"));

    // Knowing another worker's lease (its id and token are in the queue) is not enough.
    const std::int64_t now = 1'800'000'000'000;
    core::creds::LeaseAsk ask{"01TASK", "git:fetch:repo=acme/infra", "builder-1:42", 3, std::chrono::seconds(60)};
    ask.token_name = "builder-2";
    auto r = core::creds::authorize_lease_mint(held(now + 60'000), ask, now, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::denied);
    EXPECT_NE(r.error().message.find("worker id 'builder-1:42' is not one of worker token 'builder-2''s"),
              std::string::npos)
        << r.error().message;
    auto mine = held(now + 60'000);
    mine.lease_owner = ask.worker_id = "builder-2/host:42";
    EXPECT_TRUE(core::creds::authorize_lease_mint(mine, ask, now, {}));
}

class BoundBroker : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto db = core::open_state(core::Home{dir.path() / ".infra-agent", ""});
        ASSERT_TRUE(db) << db.error().message;
        m_db = std::move(*db);
        ledger = std::make_unique<core::creds::Ledger>(*m_db);
        provider = plugins::credentials::make_local(std::string(32, 'k'));
        broker = std::make_unique<core::creds::Broker>(*ledger, *provider);
        broker->now_ms = [this] { return now; };
        broker->set_events(&events);
    }

    core::creds::TaskLease lease()
    {
        core::creds::TaskLease l;
        l.task_id = "01TASK";
        l.worker_id = "host:1";
        l.token = 5;
        l.task = task();
        l.decision = decision(2);
        l.lease_until_ms = [this] { return lease_until; };
        return l;
    }

    std::int64_t now = 1'800'000'000'000;
    std::int64_t lease_until = now + 30'000;
    test::TempDir dir;
    std::unique_ptr<core::store::Db> m_db;
    std::unique_ptr<core::creds::Ledger> ledger;
    std::unique_ptr<core::creds::Provider> provider;
    std::unique_ptr<core::creds::Broker> broker;
    core::events::MemorySink events;
};

TEST_F(BoundBroker, AWorkerRunningATaskMintsOnlyItsScopesUntilTheLeaseEnds)
{
    {
        core::creds::LeaseScope in_lease(lease());
        auto push =
            broker->mint({"git:push:repo=acme/infra,branch=" + k_branch, std::chrono::minutes(15), "01TASK", ""});
        ASSERT_TRUE(push) << push.error().message;
        EXPECT_EQ(push->expires_ms, lease_until);
        EXPECT_EQ(push->worker_id, "host:1");
        EXPECT_EQ(push->lease_token, 5);
        for (const std::string& bad : std::vector<std::string>{
                 "git:push:repo=acme/infra,branch=main", "git:push:repo=victim/other,branch=" + k_branch,
                 "aws:assume-role:role=arn:aws:iam::1:role/Admin,actions=*"}) {
            auto r = broker->mint({bad, std::chrono::minutes(15), "01TASK", ""});
            ASSERT_FALSE(r) << bad;
            EXPECT_EQ(r.error().code, Errc::denied);
        }
        auto other = broker->mint({"git:fetch:repo=acme/infra", std::chrono::minutes(15), "01OTHER", ""});
        ASSERT_FALSE(other);
        EXPECT_NE(other.error().message.find("while running task '01TASK'"), std::string::npos)
            << other.error().message;
        // A credential minted earlier without the lease's bound is not handed out under it.
        lease_until = now + 10'000;
        auto shorter =
            broker->mint({"git:push:repo=acme/infra,branch=" + k_branch, std::chrono::minutes(15), "01TASK", ""});
        ASSERT_TRUE(shorter) << shorter.error().message;
        EXPECT_FALSE(shorter->reused);
        EXPECT_EQ(shorter->expires_ms, lease_until);
    }
    int refused = 0;
    for (const auto& e : events.events())
        if (e.type == "credential.refused") {
            ++refused;
            EXPECT_EQ(e.data["worker"], "host:1");
            EXPECT_FALSE(e.data["reason"].get<std::string>().empty());
        }
    EXPECT_EQ(refused, 4);
    // The operator's own mints, outside any lease, are not bound.
    auto any = broker->mint({"git:push:repo=victim/other,branch=main", std::chrono::minutes(15), "01TASK", ""});
    ASSERT_TRUE(any) << any.error().message;
    EXPECT_EQ(any->expires_ms - any->issued_ms, 15 * 60'000);
}

}  // namespace
}  // namespace infra
