// serve's options from the configuration and the command line.
#include "core/serve/config.hpp"
#include "support/fixtures.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace infra::core::serve {
namespace {

Config config_of(const test::TempDir& dir, const std::string& yaml)
{
    test::write_file(dir / "config.yaml", yaml);
    auto c = Config::load(dir / "config.yaml", true);
    EXPECT_TRUE(c) << c.error().message;
    return c ? *c : Config{};
}

TEST(ServeConfig, TheCommandLineWinsOverTheFileAndSizesTakeUnits)
{
    test::TempDir dir;
    Config c = config_of(dir, "serve:\n  listen: 0.0.0.0:9000\n  max_body: 512KiB\n  io_timeout: 3s\n");
    auto o = options_from(c, {});
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(o->host, "0.0.0.0");
    EXPECT_EQ(o->port, 9000);
    EXPECT_EQ(o->max_body, 512u * 1024);
    EXPECT_EQ(o->io_timeout.count(), 3);
    o = options_from(c, {"[::1]:0", "2MiB"});
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(o->host, "::1");
    EXPECT_EQ(o->port, 0);
    EXPECT_EQ(o->max_body, 2u << 20);
}

TEST(ServeConfig, EachBadValueIsAUsageErrorNamingIt)
{
    test::TempDir dir;
    Config empty;
    auto listen = options_from(empty, {"localhost:http", ""});
    ASSERT_FALSE(listen);
    EXPECT_EQ(listen.error().code, Errc::usage);
    EXPECT_EQ(listen.error().message, "listen address 'localhost:http': expected HOST:PORT, e.g. 127.0.0.1:8787");
    auto size = options_from(empty, {"", "5 gallons"});
    ASSERT_FALSE(size);
    EXPECT_EQ(size.error().message, "max body '5 gallons': expected bytes, e.g. 1048576 or 5MiB");
    auto timeout = options_from(config_of(dir, "serve:\n  io_timeout: 10ms\n"), {});
    ASSERT_FALSE(timeout);
    EXPECT_EQ(timeout.error().message, "serve.io_timeout '10ms': expected whole seconds, e.g. 10s");
}

TEST(ServeConfig, AWebhookSecretComesFromTheVariableItsKeyNames)
{
    test::TempDir dir;
    Config c = config_of(dir, "webhooks:\n  github:\n    secret_env: INFRA_TEST_SERVE_SECRET\n");
    ::unsetenv("INFRA_TEST_SERVE_SECRET");
    auto unset = options_from(c, {});
    ASSERT_FALSE(unset);
    EXPECT_EQ(unset.error().message,
              "webhooks.github.secret_env names INFRA_TEST_SERVE_SECRET, which is not set in the environment");
    ::setenv("INFRA_TEST_SERVE_SECRET", "a-shared-secret-of-some-length", 1);
    auto set = options_from(c, {});
    ::unsetenv("INFRA_TEST_SERVE_SECRET");
    ASSERT_TRUE(set) << set.error().message;
    EXPECT_EQ(set->secrets.at("github"), "a-shared-secret-of-some-length");
    EXPECT_EQ(set->secrets.count("gitlab"), 0u);
}

}  // namespace
}  // namespace infra::core::serve
