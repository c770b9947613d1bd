// The rules of Rules 380 as pure functions: automatic checks (art. 3), validity (art. 10-12),
// money (art. 14-15).
#include "domain/rules.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calendar/calendar_files.hpp"
#include "test_support.hpp"

namespace nqs::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

calendar::Date day(const char* text) {
  return calendar::Date{*yaml::parse_date(text)};
}

const calendar::WorkingCalendar& almaty() {
  static const auto calendar = [] {
    std::string problem;
    const auto* zone = calendar::find_time_zone("Asia/Almaty", problem);
    yaml::Diagnostics diagnostics;
    return *calendar::load_calendar({test::source_path("config/calendar/kz-2025.yaml")}, *zone,
                                    diagnostics);
  }();
  return calendar;
}

ApplicantFacts eligible() {
  ApplicantFacts facts;
  facts.registered_unemployed = true;
  facts.quota_left = 5;
  return facts;
}

TEST(AutomaticChecks, AnEligibleApplicationPasses) {
  EXPECT_THAT(automatic_refusals(day("2025-09-01"), eligible()), IsEmpty());
}

TEST(AutomaticChecks, TheFifteenthOfOctoberAtLocalMidnight) {
  auto local = [](const char* instant) { return almaty().local_date(*parse_instant(instant)); };
  // The last local millisecond of 15 October is in time; the next one is not.
  EXPECT_THAT(automatic_refusals(local("2025-10-15T23:59:59.999+05:00"), eligible()), IsEmpty());
  EXPECT_THAT(automatic_refusals(local("2025-10-16T00:00:00+05:00"), eligible()),
              ElementsAre("deadline_passed"));
  // Still the 15th in UTC, already the 16th in Almaty: the local date decides.
  EXPECT_THAT(automatic_refusals(local("2025-10-15T19:30:00Z"), eligible()),
              ElementsAre("deadline_passed"));
  // The deadline is per year: January is in time again.
  EXPECT_THAT(automatic_refusals(day("2026-01-05"), eligible()), IsEmpty());
}

TEST(AutomaticChecks, Art3_OnlyTheDeadlineAndTheThreeGroundsInAFixedOrder) {
  ApplicantFacts facts;  // no quota
  facts.registered_unemployed = false;
  facts.voucher_received_this_year = true;
  EXPECT_THAT(automatic_refusals(day("2025-12-01"), facts),
              ElementsAre("deadline_passed", "not_registered_unemployed", "no_quota_left",
                          "voucher_already_received_this_year"));
  facts = eligible();
  facts.registered_unemployed = false;
  EXPECT_THAT(automatic_refusals(day("2025-09-01"), facts),
              ElementsAre("not_registered_unemployed"));
  facts = eligible();
  facts.quota_left = 0;
  EXPECT_THAT(automatic_refusals(day("2025-09-01"), facts), ElementsAre("no_quota_left"));
}

TEST(AutomaticChecks, Art3_AnApplicantTheAisNeverMentionedIsNotRefused) {
  // Audit point 2: missing data is not a refusal; the career center reviews it (art. 8).
  ApplicantFacts facts = eligible();
  facts.registered_unemployed.reset();
  EXPECT_THAT(automatic_refusals(day("2025-09-01"), facts), IsEmpty());
}

TEST(AutomaticChecks, Art3_TheDeadlineIsConfigurableAndIncluded) {
  // domain.application_deadline: the last day included (audit point 5).
  const MonthDay first_of_november{11, 1};
  EXPECT_THAT(automatic_refusals(day("2025-11-01"), eligible(), first_of_november), IsEmpty());
  EXPECT_THAT(automatic_refusals(day("2025-11-02"), eligible(), first_of_november),
              ElementsAre("deadline_passed"));
  EXPECT_THAT(automatic_refusals(day("2025-10-15"), eligible()), IsEmpty());
  EXPECT_THAT(automatic_refusals(day("2025-10-16"), eligible()), ElementsAre("deadline_passed"));
}

TEST(Validity, SixtyCalendarDaysAfterIssueExtendedBySickLeave) {
  EXPECT_EQ(calendar::to_string(valid_until(day("2025-09-01"), {})), "2025-10-31");
  // A sheet of 20-29 September is 10 days, both ends included.
  EXPECT_EQ(calendar::to_string(
                valid_until(day("2025-09-01"), {{day("2025-09-20"), day("2025-09-29"), "LN-1"}})),
            "2025-11-10");
  EXPECT_EQ(calendar::to_string(
                valid_until(day("2025-09-01"), {{day("2025-09-20"), day("2025-09-29"), "LN-1"},
                                                {day("2025-10-10"), day("2025-10-10"), "LN-2"}})),
            "2025-11-11");
  // Across the year: issued 15 December 2025.
  EXPECT_EQ(calendar::to_string(valid_until(day("2025-12-15"), {})), "2026-02-13");
}

// Audit point 7: only the days of a sheet that overlap neither the days already counted nor the
// time before issue extend the validity; days after the last valid day count too.
TEST(Validity, Art12_EachDayOfIncapacityOnOrAfterIssueCountsOnce) {
  struct Case {
    const char* name;
    std::vector<std::pair<const char*, const char*>> sheets;
    const char* valid_until;
  };
  // Issued 1 September 2025: valid until 31 October without sheets.
  const std::vector<Case> cases{
      {"one sheet", {{"2025-09-20", "2025-09-29"}}, "2025-11-10"},
      {"the same days twice",
       {{"2025-09-20", "2025-09-29"}, {"2025-09-20", "2025-09-29"}},
       "2025-11-10"},
      {"overlapping", {{"2025-09-20", "2025-09-29"}, {"2025-09-25", "2025-10-04"}}, "2025-11-15"},
      {"one within another",
       {{"2025-09-20", "2025-09-29"}, {"2025-09-22", "2025-09-23"}},
       "2025-11-10"},
      {"adjacent", {{"2025-09-20", "2025-09-29"}, {"2025-09-30", "2025-09-30"}}, "2025-11-11"},
      {"in any order", {{"2025-09-25", "2025-10-04"}, {"2025-09-20", "2025-09-29"}}, "2025-11-15"},
      {"begun before issue", {{"2025-08-25", "2025-09-02"}}, "2025-11-02"},
      {"all before issue", {{"2025-08-01", "2025-08-31"}}, "2025-10-31"},
      {"across the last valid day", {{"2025-10-29", "2025-11-03"}}, "2025-11-06"},
  };
  for (const auto& c : cases) {
    std::vector<SickLeave> sheets;
    for (const auto& [from, to] : c.sheets)
      sheets.push_back({day(from), day(to), ""});
    EXPECT_EQ(calendar::to_string(valid_until(day("2025-09-01"), sheets)), c.valid_until) << c.name;
  }
}

const MciTable kMci{{2023, 3450}, {2024, 3692}, {2025, 3932}, {2026, 4325}};

struct MoneyCase {
  Profile profile;
  std::int64_t actual;
  std::int64_t center;
  std::int64_t share;
};

class Money : public ::testing::TestWithParam<MoneyCase> {};

TEST_P(Money, TheCenterGetsTheActualCostUpToTheCap) {
  const auto& c = GetParam();
  auto result = reimbursement(c.profile, c.actual, 2025, "751110000", "751110000", kMci);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result.value().center_tiyn, c.center);
  EXPECT_EQ(result.value().applicant_share_tiyn, c.share);
  EXPECT_EQ(result.value().center_tiyn + result.value().applicant_share_tiyn, c.actual);
  EXPECT_EQ(result.value().holder_tiyn, 0) << "same region: no assistance";
}

// 2025: MCI 3,932 tenge. Technical cap 7 MCI = 27,524 tenge; social-humanitarian 3 MCI = 11,796.
INSTANTIATE_TEST_SUITE_P(
    Caps, Money,
    ::testing::Values(MoneyCase{Profile::technical, 2'000'000, 2'000'000, 0},        // below
                      MoneyCase{Profile::technical, 2'752'400, 2'752'400, 0},        // at
                      MoneyCase{Profile::technical, 2'752'401, 2'752'400, 1},        // a tiyn above
                      MoneyCase{Profile::technical, 3'000'000, 2'752'400, 247'600},  // above
                      MoneyCase{Profile::social_humanitarian, 1'000'000, 1'000'000, 0},
                      MoneyCase{Profile::social_humanitarian, 1'179'600, 1'179'600, 0},
                      MoneyCase{Profile::social_humanitarian, 1'500'050, 1'179'600, 320'450}));

TEST(MoneyRules, SixMciToAHolderExaminedInAnotherRegion) {
  // Almaty city (75) and Almaty region (19) are different regions.
  auto result = reimbursement(Profile::technical, 2'000'000, 2025, "191010000", "751110000", kMci);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result.value().holder_tiyn, 6 * 3932 * 100);
  // Another district of the same region is the same region.
  EXPECT_EQ(reimbursement(Profile::technical, 2'000'000, 2025, "751120000", "751110000", kMci)
                .value()
                .holder_tiyn,
            0);
}

TEST(MoneyRules, TheMciOfTheActsYear) {
  EXPECT_EQ(reimbursement(Profile::technical, 9'000'000, 2026, "75", "75", kMci).value().cap_tiyn,
            7 * 4325 * 100);
  EXPECT_EQ(reimbursement(Profile::social_humanitarian, 9'000'000, 2023, "75", "75", kMci)
                .value()
                .cap_tiyn,
            3 * 3450 * 100);
  auto missing = reimbursement(Profile::technical, 1, 2030, "75", "75", kMci);
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing.error().message, ::testing::HasSubstr("no MCI is configured for 2030"));
}

TEST(Money, TiynAreWrittenAsTengeWithTwoDecimals) {
  EXPECT_EQ(format_tenge(2'752'400), "27524.00");
  EXPECT_EQ(format_tenge(1'250'075), "12500.75");
  EXPECT_EQ(format_tenge(5), "0.05");
  EXPECT_EQ(format_tenge(0), "0.00");
  EXPECT_EQ(format_tenge(-150), "-1.50");
}

}  // namespace
}  // namespace nqs::domain
