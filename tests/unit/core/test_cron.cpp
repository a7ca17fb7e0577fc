// Cron expressions and time zones: parsing with errors that name the field,
// next fire times in UTC and across daylight-saving changes.
#include "core/cron.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace infra;
using core::cron::Expression;
using core::cron::TimeZone;

namespace {

core::timeutil::TimePoint at(const char* rfc3339)
{
    return *core::timeutil::parse_rfc3339(rfc3339);
}

std::string next(const char* expr, const char* after, const char* zone = "UTC")
{
    auto e = Expression::parse(expr);
    EXPECT_TRUE(e) << e.error().message;
    auto tz = TimeZone::load(zone);
    EXPECT_TRUE(tz) << tz.error().message;
    auto n = e->next_after(at(after), *tz);
    return n ? core::timeutil::format_rfc3339(*n) : "never";
}

std::string error_of(const char* expr)
{
    auto e = Expression::parse(expr);
    return e ? "" : e.error().message;
}

}  // namespace

TEST(Cron, ParseErrorsNameTheField)
{
    EXPECT_EQ(error_of("61 * * * *"), "cron field 1 (minute): 61 is out of range 0-59");
    EXPECT_EQ(error_of("0 24 * * *"), "cron field 2 (hour): 24 is out of range 0-23");
    EXPECT_EQ(error_of("0 0 * foo *"), "cron field 4 (month): 'foo' is not a number or a name");
    EXPECT_EQ(error_of("0 0 5-1 * *"), "cron field 3 (day of month): range '5-1' runs backwards");
    EXPECT_EQ(error_of("*/0 * * * *"), "cron field 1 (minute): step 0 is out of range");
    EXPECT_NE(error_of("0 0 * *").find("has 4 fields, expected 5"), std::string::npos);
    EXPECT_NE(error_of("@sometimes").find("unknown cron macro"), std::string::npos);
    EXPECT_EQ(error_of("0 0 1,,2 * *"), "cron field 3 (day of month): empty list element");
}

TEST(Cron, NextFireInUtc)
{
    EXPECT_EQ(next("*/15 * * * *", "2026-11-24T12:07:31Z"), "2026-11-24T12:15:00.000Z");
    EXPECT_EQ(next("*/15 * * * *", "2026-11-24T12:15:00Z"), "2026-11-24T12:30:00.000Z");  // strictly after
    EXPECT_EQ(next("0 2 * * *", "2026-11-24T03:00:00Z"), "2026-11-25T02:00:00.000Z");
    EXPECT_EQ(next("@hourly", "2026-11-24T23:59:00Z"), "2026-11-25T00:00:00.000Z");
    EXPECT_EQ(next("@weekly", "2026-11-24T00:00:00Z"), "2026-11-29T00:00:00.000Z");  // a Sunday
    EXPECT_EQ(next("0 9 * * mon-fri", "2026-11-27T10:00:00Z"), "2026-11-30T09:00:00.000Z");
    EXPECT_EQ(next("0 0 * * 7", "2026-11-24T00:00:00Z"), "2026-11-29T00:00:00.000Z");  // 7 is Sunday too
    EXPECT_EQ(next("5/20 * * * *", "2026-11-24T12:06:00Z"), "2026-11-24T12:25:00.000Z");
    // Both day fields restricted: either matches (the 13th, or a Friday).
    EXPECT_EQ(next("0 0 13 * fri", "2026-11-24T00:00:00Z"), "2026-11-27T00:00:00.000Z");
    EXPECT_EQ(next("0 0 29 2 *", "2026-11-24T00:00:00Z"), "2028-02-29T00:00:00.000Z");
    EXPECT_EQ(next("0 0 31 2 *", "2026-11-24T00:00:00Z"), "never");
}

TEST(Cron, NextFireInATimeZone)
{
    // Berlin is UTC+1 in winter, UTC+2 in summer.
    EXPECT_EQ(next("0 2 * * *", "2026-11-24T00:00:00Z", "Europe/Berlin"), "2026-11-24T01:00:00.000Z");
    EXPECT_EQ(next("0 2 * * *", "2026-06-30T12:00:00Z", "Europe/Berlin"), "2026-07-01T00:00:00.000Z");
    // 02:30 does not exist on 2027-03-28 in Berlin: the next is the day after.
    EXPECT_EQ(next("30 2 * * *", "2027-03-27T12:00:00Z", "Europe/Berlin"), "2027-03-29T00:30:00.000Z");
    EXPECT_EQ(next("0 9 * * *", "2026-11-24T00:00:00Z", "America/New_York"), "2026-11-24T14:00:00.000Z");
    EXPECT_EQ(next("0 9 * * *", "2026-11-24T00:00:00Z", "Asia/Kolkata"), "2026-11-24T03:30:00.000Z");
}

TEST(Cron, TimeZonesAreCheckedNames)
{
    auto unknown = TimeZone::load("Mars/Olympus_Mons");
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("unknown time zone 'Mars/Olympus_Mons'"), std::string::npos);
    auto escape = TimeZone::load("../../etc/passwd");
    ASSERT_FALSE(escape);
    EXPECT_NE(escape.error().message.find("is not a zone name"), std::string::npos);
    EXPECT_FALSE(TimeZone::parse("TZif2 but far too short", "x"));
    EXPECT_TRUE(TimeZone::load("UTC"));
}

// The rows of tests/fixtures/samples/cron/vectors.json on which three independent
// npm cron libraries agree: the next six UTC fire times from 2026-01-01, or
// a rejection. Six-field expressions (a seconds field) are rejected by
// design, as GitHub Actions rejects them.
TEST(Cron, AgreesWithThreeIndependentLibraries)
{
    std::ifstream in(std::string(INFRA_TEST_FIXTURES) + "/samples/cron/vectors.json");
    ASSERT_TRUE(in);
    auto doc = nlohmann::json::parse(in);
    auto tz = TimeZone::load("UTC");
    ASSERT_TRUE(tz);
    int compared = 0, rejected = 0;
    for (const auto& row : doc["rows"]) {
        std::string expr = row["expr"];
        auto e = Expression::parse(expr);
        if (row["fields"] == 6) {
            EXPECT_FALSE(e) << expr;
            ++rejected;
            continue;
        }
        if (!row["agree_all"].get<bool>()) continue;
        const auto& want = row["cron_parser"];
        if (!want["ok"].get<bool>()) {
            EXPECT_FALSE(e) << expr;
            ++rejected;
            continue;
        }
        ASSERT_TRUE(e) << expr << ": " << e.error().message;
        auto t = at(doc["start"].get<std::string>().c_str());
        for (const auto& next : want["next"]) {
            auto n = e->next_after(t, *tz);
            ASSERT_TRUE(n) << expr;
            EXPECT_EQ(core::timeutil::format_rfc3339(*n), next.get<std::string>()) << expr;
            t = *n;
        }
        ++compared;
    }
    EXPECT_GE(compared, 40);
    EXPECT_GE(rejected, 2);
}
