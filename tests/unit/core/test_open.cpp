// Opening what a configuration describes: the site's queue, the delivery's
// settings and limits, the forge a command line or forge.kind chooses, the
// brokers of API tokens, and the sandbox a decision allows.
#include "core/change/open_delivery.hpp"
#include "core/change/open_reviewers.hpp"
#include "core/sandbox_choice.hpp"
#include "core/site.hpp"
#include "plugins/credentials/providers.hpp"
#include "plugins/forges/forges.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace infra::core {
namespace {

/// A home in a temporary directory with config.yaml, and the built-in registries.
struct Opened {
    test::TempDir dir;
    Config config;
    Home home;
    creds::Registry credentials;
    change::ForgeRegistry forges;
    queue::Registry queues;
    agent::Registry agents;
    signals::Registry signals;

    explicit Opened(const std::string& yaml)
    {
        test::write_file(dir / "config.yaml", yaml);
        auto c = Config::load(dir / "config.yaml", true);
        EXPECT_TRUE(c) << c.error().message;
        if (c) config = *c;
        home.dir = dir.path();
        home.origin = "--home";
        plugins::credentials::register_providers(credentials);
        plugins::forges::register_forges(forges);
    }
    Site site() const { return {config, home, credentials, forges, queues, agents, signals}; }
};

TEST(OpenSite, TheQueueIsTheFlagsElseQueueUrlRelativeToTheHomeElseTheStateDb)
{
    Opened none("{}\n");
    EXPECT_EQ(none.site().queue_url("redis://q:6379"), "redis://q:6379");
    EXPECT_EQ(none.site().queue_url(""), "sqlite://" + (none.dir / "state.db").string());
    Opened relative("queue:\n  url: sqlite://queue.db\n");
    EXPECT_EQ(relative.site().queue_url(""), "sqlite://" + (relative.dir / "queue.db").string());
}

TEST(OpenSite, PolicyDirsInConfigAreRelativeToTheHomeAndTheFlagsReplaceThem)
{
    Opened o("policy:\n  bundle: none\n  dirs: [team, /etc/infra-agent/policies]\n");
    auto configured = o.site().policy_dirs({});
    ASSERT_TRUE(configured) << configured.error().message;
    EXPECT_EQ(*configured, (std::vector<std::filesystem::path>{o.dir / "team", "/etc/infra-agent/policies"}));
    auto flagged = o.site().policy_dirs({{"mine"}, false});
    ASSERT_TRUE(flagged) << flagged.error().message;
    EXPECT_EQ(*flagged, (std::vector<std::filesystem::path>{"mine"}));
    Opened bundle("policy:\n  bundle: /opt/policies\n");
    auto bundled = bundle.site().policy_dirs({});
    ASSERT_TRUE(bundled) << bundled.error().message;
    EXPECT_EQ(*bundled, (std::vector<std::filesystem::path>{"/opt/policies"}));
}

TEST(OpenDelivery, PullRequestLimitsAreWholeNumbersAndTheRecheckAtLeastASecond)
{
    change::DeliveryOptions o;
    Opened good("pr:\n  max_open: 5\n  max_per_hour: 0\n  limit_recheck: 2m\n");
    ASSERT_TRUE(change::read_pr_limits(good.config, o));
    EXPECT_EQ(o.max_open, 5);
    EXPECT_EQ(o.max_per_hour, 0);
    EXPECT_EQ(o.limit_recheck.count(), 120000);

    Opened words("pr:\n  max_open: ten\n");
    auto bad = change::read_pr_limits(words.config, o);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::usage);
    EXPECT_EQ(bad.error().message, "pr.max_open: expected a whole number of pull requests (0: no limit), got 'ten'");
    Opened negative("pr:\n  max_per_hour: -1\n");
    EXPECT_FALSE(change::read_pr_limits(negative.config, o));
    Opened quick("pr:\n  limit_recheck: 500ms\n");
    auto recheck = change::read_pr_limits(quick.config, o);
    ASSERT_FALSE(recheck);
    EXPECT_EQ(recheck.error().message, "pr.limit_recheck '500ms': expected a duration of 1s or more, e.g. 1m");
}

TEST(OpenDelivery, AStepTimeoutThatIsNoDurationIsRefusedByName)
{
    Opened o("validation:\n  step_timeout: soon\n");
    auto v = change::validation_options(o.site(), nullptr);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, Errc::invalid_input);
    EXPECT_EQ(v.error().message.rfind("validation.step_timeout: ", 0), 0u) << v.error().message;
    Opened fine("validation:\n  step_timeout: 90s\n");
    auto ok = change::validation_options(fine.site(), nullptr);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->step_timeout.count(), 90000);
}

TEST(OpenDelivery, NoRepositoryMeansNoDelivery)
{
    Opened o("{}\n");
    auto d = change::open_delivery(o.site(), {}, nullptr);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(*d, nullptr);
}

TEST(OpenDelivery, TheForgeFlagWinsOverForgeKind)
{
    Opened o("forge:\n  kind: github\n");
    auto configured = change::open_forge(o.site(), {});
    ASSERT_TRUE(configured) << configured.error().message;
    EXPECT_EQ((*configured)->forge->name(), "github");
    change::DeliveryOverrides local;
    local.forge = "local";
    auto flagged = change::open_forge(o.site(), local);
    ASSERT_TRUE(flagged) << flagged.error().message;
    EXPECT_EQ((*flagged)->forge->name(), "local");
    change::DeliveryOverrides unknown;
    unknown.forge = "gitea";
    auto refused = change::open_forge(o.site(), unknown);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().message, "unknown forge 'gitea'");
    EXPECT_EQ(refused.error().hint, "forges: github, gitlab, local");
}

TEST(OpenDelivery, AForgeTokenTheProviderCannotMintComesFromTheVariableAndIsInTheLedger)
{
    Opened o("forge:\n  kind: gitlab\n");
    auto creds = creds::open_broker(o.site(), "");
    ASSERT_TRUE(creds) << creds.error().message;
    ::setenv("INFRA_TEST_OPEN_TOKEN", "glpat-test-token", 1);
    creds::Broker* broker = creds->broker_for("gitlab", "INFRA_TEST_OPEN_TOKEN");
    ASSERT_NE(broker, creds->broker.get());
    auto minted = change::scoped_tokens(*broker)("forge:pr:repo=acme/infra", "task-1");
    ::unsetenv("INFRA_TEST_OPEN_TOKEN");
    ASSERT_TRUE(minted) << minted.error().message;
    EXPECT_EQ(*minted, "glpat-test-token");
    creds::LedgerFilter filter;
    filter.task_id = "task-1";
    auto rows = creds->ledger->list(filter, creds::wall_ms());
    ASSERT_TRUE(rows) << rows.error().message;
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ(rows->front().provider, "env");
    EXPECT_EQ(rows->front().scope, "forge:pr:repo=acme/infra");
}

TEST(OpenReviewers, TheLocalForgeHasNone)
{
    Opened local("{}\n");
    auto none = change::open_reviewers(local.site(), nullptr);
    ASSERT_TRUE(none) << none.error().message;
    EXPECT_EQ(*none, nullptr);
    Opened github("forge:\n  kind: github\n");
    auto some = change::open_reviewers(github.site(), nullptr);
    ASSERT_TRUE(some) << some.error().message;
    ASSERT_NE(*some, nullptr);
    EXPECT_EQ((*some)->reviewers->name(), "github");
}

TEST(OpenSandbox, NoneIsRefusedUnlessTheDecisionAllowsIt)
{
    Config empty;
    policy::Decision strict;
    auto refused = sandbox::choose(empty, "none", &strict);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::denied);
    policy::Decision lenient;
    lenient.allow_unsandboxed = true;
    EXPECT_TRUE(sandbox::choose(empty, "none", &lenient));
    EXPECT_TRUE(sandbox::choose(empty, "none", nullptr));
    auto unknown = sandbox::choose(empty, "docker", nullptr);
    EXPECT_FALSE(unknown);
}

}  // namespace
}  // namespace infra::core
