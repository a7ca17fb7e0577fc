#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/timeutil.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <functional>
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

TEST(Ulid, EachMillisecondHasRandomBitsOfItsOwn)
{
    // More ids than the read-ahead of random bytes holds, each in a later millisecond.
    auto t = std::chrono::system_clock::now() + std::chrono::hours(3);
    std::set<std::string> randomness;
    for (int i = 0; i < 500; ++i) randomness.insert(ids::new_ulid(t + std::chrono::milliseconds(i)).substr(10));
    EXPECT_EQ(randomness.size(), 500u);
}

namespace {

/// What draw gives in a child forked now, and then in this process: a
/// generator that read ahead before the fork must not hand both the same.
std::pair<std::string, std::string> drawn_by_child_and_parent(const std::function<std::string()>& draw)
{
    int fds[2];
    if (::pipe(fds) != 0) return {};
    pid_t pid = ::fork();
    if (pid == 0) {
        std::string mine = draw();
        ::_exit(::write(fds[1], mine.data(), mine.size()) == static_cast<ssize_t>(mine.size()) ? 0 : 1);
    }
    std::string parent = draw();
    std::string child(parent.size(), '\0');
    ssize_t got = pid > 0 ? ::read(fds[0], child.data(), child.size()) : -1;
    int status = 0;
    if (pid > 0) ::waitpid(pid, &status, 0);
    ::close(fds[0]);
    ::close(fds[1]);
    if (got != static_cast<ssize_t>(child.size())) ADD_FAILURE() << "the forked child wrote nothing back";
    return {child, parent};
}

}  // namespace

TEST(Ulid, AForkedChildDoesNotRepeatItsParentsIds)
{
    auto t = std::chrono::system_clock::now() + std::chrono::hours(4);
    ids::new_ulid(t);
    auto [child, parent] = drawn_by_child_and_parent([t] { return ids::new_ulid(t + std::chrono::milliseconds(1)); });
    ASSERT_EQ(child.size(), 26u);
    EXPECT_EQ(child.substr(0, 10), parent.substr(0, 10));  // the same millisecond
    EXPECT_NE(child.substr(10), parent.substr(10));
}

TEST(PooledRandom, ThreadsAndAForkedChildDrawBytesOfTheirOwn)
{
    // Each draw is new: 4,096 draws of 16 bytes cross the read-ahead many times.
    std::set<std::string> seen;
    for (int i = 0; i < 4096; ++i) {
        std::string b(16, '\0');
        crypto::pooled_random_bytes(b.data(), b.size());
        seen.insert(b);
    }
    EXPECT_EQ(seen.size(), 4096u);
    // More than the read-ahead at once.
    std::string big(10000, '\0');
    crypto::pooled_random_bytes(big.data(), big.size());
    EXPECT_NE(big.find_first_not_of('\0'), std::string::npos);
    EXPECT_NE(big.substr(0, 16), big.substr(5000, 16));

    std::string before(8, '\0');
    crypto::pooled_random_bytes(before.data(), before.size());  // the pool holds bytes read ahead now
    auto [child, parent] = drawn_by_child_and_parent([] {
        std::string b(16, '\0');
        crypto::pooled_random_bytes(b.data(), b.size());
        return b;
    });
    EXPECT_NE(child, parent);
}

TEST(Rfc3339, FormatsAsTheCLibraryDoes)
{
    using namespace std::chrono;
    for (long long ms = -9'000'000'000'000LL; ms < 9'000'000'000'000LL; ms += 7'777'777'777LL) {
        long long secs = ms / 1000, frac = ms % 1000;
        if (frac < 0) frac += 1000, --secs;
        std::time_t tt = secs;
        std::tm tm{};
        gmtime_r(&tt, &tm);
        char want[64];
        std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
        EXPECT_EQ(timeutil::format_rfc3339(timeutil::TimePoint(milliseconds(ms))), want) << ms;
    }
    EXPECT_EQ(timeutil::format_rfc3339(timeutil::TimePoint(milliseconds(-1))), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(timeutil::format_rfc3339(timeutil::TimePoint(milliseconds(951'782'400'000))), "2000-02-29T00:00:00.000Z");
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
