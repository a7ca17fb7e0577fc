// The aws-sts provider against a loopback server speaking STS's query
// protocol: a SigV4-signed AssumeRole narrowed to the task, credentials
// parsed from the XML answer, refusals remembered by the broker.
#include "core/config.hpp"
#include "core/creds/broker.hpp"
#include "core/creds/sigv4.hpp"
#include "core/home.hpp"
#include "core/state.hpp"
#include "plugins/credentials/providers.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <thread>

namespace infra {
namespace {

using nlohmann::json;

class StsServer {
public:
    StsServer()
    {
        server.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(m);
            ++requests;
            // Check the signature the way STS does: recompute it from the request.
            core::creds::sigv4::Request sreq;
            sreq.method = "POST";
            sreq.path = "/";
            sreq.body = req.body;
            std::string auth = req.get_header_value("Authorization");
            auto sh = auth.find("SignedHeaders=");
            std::string names = auth.substr(sh + 14, auth.find(',', sh) - sh - 14);
            for (const auto& n : std::vector<std::string>{"content-type", "host", "x-amz-date", "x-amz-security-token"})
                if (names.find(n) != std::string::npos) sreq.headers.emplace_back(n, req.get_header_value(n));
            std::string expect = core::creds::sigv4::authorization(
                sreq, {"AKIDEXAMPLE", "base-secret"}, req.get_header_value("x-amz-date"), "us-east-1", "sts");
            signature_ok = auth == expect;
            for (const auto& [k, v] : req.params) form[k] = v;
            if (refuse) {
                res.status = 403;
                res.set_content(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not "
                    "authorized to perform: sts:AssumeRole &amp; more</Message></Error></ErrorResponse>",
                    "text/xml");
                return;
            }
            res.set_content(
                "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
                "<SourceIdentity>infra-agent</"
                "SourceIdentity><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/fixer/s</Arn>"
                "<AssumedRoleId>AROA3XFRBF535PLBIFPI4:s</AssumedRoleId></AssumedRoleUser><Credentials>"
                "<AccessKeyId>ASIAJEXAMPLEXEG2JICEA</AccessKeyId><SecretAccessKey>9drTJvcXLB89EXAMPLELB8923FB892xMFI</"
                "SecretAccessKey>"
                "<SessionToken>AQoXdzELDDY//////////wEaoAK1wvxJY12r2IrDFT2IvAzTCn3zHoZ7YNtpiQLF0MqZye/qwjzP2iEXAMPLE</"
                "SessionToken>"
                "<Expiration>2099-07-15T23:28:33.359Z</Expiration></Credentials><PackedPolicySize>6</PackedPolicySize>"
                "</AssumeRoleResult></AssumeRoleResponse>",
                "text/xml");
        });
        port = server.bind_to_any_port("127.0.0.1");
        thread = std::thread([this] { server.listen_after_bind(); });
    }
    ~StsServer()
    {
        server.stop();
        thread.join();
    }
    httplib::Server server;
    std::thread thread;
    int port = 0;
    std::mutex m;
    int requests = 0;
    bool signature_ok = false;
    bool refuse = false;
    std::map<std::string, std::string> form;
};

class AwsSts : public ::testing::Test {
protected:
    void SetUp() override
    {
        ::setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
        ::setenv("AWS_SECRET_ACCESS_KEY", "base-secret", 1);
        ::setenv("AWS_SESSION_TOKEN", "base-session-token", 1);
        ::setenv("INFRA_AGENT_CREDS_AWS_STS_ENDPOINT", ("http://127.0.0.1:" + std::to_string(sts.port) + "/").c_str(),
                 1);
        auto db = core::open_state(core::Home{dir.path(), ""});
        ASSERT_TRUE(db);
        m_db = std::move(*db);
        ledger = std::make_unique<core::creds::Ledger>(*m_db);
        provider = plugins::credentials::make_aws_sts(core::Config());
    }
    void TearDown() override
    {
        for (const char* v :
             {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "INFRA_AGENT_CREDS_AWS_STS_ENDPOINT"})
            ::unsetenv(v);
    }
    StsServer sts;
    test::TempDir dir;
    std::unique_ptr<core::store::Db> m_db;
    std::unique_ptr<core::creds::Ledger> ledger;
    std::unique_ptr<core::creds::Provider> provider;
};

TEST_F(AwsSts, AssumesTheRoleNarrowedToTheTask)
{
    core::creds::Broker broker(*ledger, *provider);
    auto c = broker.mint({"aws:assume-role:role=arn:aws:iam::123456789012:role/"
                          "fixer,actions=s3:GetBucketAcl|s3:PutBucketPublicAccessBlock,"
                          "resource=arn:aws:s3:::logs",
                          std::chrono::minutes(5), "01TASK", "4bf92f3577b34da6a3ce929d0e0e4736"});
    ASSERT_TRUE(c) << c.error().message;
    std::lock_guard lock(sts.m);
    EXPECT_TRUE(sts.signature_ok);
    EXPECT_EQ(sts.form["Action"], "AssumeRole");
    EXPECT_EQ(sts.form["RoleArn"], "arn:aws:iam::123456789012:role/fixer");
    EXPECT_EQ(sts.form["DurationSeconds"], "900");  // STS's minimum, though 5 minutes were asked
    EXPECT_EQ(sts.form["SourceIdentity"], "infra-agent");
    EXPECT_EQ(sts.form["RoleSessionName"], "infra-agent-01TASK");
    EXPECT_EQ(sts.form["Tags.member.1.Key"], "infra-agent:task");
    EXPECT_EQ(sts.form["Tags.member.1.Value"], "01TASK");
    auto policy = json::parse(sts.form["Policy"]);
    EXPECT_EQ(policy["Statement"][0]["Action"], json::array({"s3:GetBucketAcl", "s3:PutBucketPublicAccessBlock"}));
    EXPECT_EQ(policy["Statement"][0]["Resource"], "arn:aws:s3:::logs");
    auto secret = json::parse(c->secret);
    EXPECT_EQ(secret["accessKeyId"], "ASIAJEXAMPLEXEG2JICEA");
    EXPECT_EQ(c->extra["accessKeyId"], "ASIAJEXAMPLEXEG2JICEA");
    EXPECT_EQ(c->extra.dump().find("9drTJvcXLB89EXAMPLELB8923FB892xMFI"), std::string::npos);
    // The ledger holds the hash only; a repeat within the lifetime reuses it.
    auto again = broker.mint({"aws:assume-role:role=arn:aws:iam::123456789012:role/"
                              "fixer,actions=s3:GetBucketAcl|s3:PutBucketPublicAccessBlock,"
                              "resource=arn:aws:s3:::logs",
                              std::chrono::minutes(5), "01TASK", ""});
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->reused);
    EXPECT_EQ(sts.requests, 1);
}

TEST_F(AwsSts, RefusalsAreDeniedAndRememberedBriefly)
{
    sts.refuse = true;
    core::creds::Broker broker(*ledger, *provider);
    core::creds::MintRequest req{"aws:assume-role:role=arn:aws:iam::123456789012:role/admin,actions=iam:*",
                                 std::chrono::minutes(15), "T", ""};
    auto c = broker.mint(req);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, core::Errc::denied);
    EXPECT_NE(c.error().message.find("AccessDenied"), std::string::npos) << c.error().message;
    EXPECT_NE(c.error().message.find("sts:AssumeRole & more"), std::string::npos) << c.error().message;
    EXPECT_FALSE(broker.mint(req));
    std::lock_guard lock(sts.m);
    EXPECT_EQ(sts.requests, 1);
}

TEST_F(AwsSts, ScopesMustNameTheRoleAndTheActions)
{
    core::creds::Broker broker(*ledger, *provider);
    auto c = broker.mint({"aws:assume-role:role=arn:aws:iam::1:role/x", std::chrono::minutes(15), "T", ""});
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message.find("actions="), std::string::npos);
    std::lock_guard lock(sts.m);
    EXPECT_EQ(sts.requests, 0);
}

}  // namespace
}  // namespace infra
