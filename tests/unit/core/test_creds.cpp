// The credential broker: scopes, the local provider's tokens, the ledger,
// reuse within the lifetime, remembered refusals and revocation.
#include "core/creds/broker.hpp"
#include "core/crypto.hpp"
#include "core/home.hpp"
#include "core/state.hpp"
#include "plugins/credentials/providers.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

namespace infra {
namespace {

using core::creds::covers;
using core::creds::parse_scope;

TEST(Base64url, RoundTripsEveryLength)
{
    std::string bytes;
    for (int n = 0; n < 70; ++n) {
        auto enc = core::crypto::base64url_encode(bytes);
        EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
        auto dec = core::crypto::base64url_decode(enc);
        ASSERT_TRUE(dec) << n;
        EXPECT_EQ(*dec, bytes);
        bytes += static_cast<char>(n * 37 + 251);
    }
    EXPECT_EQ(core::crypto::base64url_encode("\xfb\xff"), "-_8");
    EXPECT_FALSE(core::crypto::base64url_decode("ab+c"));
    EXPECT_FALSE(core::crypto::base64url_decode("a"));
}

TEST(Scope, ParsesAndPrintsCanonically)
{
    auto s = parse_scope("git:push:repo=acme/infra,branch=infra-agent/*");
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->kind, "git");
    EXPECT_EQ(s->action, "push");
    EXPECT_EQ(s->attr("branch"), "infra-agent/*");
    EXPECT_EQ(core::creds::to_string(*s), "git:push:branch=infra-agent/*,repo=acme/infra");
    auto arn = parse_scope("aws:assume-role:role=arn:aws:iam::123456789012:role/fixer");
    ASSERT_TRUE(arn);
    EXPECT_EQ(arn->attr("role"), "arn:aws:iam::123456789012:role/fixer");
    EXPECT_TRUE(parse_scope("forge:*"));
}

TEST(Scope, ErrorsNameTheColumn)
{
    for (auto [text, col] : std::vector<std::pair<std::string, std::string>>{{"Git:push", "column 1"},
                                                                             {"git", "column 4"},
                                                                             {"git:push:repo", "column 14"},
                                                                             {"git:push:repo=", "column 15"},
                                                                             {"git:push:repo=a b", "column 16"},
                                                                             {"git:push:repo=a,repo=b", "column 22"}}) {
        auto s = parse_scope(text);
        ASSERT_FALSE(s) << text;
        EXPECT_EQ(s.error().code, core::Errc::invalid_input);
        EXPECT_NE(s.error().message.find(col), std::string::npos) << text << ": " << s.error().message;
    }
}

TEST(Scope, CoversOnlyNarrowerScopes)
{
    auto g = *parse_scope("git:push:repo=acme/infra,branch=infra-agent/*");
    EXPECT_TRUE(covers(g, *parse_scope("git:push:repo=acme/infra,branch=infra-agent/compliance/abc")));
    EXPECT_FALSE(covers(g, *parse_scope("git:push:repo=acme/infra,branch=main")));
    EXPECT_FALSE(covers(g, *parse_scope("git:push:repo=acme/other,branch=infra-agent/x")));
    EXPECT_FALSE(covers(g, *parse_scope("git:push:repo=acme/infra")));           // unconstrained branch is wider
    EXPECT_FALSE(covers(g, *parse_scope("git:push:repo=acme/infra,branch=*")));  // a wider glob
    EXPECT_FALSE(covers(g, *parse_scope("git:fetch:repo=acme/infra,branch=infra-agent/x")));
    EXPECT_TRUE(covers(*parse_scope("git:*:repo=acme/infra"), *parse_scope("git:fetch:repo=acme/infra,branch=x")));
}

/// A provider whose upstream can be told to refuse, counting its mints.
class CountingProvider final : public core::creds::Provider {
public:
    std::string name() const override { return "counting"; }
    core::Status mint(const core::creds::Scope&, core::creds::Credential& c) override
    {
        ++mints;
        if (refuse) return core::fail(core::Errc::denied, "upstream refused");
        c.secret = "secret-" + std::to_string(mints);
        return {};
    }
    int mints = 0;
    bool refuse = false;
};

class BrokerTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto db = core::open_state(core::Home{dir.path() / ".infra-agent", ""});
        ASSERT_TRUE(db) << db.error().message;
        m_db = std::move(*db);
        ledger = std::make_unique<core::creds::Ledger>(*m_db);
    }
    test::TempDir dir;
    std::unique_ptr<core::store::Db> m_db;
    std::unique_ptr<core::creds::Ledger> ledger;
};

TEST_F(BrokerTest, LocalTokensVerifyAndCarryTheirScope)
{
    auto key = plugins::credentials::load_or_create_key(dir / "keys" / "k");
    ASSERT_TRUE(key) << key.error().message;
    auto provider = plugins::credentials::make_local(*key);
    core::creds::Broker broker(*ledger, *provider);
    auto c = broker.mint({"git:push:repo=acme/infra,branch=infra-agent/*", std::chrono::minutes(10), "T1", "trace1"});
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->expires_ms - c->issued_ms, 600000);
    auto ok = broker.verify(c->secret, "git:push:repo=acme/infra,branch=infra-agent/compliance/x");
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->id, c->id);
    EXPECT_EQ(ok->task_id, "T1");
    auto wrong = broker.verify(c->secret, "git:push:repo=acme/infra,branch=main");
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().code, core::Errc::denied);

    // The ledger holds a hash, not the token.
    auto e = ledger->get(c->id);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->token_sha256, core::crypto::sha256_hex(c->secret));
    EXPECT_EQ(e->to_json(0).dump().find(c->secret), std::string::npos);

    // A flipped bit in the claims, or another home's key, does not verify.
    std::string forged = c->secret;
    forged[forged.find('.') + 5] ^= 1;
    EXPECT_FALSE(broker.verify(forged, std::nullopt));
    auto other = plugins::credentials::make_local(std::string(32, 'x'));
    core::creds::Broker other_broker(*ledger, *other);
    EXPECT_FALSE(other_broker.verify(c->secret, std::nullopt));

    // Expired tokens fail.
    broker.now_ms = [&] { return c->expires_ms + 1; };
    EXPECT_FALSE(broker.verify(c->secret, std::nullopt));
}

TEST_F(BrokerTest, ARepeatWithinTheLifetimeReusesTheCredential)
{
    auto provider = plugins::credentials::make_local(std::string(32, 'k'));
    std::int64_t now = 1'800'000'000'000;
    core::creds::Broker a(*ledger, *provider);
    a.now_ms = [&] { return now; };
    core::creds::MintRequest req{"git:push:repo=r", std::chrono::minutes(10), "T1", ""};
    auto first = a.mint(req);
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->reused);
    now += 60'000;
    auto again = a.mint(req);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->reused);
    EXPECT_EQ(again->secret, first->secret);

    // Another process (another broker on the same ledger) derives the same token.
    core::creds::Broker b(*ledger, *provider);
    b.now_ms = [&] { return now; };
    auto other = b.mint(req);
    ASSERT_TRUE(other);
    EXPECT_TRUE(other->reused);
    EXPECT_EQ(other->secret, first->secret);

    // Another task, or less than half the lifetime left, gets a new one.
    auto t2 = b.mint({"git:push:repo=r", std::chrono::minutes(10), "T2", ""});
    ASSERT_TRUE(t2);
    EXPECT_NE(t2->id, first->id);
    now += 5 * 60'000;
    auto late = b.mint(req);
    ASSERT_TRUE(late);
    EXPECT_FALSE(late->reused);
    EXPECT_NE(late->id, first->id);

    // A revoked credential is never handed out again.
    ASSERT_TRUE(ledger->revoke(late->id, now));
    auto after = a.mint(req);
    ASSERT_TRUE(after);
    EXPECT_NE(after->id, late->id);
    EXPECT_FALSE(after->reused);
    EXPECT_FALSE(a.verify(late->secret, std::nullopt));
}

TEST_F(BrokerTest, RefusalsAreRememberedBriefly)
{
    CountingProvider p;
    p.refuse = true;
    std::int64_t now = 1'800'000'000'000;
    core::creds::Broker broker(*ledger, p);
    broker.now_ms = [&] { return now; };
    core::creds::MintRequest req{"aws:assume-role:role=arn:aws:iam::1:role/x", std::chrono::minutes(15), "T1", ""};
    EXPECT_FALSE(broker.mint(req));
    EXPECT_FALSE(broker.mint(req));
    EXPECT_EQ(p.mints, 1);
    p.refuse = false;
    now += 31'000;
    auto c = broker.mint(req);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(p.mints, 2);
    // The secret cannot be derived again, but this broker remembers it.
    auto again = broker.mint(req);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->reused);
    EXPECT_EQ(p.mints, 2);
    EXPECT_EQ(again->secret, c->secret);
}

TEST_F(BrokerTest, RevokeByScopePrefixAndTask)
{
    auto provider = plugins::credentials::make_local(std::string(32, 'k'));
    core::creds::Broker broker(*ledger, *provider);
    ASSERT_TRUE(broker.mint({"git:push:repo=a", std::chrono::minutes(5), "T1", ""}));
    ASSERT_TRUE(broker.mint({"git:push:repo=b", std::chrono::minutes(5), "T2", ""}));
    ASSERT_TRUE(broker.mint({"git:fetch:repo=a", std::chrono::minutes(5), "T1", ""}));
    ASSERT_TRUE(broker.mint({"forge:pr:repo=a_b*", std::chrono::minutes(5), "T3", ""}));
    auto n = ledger->revoke_matching("git:push", "T1", core::creds::wall_ms());
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1);
    n = ledger->revoke_matching("git:", "", core::creds::wall_ms());
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 2);
    // '_' and '*' are not patterns in a prefix.
    n = ledger->revoke_matching("forge:pr:repo=aXb", "", core::creds::wall_ms());
    EXPECT_EQ(*n, 0);
    auto live = ledger->list({}, core::creds::wall_ms());
    ASSERT_TRUE(live);
    ASSERT_EQ(live->size(), 1u);
    EXPECT_EQ(live->front().task_id, "T3");
}

// Tokens minted earlier are signed again byte for byte to be reused (the
// ledger keeps their hash): the claims are JSON as nlohmann::json writes it,
// whatever the task id holds.
TEST_F(BrokerTest, LocalTokenClaimsAreWrittenAsBefore)
{
    std::string key(32, 'k');
    auto provider = plugins::credentials::make_local(key);
    core::creds::Broker broker(*ledger, *provider);
    for (std::string task :
         {"T1", "say \"hi\"", "back\\slash", "tab\there\x01", "caf\xc3\xa9 \xe2\x9c\x93", "del\x7f"}) {
        auto c = broker.mint({"git:push:repo=acme/infra", std::chrono::minutes(10), task, ""});
        ASSERT_TRUE(c) << c.error().message;
        nlohmann::json claims = {{"iss", "infra-agent"},
                                 {"jti", c->id},
                                 {"sub", task},
                                 {"scope", c->scope},
                                 {"iat", c->issued_ms / 1000},
                                 {"exp", c->expires_ms / 1000}};
        std::string input = core::crypto::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                            core::crypto::base64url_encode(claims.dump());
        EXPECT_EQ(c->secret, input + "." + core::crypto::base64url_encode(core::crypto::hmac_sha256_raw(key, input)))
            << task;
        auto ok = broker.verify(c->secret, std::nullopt);
        ASSERT_TRUE(ok) << ok.error().message;
        EXPECT_EQ(ok->task_id, task);
    }
}

TEST(LocalKey, IsCreatedPrivateAndRefusedWhenReadableByOthers)
{
    test::TempDir dir;
    auto file = dir / "keys" / "local-creds.key";
    auto a = plugins::credentials::load_or_create_key(file);
    ASSERT_TRUE(a) << a.error().message;
    EXPECT_EQ(a->size(), 32u);
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto b = plugins::credentials::load_or_create_key(file);
    ASSERT_TRUE(b);
    EXPECT_EQ(*a, *b);
    ::chmod(file.c_str(), 0644);
    auto c = plugins::credentials::load_or_create_key(file);
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().hint.find("chmod 600"), std::string::npos);
}

}  // namespace
}  // namespace infra
