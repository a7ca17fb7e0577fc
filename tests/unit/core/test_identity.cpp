#include "core/environment.hpp"
#include "core/identity.hpp"

#include <gtest/gtest.h>

using namespace infra::core;

TEST(Identity, NamesAreComparedTrimmedAndWithoutCase)
{
    EXPECT_TRUE(identity::same("alice", "Alice"));
    EXPECT_TRUE(identity::same(" ALICE\t", "alice"));
    EXPECT_FALSE(identity::same("alice", "alicia"));
    EXPECT_FALSE(identity::same("", ""));  // nobody is never anybody
    EXPECT_FALSE(identity::same("  ", ""));
    EXPECT_EQ(identity::canonical(" Dana-Ops "), "dana-ops");
}

TEST(Environment, OneSpellingOfEachEnvironment)
{
    for (const char* s : {"production", "Production", "production ", "PRODUCTION", "\tProDuction\n"})
        EXPECT_EQ(*canonical_environment(s, "context.environment"), "production") << s;
    EXPECT_EQ(*canonical_environment("", "context.environment"), "");
    EXPECT_EQ(*canonical_environment("prod-EU", "context.environment"), "prod-eu");
}

TEST(Environment, ANonAsciiLookAlikeIsRefusedNamingTheFieldAndTheCharacter)
{
    auto r = canonical_environment("pr\xd0\xbe"
                                   "duction",
                                   "context.environment");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_input);
    EXPECT_EQ(r.error().message.rfind("context.environment: environment 'pr\xd0\xbe"
                                      "duction' has the non-ASCII character U+043E (\xd0\xbe) at character 3",
                                      0),
              0u)
        << r.error().message;
    EXPECT_FALSE(canonical_environment("production\xc2\xa0", "x"));  // a no-break space is not trimmed away
    EXPECT_FALSE(canonical_environment("prod\x01", "x"));
    EXPECT_FALSE(canonical_environment(std::string(129, 'a'), "x"));
}

TEST(Environment, TasksFromJsonComeInCanonicalForm)
{
    json j = json::parse(R"({"id": "01M86TZH12FPQAZA78N10Q24F2", "type": "compliance-remediation",
      "trigger": {"source": "api", "provider": "ci", "timestamp": "2026-11-24T12:00:00Z"},
      "context": {"environment": " PRODUCTION "}, "dedupeKey": "k"})");
    auto t = task_from_json(j);
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->context.environment, "production");
    j["context"]["environment"] = "pr\xd0\xbe"
                                  "duction";
    EXPECT_FALSE(task_from_json(j));
}
