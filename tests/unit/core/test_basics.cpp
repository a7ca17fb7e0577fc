#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace infra::core;

TEST(Ulid, HasTheUlidShape)
{
    auto id = ids::new_ulid();
    EXPECT_EQ(id.size(), 26u);
    EXPECT_TRUE(ids::is_ulid(id)) << id;
    EXPECT_FALSE(ids::is_ulid("not-a-ulid"));
    EXPECT_FALSE(ids::is_ulid("01M86TZH12FPQAZA78N10Q24FI"));  // I is not Crockford base32
}

TEST(Ulid, SortsByCreationEvenWithinOneMillisecond)
{
    auto t = std::chrono::system_clock::now();
    std::vector<std::string> made;
    for (int i = 0; i < 1000; ++i) made.push_back(ids::new_ulid(t));
    for (std::size_t i = 1; i < made.size(); ++i) EXPECT_LT(made[i - 1], made[i]);
    std::set<std::string> unique(made.begin(), made.end());
    EXPECT_EQ(unique.size(), made.size());
}

TEST(Ulid, LaterTimeSortsLater)
{
    auto a = ids::new_ulid(std::chrono::system_clock::now() + std::chrono::hours(1));
    auto b = ids::new_ulid(std::chrono::system_clock::now() + std::chrono::hours(2));
    EXPECT_LT(a, b);
}

TEST(Rfc3339, ParsesTheFormsSignalsUse)
{
    EXPECT_EQ(timeutil::normalize("2026-11-24T11:47:27.724343458Z"), "2026-11-24T11:47:27.724Z");
    EXPECT_EQ(timeutil::normalize("2015-06-03T17:43:27.123+0000"), "2015-06-03T17:43:27.123Z");
    EXPECT_EQ(timeutil::normalize("2021-04-26T19:36:27+02:00"), "2021-04-26T17:36:27.000Z");
    EXPECT_EQ(timeutil::normalize("2025-02-14T14:27:03.913874"), "2025-02-14T14:27:03.913Z");
    EXPECT_FALSE(timeutil::normalize("0001-01-01T00:00:00Z"));  // Alertmanager's "never"
}

TEST(Rfc3339, RejectsWhatIsNotATime)
{
    EXPECT_FALSE(timeutil::normalize("yesterday"));
    EXPECT_FALSE(timeutil::normalize("2026-13-01T00:00:00Z"));
    EXPECT_FALSE(timeutil::normalize("2026-11-24T12:00:00Zjunk"));
    EXPECT_FALSE(timeutil::normalize("2026-11-24T12:00:00."));
}

TEST(Duration, ParsesUnitsAndCombinations)
{
    EXPECT_EQ(timeutil::parse_duration("30s")->count(), 30'000);
    EXPECT_EQ(timeutil::parse_duration("15m")->count(), 900'000);
    EXPECT_EQ(timeutil::parse_duration("2h")->count(), 7'200'000);
    EXPECT_EQ(timeutil::parse_duration("1h30m")->count(), 5'400'000);
    EXPECT_EQ(timeutil::parse_duration("250ms")->count(), 250);
    EXPECT_FALSE(timeutil::parse_duration("10"));
    EXPECT_FALSE(timeutil::parse_duration("5 minutes"));
    EXPECT_FALSE(timeutil::parse_duration(""));
    EXPECT_EQ(timeutil::format_duration(std::chrono::milliseconds(5'400'000)), "1h30m");
}

TEST(Glob, MatchesStarsAndQuestionMarks)
{
    EXPECT_TRUE(text::glob_match("prod-*", "prod-eu"));
    EXPECT_TRUE(text::glob_match("*", ""));
    EXPECT_TRUE(text::glob_match("a*b*c", "axxbyyc"));
    EXPECT_TRUE(text::glob_match("infra-agent/?ix", "infra-agent/fix"));
    EXPECT_FALSE(text::glob_match("prod-*", "production"));
    EXPECT_FALSE(text::glob_match("a*b", "a"));
}

TEST(Quote, EscapesControlCharactersAndCuts)
{
    EXPECT_EQ(text::quote("a\nb"), "'a\\x0ab'");
    EXPECT_EQ(text::quote(std::string(100, 'x'), 5), "'xxxxx...'");
}

TEST(Hmac, MatchesGitHubsDocumentedVector)
{
    // From GitHub's "Validating webhook deliveries".
    EXPECT_EQ(crypto::hmac_sha256_hex("It's a Secret to Everybody", "Hello, World!"),
              "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
    EXPECT_TRUE(crypto::constant_time_equal("abc", "abc"));
    EXPECT_FALSE(crypto::constant_time_equal("abc", "abd"));
    EXPECT_FALSE(crypto::constant_time_equal("abc", "abcd"));
}

TEST(Utf8, FindsTheFirstBadByte)
{
    EXPECT_FALSE(text::invalid_utf8("plain ascii"));
    EXPECT_FALSE(text::invalid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    EXPECT_EQ(text::invalid_utf8("ab\xa1"), 2u);
    EXPECT_EQ(text::invalid_utf8("\xc3"), 0u);          // truncated
    EXPECT_EQ(text::invalid_utf8("x\xc0\xaf"), 1u);     // overlong '/'
    EXPECT_EQ(text::invalid_utf8("\xed\xa0\x80"), 0u);  // a surrogate
}

#include "core/yaml_docs.hpp"

TEST(YamlDocuments, SplitAtMarkersKeepingLineNumbers)
{
    auto docs = split_yaml_documents("a: 1\n---\nb: 2\nc: 3\n...\n--- d: 4\n");
    ASSERT_EQ(docs.size(), 3u);
    EXPECT_EQ(docs[0].first_line, 0);
    EXPECT_EQ(docs[0].text, "a: 1\n");
    EXPECT_EQ(docs[1].first_line, 2);
    EXPECT_EQ(docs[1].text, "b: 2\nc: 3\n");
    EXPECT_EQ(docs[2].first_line, 5);
    EXPECT_EQ(docs[2].text, "    d: 4\n");
    EXPECT_TRUE(split_yaml_documents("\n  \n").empty());
    EXPECT_EQ(split_yaml_documents("x: '---'\n").size(), 1u);
}
