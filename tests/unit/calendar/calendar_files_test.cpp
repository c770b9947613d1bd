// Checks of the calendar data files that operators edit: every mistake is named with its place.
#include "calendar/calendar_files.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace nqs::calendar {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const date::time_zone& almaty() {
  std::string problem;
  return *find_time_zone("Asia/Almaty", problem);
}

// Loads calendar files written into a temporary folder; returns the problems found.
std::vector<std::string> problems_of(const std::vector<std::pair<std::string, std::string>>& files,
                                     std::optional<WorkingCalendar>* out = nullptr) {
  test::TempDir dir;
  std::vector<std::filesystem::path> paths;
  for (const auto& [name, text] : files)
    paths.push_back(dir.write(name, text));
  yaml::Diagnostics diagnostics;
  auto calendar = load_calendar(paths, almaty(), diagnostics);
  EXPECT_EQ(calendar.has_value(), diagnostics.empty());
  if (out != nullptr) *out = std::move(calendar);
  // Messages name the file by its full path; keep the name only for readable expectations.
  std::vector<std::string> problems;
  for (auto problem : diagnostics.problems()) {
    const auto prefix = dir.path().string() + "/";
    for (auto at = problem.find(prefix); at != std::string::npos; at = problem.find(prefix)) {
      problem.erase(at, prefix.size());
    }
    problems.push_back(problem);
  }
  return problems;
}

TEST(CalendarFiles, AMinimalYearLoads) {
  std::optional<WorkingCalendar> calendar;
  EXPECT_THAT(problems_of({{"kz-2030.yaml",
                            "year: 2030\n"
                            "public_holidays:\n"
                            "  - {date: 2030-03-08, name: Women's Day}\n"}},
                          &calendar),
              IsEmpty());
  ASSERT_TRUE(calendar.has_value());
  EXPECT_FALSE(calendar->is_working(Date{date::year{2030} / 3 / 8}).value());
  // 8 March 2030 is a Friday: nothing moves.
  EXPECT_TRUE(calendar->is_working(Date{date::year{2030} / 3 / 11}).value());
  EXPECT_EQ(calendar->coverage(), "2030");
}

TEST(CalendarFiles, ADateUsedTwiceAcrossListsIsNamedWithItsFirstMention) {
  EXPECT_THAT(
      problems_of({{"kz-2025.yaml",
                    "year: 2025\n"
                    "public_holidays:\n"
                    "  - {date: 2025-03-22, name: Nauryz meirami}\n"
                    "transfers:\n"
                    "  - {day_off: 2025-01-08, worked_on: 2025-03-22, basis: decree B}\n"
                    "  - {day_off: 2025-01-09, worked_on: 2025-01-09, basis: decree C}\n"}}),
      ElementsAre("kz-2025.yaml:5:38: transfers[0].worked_on: 2025-03-22 is already listed at "
                  "public_holidays[0].date",
                  "kz-2025.yaml:6:38: transfers[1].worked_on: 2025-01-09 is already listed at "
                  "transfers[1].day_off"));
}

TEST(CalendarFiles, TransferDaysMustBeAWorkingWeekdayAndAPlainWeekendDay) {
  EXPECT_THAT(
      problems_of({{"kz-2025.yaml",
                    "year: 2025\n"
                    "public_holidays:\n"
                    "  - {date: 2025-03-22, name: Nauryz meirami}\n"
                    "transfers:\n"
                    "  - {day_off: 2025-01-04, worked_on: 2025-01-11, basis: decree A}\n"
                    "  - {day_off: 2025-01-08, worked_on: 2025-01-10, basis: decree B}\n"
                    "  - {day_off: 2025-03-24, worked_on: 2025-03-29, basis: decree C}\n"}}),
      ElementsAre(
          "kz-2025.yaml: transfers[0].day_off: 2025-01-04 is already a day off (weekend "
          "(Saturday))",
          "kz-2025.yaml: transfers[1].worked_on: 2025-01-10 is already a working day",
          // Monday 24 March is where Saturday's Nauryz moved.
          "kz-2025.yaml: transfers[2].day_off: 2025-03-24 is already a day off (day off moved "
          "from Saturday 2025-03-22 (Nauryz meirami))"));
}

TEST(CalendarFiles, AHolidayOnAWeekendCannotBeWorkedByDecree) {
  // A file cannot say this (the date would be listed twice), but rules built in code can.
  YearRules rules;
  rules.year = 2025;
  rules.source = "built";
  rules.religious_days_off.push_back(NamedDay{Date{date::year{2025} / 6 / 7}, "Some feast", false,
                                              "built: religious_days_off[0]"});
  rules.transfers.push_back(Transfer{Date{date::year{2025} / 6 / 9}, Date{date::year{2025} / 6 / 7},
                                     "decree", "built: transfers[0]"});
  yaml::Diagnostics diagnostics;
  EXPECT_FALSE(WorkingCalendar::build({rules}, almaty(), diagnostics).has_value());
  EXPECT_THAT(diagnostics.problems(),
              ElementsAre("built: transfers[0].worked_on: 2025-06-07 is a Saturday (religious day "
                          "off, never moved: Some feast); only a plain weekend day can be worked "
                          "in exchange for a day off"));
}

TEST(CalendarFiles, DatesOutsideTheYearDuplicatesAndTypos) {
  EXPECT_THAT(problems_of({{"kz-2025.yaml",
                            "year: 2025\n"
                            "public_holidays:\n"
                            "  - {date: 2026-01-01, name: New Year}\n"
                            "  - {date: 2025-05-01, name: Unity Day}\n"
                            "  - {date: 2025-05-01, name: Unity Day again}\n"
                            "  - {date: 2025-02-30, name: Nonsense}\n"
                            "  - {date: 2025-05-09}\n"
                            "religious_days_off:\n"
                            "  - {date: 2025-06-06, name: Kurban ait, provisonal: true}\n"
                            "transfer: []\n"}}),
              ElementsAre("kz-2025.yaml:3:12: public_holidays[0].date: 2026-01-01 is outside the "
                          "file's year 2025",
                          "kz-2025.yaml:5:12: public_holidays[2].date: 2025-05-01 is already "
                          "listed at public_holidays[1].date",
                          "kz-2025.yaml:6:12: public_holidays[3].date: '2025-02-30' is not a date "
                          "written YYYY-MM-DD",
                          "kz-2025.yaml:7:5: public_holidays[4].name: required key is missing",
                          "kz-2025.yaml:9:42: religious_days_off[0].provisonal: unknown key, did "
                          "you mean 'provisional'?",
                          "kz-2025.yaml:10:1: transfer: unknown key, did you mean 'transfers'?"));
}

TEST(CalendarFiles, YearMustMatchTheFileNameAndNotRepeat) {
  EXPECT_THAT(problems_of({{"kz-2025.yaml", "year: 2024\n"}}),
              ElementsAre("kz-2025.yaml:1:7: year: 2024 does not match the year 2025 in the file "
                          "name"));
  EXPECT_THAT(problems_of({{"kz-2025.yaml", "year: 2025\n"}, {"extra.yaml", "year: 2025\n"}}),
              ElementsAre("extra.yaml: year 2025 is already given by kz-2025.yaml"));
  EXPECT_THAT(problems_of({{"kz-2025.yaml", "year: twenty\n"}}),
              ElementsAre("kz-2025.yaml:1:7: year: 'twenty' is not a whole number"));
  EXPECT_THAT(problems_of({{"kz-2025.yaml", ""}}),
              ElementsAre("kz-2025.yaml: the calendar file is empty"));
}

TEST(CalendarFiles, AHolidayMovedOutOfItsYearMustBeWrittenAsATransfer) {
  EXPECT_THAT(problems_of({{"kz-2022.yaml",
                            "year: 2022\n"
                            "public_holidays:\n"
                            "  - {date: 2022-12-31, name: New Year's Eve}\n"}}),
              ElementsAre("kz-2022.yaml: public_holidays[0]: 2022-12-31 falls on a weekend and "
                          "would move into the next year; write the move as a transfer instead"));
}

TEST(CalendarFiles, YearsNeedNotBeContiguous) {
  std::optional<WorkingCalendar> calendar;
  EXPECT_THAT(problems_of({{"kz-2023.yaml", "year: 2023\n"},
                           {"kz-2025.yaml", "year: 2025\n"},
                           {"kz-2026.yaml", "year: 2026\n"}},
                          &calendar),
              IsEmpty());
  ASSERT_TRUE(calendar.has_value());
  EXPECT_EQ(calendar->coverage(), "2023, 2025-2026");
  // The missing year is not covered: no silent "working".
  EXPECT_FALSE(calendar->is_working(Date{date::year{2024} / 6 / 3}).has_value());
  EXPECT_FALSE(calendar->working_days_after(Date{date::year{2023} / 12 / 29}, 1).has_value());
}

}  // namespace
}  // namespace nqs::calendar
