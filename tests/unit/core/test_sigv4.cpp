// SigV4 against AWS's Signature Version 4 test suite, as @smithy/signature-v4
// publishes it on npm (tests/peers; scripts/test installs it).
#include "core/creds/sigv4.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace infra {
namespace {

using nlohmann::json;

TEST(SigV4, PassesAwsTestSuite)
{
    std::string fixture =
        std::string(INFRA_SOURCE_DIR) + "/tests/peers/node_modules/@smithy/signature-v4/dist-cjs/suite.fixture.js";
    ASSERT_TRUE(std::filesystem::exists(fixture))
        << fixture << " is missing: run scripts/test (npm ci --prefix tests/peers)";
    auto dump = test::run_program(
        "/usr/bin/env", {"node", "-e", "process.stdout.write(JSON.stringify(require(process.argv[1])))", fixture});
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    json suite = json::parse(dump.out);
    ASSERT_GE(suite["requests"].size(), 20u);
    core::creds::sigv4::Key key{suite["credentials"]["accessKeyId"], suite["credentials"]["secretAccessKey"]};
    std::string region = suite["region"], service = suite["service"];
    int checked = 0;
    for (const auto& t : suite["requests"]) {
        core::creds::sigv4::Request req;
        const json& r = t["request"];
        req.method = r["method"];
        req.path = r["path"];
        for (const auto& [k, v] : r["query"].items()) req.query.emplace_back(k, v.get<std::string>());
        for (const auto& [k, v] : r["headers"].items()) req.headers.emplace_back(k, v.get<std::string>());
        if (r.contains("body")) req.body = r["body"];
        std::string date = r["headers"]["x-amz-date"];
        EXPECT_EQ(core::creds::sigv4::authorization(req, key, date, region, service),
                  t["authorization"].get<std::string>())
            << t["name"] << "\n"
            << core::creds::sigv4::canonical_request(req);
        ++checked;
    }
    EXPECT_EQ(checked, static_cast<int>(suite["requests"].size()));
}

TEST(SigV4, EncodesLikeAws)
{
    EXPECT_EQ(core::creds::sigv4::uri_encode("a b/c~d*", false), "a%20b%2Fc~d%2A");
    EXPECT_EQ(core::creds::sigv4::uri_encode("/a b/", true), "/a%20b/");
    EXPECT_EQ(core::creds::sigv4::form_encode({{"Action", "AssumeRole"}, {"Policy", "{\"a\":1}"}}),
              "Action=AssumeRole&Policy=%7B%22a%22%3A1%7D");
}

}  // namespace
}  // namespace infra
