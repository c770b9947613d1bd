// What a year needs configured (calendar and MCI), and when the coming year's is expected.
#include "configuration/year_coverage.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calendar_support.hpp"

namespace nqs::configuration {
namespace {

using ::testing::HasSubstr;

calendar::Date day(int y, unsigned m, unsigned d) {
  return date::sys_days{date::year{y} / date::month{m} / date::day{d}};
}

// The shipped calendar covers 2023 to 2027.
const std::map<int, std::int64_t> kMci{{2025, 3932}, {2026, 4325}, {2027, 4600}};

TEST(YearCoverage, TheComingYearIsExpectedFromTheFirstOfNovember) {
  const auto& calendar = test::almaty_calendar();
  const auto october = year_coverage(calendar, kMci, day(2027, 10, 31));
  EXPECT_TRUE(october.ready());
  EXPECT_FALSE(october.next_configured());
  EXPECT_FALSE(october.next_expected);
  EXPECT_EQ(october.warning(), std::nullopt);

  const auto november = year_coverage(calendar, kMci, day(2027, 11, 15));
  EXPECT_TRUE(november.ready());
  ASSERT_TRUE(november.warning().has_value());
  EXPECT_EQ(*november.warning(),
            "2027 configured; 2028 lacks the calendar file (calendar.files: kz-2028.yaml) and the "
            "MCI (domain.mci: 2028) (add it before 2028-01-01)");
}

TEST(YearCoverage, AComingYearWithBothIsNotSaid) {
  const auto coverage = year_coverage(test::almaty_calendar(), kMci, day(2026, 11, 15));
  EXPECT_TRUE(coverage.ready());
  EXPECT_TRUE(coverage.next_configured());
  EXPECT_EQ(coverage.warning(), std::nullopt);
  EXPECT_EQ(coverage.describe(), "2026 configured; 2027 configured");
}

TEST(YearCoverage, ADayOfAYearWithoutItsMciIsNotReady) {
  const auto coverage = year_coverage(test::almaty_calendar(), {{2026, 4325}}, day(2027, 1, 1));
  EXPECT_FALSE(coverage.ready());
  ASSERT_TRUE(coverage.warning().has_value());
  EXPECT_THAT(*coverage.warning(),
              HasSubstr("2027 lacks the MCI (domain.mci: 2027) (not ready until it is added)"));
}

TEST(YearCoverage, ADayOfAYearWithoutItsCalendarIsNotReady) {
  const auto coverage = year_coverage(test::almaty_calendar(), {{2028, 4800}}, day(2028, 3, 2));
  EXPECT_FALSE(coverage.ready());
  EXPECT_THAT(coverage.describe(),
              HasSubstr("2028 lacks the calendar file (calendar.files: kz-2028.yaml)"));
}

}  // namespace
}  // namespace nqs::configuration
