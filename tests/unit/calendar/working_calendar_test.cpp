// The working-day calendar against the shipped data files for 2023-2027 (domain.md, "Working days
// in Kazakhstan"), and the deadline semantics used for every statutory deadline.
#include "calendar/working_calendar.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "calendar/calendar_files.hpp"
#include "test_support.hpp"

namespace nqs::calendar {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const WorkingCalendar& shipped() {
  static const WorkingCalendar calendar = [] {
    yaml::Diagnostics diagnostics;
    std::vector<std::filesystem::path> files;
    for (int year = 2023; year <= 2027; ++year) {
      files.push_back(test::source_path(fmt::format("config/calendar/kz-{}.yaml", year)));
    }
    std::string problem;
    const auto* zone = find_time_zone("Asia/Almaty", problem);
    EXPECT_NE(zone, nullptr) << problem;
    auto loaded = load_calendar(files, *zone, diagnostics);
    EXPECT_TRUE(diagnostics.empty()) << test::join(diagnostics.problems());
    return std::move(*loaded);
  }();
  return calendar;
}

Date day(std::string_view text) {
  return Date{*yaml::parse_date(text)};
}

Instant instant(std::string_view iso) {
  auto parsed = parse_instant(iso);
  EXPECT_TRUE(parsed.has_value()) << iso;
  return parsed.value_or(Instant{});
}

std::string utc(Instant value) {
  return to_utc_string(value);
}

// Every non-working weekday ('-') and every working weekend day ('+') of a year.
std::vector<std::string> exceptions_of(int year) {
  std::vector<std::string> out;
  auto days = shipped().exceptions(year);
  EXPECT_TRUE(days.has_value());
  for (const auto& [d, status] : days.value()) {
    out.push_back(to_string(d) + (status.working ? " +" : " -"));
  }
  return out;
}

// Expected lists written from the rules by hand, not from the program's output.
TEST(WorkingCalendarYears, Year2023) {
  EXPECT_THAT(exceptions_of(2023),
              ::testing::ElementsAre(
                  "2023-01-02 -",  // New Year
                  "2023-01-03 -",  // Sun 1 Jan moved past Mon 2 Jan, itself a holiday
                  "2023-03-08 -", "2023-03-21 -", "2023-03-22 -", "2023-03-23 -", "2023-05-01 -",
                  "2023-05-08 -",  // Sun 7 May moved
                  "2023-05-09 -", "2023-06-28 -",
                  "2023-07-01 +",  // decree: Saturday worked for Fri 7 July
                  "2023-07-06 -", "2023-07-07 -", "2023-08-30 -", "2023-10-25 -",
                  "2023-12-18 -"));  // Sat 16 Dec moved
}

TEST(WorkingCalendarYears, Year2024) {
  EXPECT_THAT(exceptions_of(2024),
              ::testing::ElementsAre("2024-01-01 -", "2024-01-02 -", "2024-03-08 -", "2024-03-21 -",
                                     "2024-03-22 -",
                                     "2024-03-25 -",  // Sat 23 Mar moved
                                     "2024-05-01 -",
                                     "2024-05-04 +",  // decree: Saturday worked for Wed 8 May
                                     "2024-05-07 -", "2024-05-08 -", "2024-05-09 -",
                                     "2024-07-08 -",  // Sat 6 July moved
                                     "2024-08-30 -", "2024-10-25 -", "2024-12-16 -"));
}

TEST(WorkingCalendarYears, Year2025) {
  EXPECT_THAT(exceptions_of(2025),
              ::testing::ElementsAre("2025-01-01 -", "2025-01-02 -",
                                     "2025-01-03 -",  // decree
                                     "2025-01-05 +",  // decree: Sunday worked
                                     "2025-01-07 -",
                                     "2025-03-10 -",  // Sat 8 Mar moved
                                     "2025-03-21 -",
                                     "2025-03-24 -",  // Sat 22 Mar moved
                                     "2025-03-25 -",  // Sun 23 Mar moved past the day above
                                     "2025-05-01 -", "2025-05-07 -", "2025-05-09 -", "2025-06-06 -",
                                     "2025-07-07 -",  // Sun 6 July moved
                                     "2025-09-01 -",  // Sat 30 Aug moved
                                     "2025-10-27 -",  // Sat 25 Oct moved
                                     "2025-12-16 -"));
}

TEST(WorkingCalendarYears, Year2026) {
  EXPECT_THAT(exceptions_of(2026),
              ::testing::ElementsAre("2026-01-01 -", "2026-01-02 -", "2026-01-07 -",
                                     "2026-03-09 -",  // Sun 8 Mar moved
                                     "2026-03-23 -",
                                     "2026-03-24 -",  // Sat 21 Mar moved past Mon 23
                                     "2026-03-25 -",  // Sun 22 Mar moved
                                     "2026-05-01 -", "2026-05-07 -",
                                     "2026-05-11 -",  // Sat 9 May moved
                                     "2026-05-27 -", "2026-07-06 -",
                                     "2026-10-26 -",  // Sun 25 Oct moved
                                     "2026-12-16 -"));
}

TEST(WorkingCalendarYears, Year2027) {
  EXPECT_THAT(exceptions_of(2027),
              ::testing::ElementsAre("2027-01-01 -",
                                     "2027-01-04 -",  // Sat 2 Jan moved
                                     "2027-01-07 -", "2027-03-08 -",
                                     "2027-03-15 -",  // Constitution Day from 2027
                                     "2027-03-22 -", "2027-03-23 -",
                                     "2027-03-24 -",  // Sun 21 Mar moved past Mon 22, Tue 23
                                     "2027-05-03 -",  // Sat 1 May moved
                                     "2027-05-07 -",
                                     "2027-05-10 -",  // Sun 9 May moved
                                     "2027-07-06 -", "2027-10-25 -", "2027-12-16 -"));
}

TEST(WorkingCalendarRules, ReligiousDaysOffAreNeverMoved) {
  // Orthodox Christmas 2024 and Kurban ait 2024 fell on Sundays: the Mondays after stay working.
  EXPECT_THAT(shipped().status(day("2024-01-07")).value().why,
              HasSubstr("religious day off, never moved: Orthodox Christmas"));
  EXPECT_TRUE(shipped().is_working(day("2024-01-08")).value());
  EXPECT_TRUE(shipped().is_working(day("2024-06-17")).value());
}

TEST(WorkingCalendarRules, ConstitutionDayIsNotAHolidayIn2026) {
  // 30 Aug 2026 is a Sunday; were it a holiday, Monday 31 Aug would be off.
  EXPECT_TRUE(shipped().is_working(day("2026-08-31")).value());
  EXPECT_EQ(shipped().status(day("2026-08-30")).value().why, "weekend (Sunday)");
}

TEST(WorkingCalendarRules, EveryDayExplainsWhyItIsOff) {
  EXPECT_EQ(shipped().status(day("2025-03-24")).value().why,
            "day off moved from Saturday 2025-03-22 (Nauryz meirami)");
  EXPECT_EQ(shipped().status(day("2025-03-22")).value().why,
            "public holiday: Nauryz meirami (on a Saturday; moved to 2025-03-24)");
  EXPECT_EQ(shipped().status(day("2025-01-03")).value().why,
            "day off transferred from Sunday 2025-01-05 (Government decree on the transfer of "
            "days off in 2025)");
  EXPECT_EQ(shipped().status(day("2025-01-05")).value().why,
            "decreed working day in exchange for Friday 2025-01-03 (Government decree on the "
            "transfer of days off in 2025)");
  EXPECT_EQ(shipped().status(day("2027-05-16")).value().why,
            "religious day off, never moved: Kurban ait (first day), provisional");
  const auto ordinary = shipped().status(day("2025-03-20")).value();
  EXPECT_TRUE(ordinary.working);
  EXPECT_EQ(ordinary.why, "");
}

TEST(WorkingDaysAfter, CountsOnlyWorkingDaysAfterTheStart) {
  // Nauryz, a weekend and two moved days in between (the issue's example).
  EXPECT_EQ(to_string(shipped().working_days_after(day("2025-03-20"), 1).value()), "2025-03-26");
  EXPECT_EQ(to_string(shipped().working_days_after(day("2025-03-20"), 2).value()), "2025-03-27");
  // A decreed working Sunday counts.
  EXPECT_EQ(to_string(shipped().working_days_after(day("2025-01-02"), 1).value()), "2025-01-05");
  // Across a year boundary: 1-2 Jan 2026 holidays, then a weekend.
  EXPECT_EQ(to_string(shipped().working_days_after(day("2025-12-31"), 1).value()), "2026-01-05");
  // Art. 17 payment: 5 working days after an act received on Friday 2025-05-02.
  EXPECT_EQ(to_string(shipped().working_days_after(day("2025-05-02"), 5).value()), "2025-05-13");
}

TEST(WorkingDaysAfter, ZeroIsTheStartItselfEvenWhenItIsADayOff) {
  EXPECT_EQ(to_string(shipped().working_days_after(day("2025-03-20"), 0).value()), "2025-03-20");
  EXPECT_EQ(to_string(shipped().working_days_after(day("2025-03-22"), 0).value()), "2025-03-22");
}

TEST(WorkingDaysAfter, StartOnANonWorkingDay) {
  // From Saturday 22 March 2025 the next working day is Wednesday the 26th.
  EXPECT_EQ(to_string(shipped().working_days_after(day("2025-03-22"), 1).value()), "2025-03-26");
  EXPECT_EQ(to_string(shipped().working_days_after(day("2025-03-23"), 3).value()), "2025-03-28");
}

TEST(WorkingDaysAfter, OutsideTheCoveredYearsIsAnErrorNeverWorking) {
  auto before = shipped().working_days_after(day("2022-12-30"), 1);
  ASSERT_FALSE(before.has_value());
  EXPECT_THAT(before.error().message,
              HasSubstr("2022-12-30 is outside the working-day calendar (years covered: "
                        "2023-2027); add config/calendar/kz-2022.yaml"));
  // Starting inside but running past the end of 2027.
  auto after = shipped().working_days_after(day("2027-12-30"), 2);
  ASSERT_FALSE(after.has_value());
  EXPECT_THAT(after.error().message, HasSubstr("2028-01-01 is outside the working-day calendar"));
  EXPECT_FALSE(shipped().is_working(day("2030-06-03")).has_value());
  EXPECT_FALSE(shipped().exceptions(2028).has_value());
  EXPECT_FALSE(shipped().covers(day("2028-01-03")));
}

TEST(WorkingDaysAfter, NegativeCountIsRefused) {
  auto result = shipped().working_days_after(day("2025-03-20"), -1);
  ASSERT_FALSE(result.has_value());
  EXPECT_THAT(result.error().message, HasSubstr("must not be negative"));
}

TEST(LocalTime, AlmatyWasUtcPlus6BeforeMarch2024AndUtcPlus5Since) {
  EXPECT_EQ(to_local_string(instant("2024-02-28T12:00:00Z"), shipped().zone()),
            "2024-02-28T18:00:00.000+06:00");
  EXPECT_EQ(to_local_string(instant("2024-03-01T12:00:00Z"), shipped().zone()),
            "2024-03-01T17:00:00.000+05:00");
}

TEST(LocalTime, TheOffsetChangeRepeatsTheLastHourOf29February) {
  // 2024-02-29 23:59:59 +06 was followed by 23:00:00 +05: the day ends at 19:00 UTC.
  EXPECT_EQ(to_string(shipped().local_date(instant("2024-02-29T17:59:59.999Z"))), "2024-02-29");
  EXPECT_EQ(to_string(shipped().local_date(instant("2024-02-29T18:30:00Z"))), "2024-02-29");
  EXPECT_EQ(to_string(shipped().local_date(instant("2024-02-29T18:59:59.999Z"))), "2024-02-29");
  EXPECT_EQ(to_string(shipped().local_date(instant("2024-02-29T19:00:00Z"))), "2024-03-01");
  EXPECT_EQ(utc(shipped().end_of_local_day(day("2024-02-28"))), "2024-02-28T17:59:59.999Z");
  EXPECT_EQ(utc(shipped().end_of_local_day(day("2024-02-29"))), "2024-02-29T18:59:59.999Z");
  EXPECT_EQ(utc(shipped().end_of_local_day(day("2024-03-01"))), "2024-03-01T18:59:59.999Z");
}

TEST(LocalTime, InstantsJustBeforeAndAfterLocalMidnight) {
  // 23:59:59.999 local on Tuesday 2 Sep 2025 is still the 2nd; a millisecond later it is the 3rd.
  EXPECT_EQ(to_string(shipped().local_date(instant("2025-09-02T18:59:59.999Z"))), "2025-09-02");
  EXPECT_EQ(to_string(shipped().local_date(instant("2025-09-02T19:00:00Z"))), "2025-09-03");
  // Before 2024-03-01 local midnight was at 18:00 UTC.
  EXPECT_EQ(to_string(shipped().local_date(instant("2023-09-05T17:59:59.999Z"))), "2023-09-05");
  EXPECT_EQ(to_string(shipped().local_date(instant("2023-09-05T18:00:00Z"))), "2023-09-06");
}

TEST(WorkingDayDeadline, EndsAtTheEndOfTheNthWorkingDayAfterTheLocalDate) {
  const auto& c = shipped();
  // Art. 8: received Thursday 20 March 2025 at noon; due at the end of Wednesday the 26th.
  EXPECT_EQ(
      to_local_string(
          c.working_day_deadline(c.local_date(instant("2025-03-20T12:00:00+05:00")), 1).value(),
          c.zone()),
      "2025-03-26T23:59:59.999+05:00");
  // The last millisecond of Tuesday 2 Sep 2025 counts from the 2nd; the next from the 3rd.
  EXPECT_EQ(
      utc(c.working_day_deadline(c.local_date(instant("2025-09-02T18:59:59.999Z")), 1).value()),
      "2025-09-03T18:59:59.999Z");
  EXPECT_EQ(utc(c.working_day_deadline(c.local_date(instant("2025-09-02T19:00:00Z")), 1).value()),
            "2025-09-04T18:59:59.999Z");
  // Received on a day off (Monday 1 Sep 2025, moved Constitution Day): the count starts after it.
  EXPECT_EQ(
      utc(c.working_day_deadline(c.local_date(instant("2025-09-01T10:00:00+05:00")), 1).value()),
      "2025-09-02T18:59:59.999Z");
  // N = 0: the end of the local date of the start.
  EXPECT_EQ(
      utc(c.working_day_deadline(c.local_date(instant("2025-09-02T10:00:00+05:00")), 0).value()),
      "2025-09-02T18:59:59.999Z");
}

TEST(WorkingDayDeadline, AcrossTheOffsetChange) {
  const auto& c = shipped();
  // Received Wednesday 28 Feb 2024 (UTC+6); 3 working days: 29 Feb, 1 Mar, 4 Mar (UTC+5).
  EXPECT_EQ(
      utc(c.working_day_deadline(c.local_date(instant("2024-02-28T10:00:00+06:00")), 3).value()),
      "2024-03-04T18:59:59.999Z");
  // 1 working day from 28 Feb ends with 29 Feb, the day whose last local hour happened twice.
  EXPECT_EQ(
      utc(c.working_day_deadline(c.local_date(instant("2024-02-28T10:00:00+06:00")), 1).value()),
      "2024-02-29T18:59:59.999Z");
  // Before the change: 5 July 2023, then holidays and a decree: due Monday 10 July, UTC+6.
  EXPECT_EQ(
      to_local_string(
          c.working_day_deadline(c.local_date(instant("2023-07-05T10:00:00+06:00")), 1).value(),
          c.zone()),
      "2023-07-10T23:59:59.999+06:00");
}

TEST(CalendarDayDeadline, SixtyCalendarDaysAfterTheDayOfIssue) {
  const auto& c = shipped();
  // Art. 10: a voucher issued on 1 September 2025 is valid to the end of 31 October 2025.
  EXPECT_EQ(
      to_local_string(
          c.calendar_day_deadline(c.local_date(instant("2025-09-01T15:00:00+05:00")), 60).value(),
          c.zone()),
      "2025-10-31T23:59:59.999+05:00");
  // Issued in January 2024 at UTC+6, it expires after the change, at UTC+5.
  EXPECT_EQ(
      utc(c.calendar_day_deadline(c.local_date(instant("2024-01-15T10:00:00+06:00")), 60).value()),
      "2024-03-15T18:59:59.999Z");
  EXPECT_FALSE(
      c.calendar_day_deadline(c.local_date(instant("2024-01-15T10:00:00+06:00")), -1).has_value());
}

TEST(TimeZone, UnknownZoneIsReported) {
  std::string problem;
  EXPECT_EQ(find_time_zone("Mars/Olympus_Mons", problem), nullptr);
  EXPECT_THAT(problem, HasSubstr("unknown time zone 'Mars/Olympus_Mons'"));
}

}  // namespace
}  // namespace nqs::calendar
