// The statutory deadlines of domain.md computed with the working-day calendar: across weekends,
// holiday runs and the 2024-03-01 offset change; the warning on the due day.
#include "domain/deadlines.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calendar_support.hpp"
#include "test_support.hpp"

namespace nqs::domain {
namespace {

const calendar::WorkingCalendar& almaty() {
  return test::almaty_calendar();
}

Instant at(const char* text) {
  return *parse_instant(text);
}

const DeadlineRule& rule(const std::string& step) {
  // The built-in table, and the step README shows how to add (Rules 374 art. 5).
  static const auto table = [] {
    auto out = statutory_deadlines();
    out.rules.push_back({"center_document_check",
                         "recognition_center",
                         {Stage::with_recognition_center},
                         3,
                         0,
                         false,
                         "",
                         "Rules 374 art. 5"});
    return out;
  }();
  for (const auto& candidate : table.rules) {
    if (candidate.step == step) return candidate;
  }
  throw std::runtime_error("no step " + step);
}

std::string due(const std::string& step, const char* opened,
                std::optional<calendar::Date> from = std::nullopt,
                std::optional<calendar::Date> valid_until = std::nullopt) {
  auto result = due_of(rule(step), almaty(), at(opened), from, valid_until);
  return result ? almaty().local_string(result.value()) : result.error().message;
}

struct Case {
  const char* step;
  const char* opened;
  const char* due;
  const char* why;
};

TEST(Deadlines, EachStepIsDueAtTheEndOfItsLastDay) {
  const Case cases[] = {
      // Art. 8: received on a Friday: the next working day is Monday.
      {"career_center_review", "2025-09-05T16:00:00+05:00", "2025-09-08T23:59:59.999+05:00",
       "Friday -> Monday"},
      // Received on a Saturday: the day of receipt is not counted, the first working day after.
      {"career_center_review", "2025-09-06T10:00:00+05:00", "2025-09-08T23:59:59.999+05:00",
       "Saturday -> Monday"},
      // Nauryz 2025 (21-23 March, the 22nd-23rd on a weekend: moved to 24-25 March).
      {"lmc_forwarding", "2025-03-20T12:00:00+05:00", "2025-03-26T23:59:59.999+05:00",
       "across the Nauryz run"},
      // 3 working days from Friday 2 May 2025 (7 and 9 May holidays, 8 May a Thursday).
      {"center_document_check", "2025-05-02T09:00:00+05:00", "2025-05-08T23:59:59.999+05:00",
       "May holidays"},
      // Art. 17: 5 working days after the act (Monday 29 December 2025): 30, 31 December, then
      // 1-2 January off, a weekend, 5 and 6 January, 7 January (Orthodox Christmas) off, 8th.
      {"lmc_payment", "2025-12-29T10:00:00+05:00", "2026-01-08T23:59:59.999+05:00",
       "New Year and Christmas"},
      // Art. 9: the LMC's refusal after the center's rejection, from a Thursday before a
      // Friday holiday (Republic Day, Friday 25 October 2024): Monday.
      {"lmc_refusal", "2024-10-24T17:00:00+05:00", "2024-10-28T23:59:59.999+05:00",
       "Republic Day on a Friday"},
      // Art. 13: the extension, the sheet received on Friday 3 January 2025, a day off by
      // decree; Sunday 5 January was worked in exchange: the first working day after is Sunday.
      {"lmc_extension", "2025-01-03T10:00:00+05:00", "2025-01-05T23:59:59.999+05:00",
       "a transferred day off and a worked Sunday"},
      // The offset change: opened on 2024-02-29 (UTC+6), due on 2024-03-01 (UTC+5).
      {"lmc_voucher_issue", "2024-02-29T10:00:00+06:00", "2024-03-01T23:59:59.999+05:00",
       "2024-03-01 offset change"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(due(c.step, c.opened), c.due) << c.step << ": " << c.why;
  }
}

// Every due date a command tells the AIS comes from a step of the table; a table that leaves
// one out is said, command by command.
TEST(Deadlines, ATableWithoutTheStepOfACommandsStageIsSaid) {
  EXPECT_THAT(due_dates_not_sent(statutory_deadlines()), ::testing::IsEmpty());
  auto table = statutory_deadlines();
  std::erase_if(table.rules, [](const DeadlineRule& rule) {
    return rule.step == "lmc_extension" || rule.step == "lmc_refusal";
  });
  EXPECT_THAT(due_dates_not_sent(table),
              ::testing::ElementsAre(
                  ::testing::StartsWith("RecordCenterDecision carries no actionDueBy when the "
                                        "application enters rejected_by_center"),
                  ::testing::StartsWith("RecordSickLeave carries no extendDueBy")));
}

TEST(Deadlines, Rules374Art5_TheCentersOwnDocumentCheckIsNoDefaultStep) {
  // Rules 374 art. 5 counts from registration at the center, which the adapter does not see
  // (audit point 10).
  for (const auto& candidate : statutory_deadlines().rules) {
    EXPECT_NE(candidate.step, "center_document_check");
    EXPECT_NE(candidate.stages, std::vector<Stage>{Stage::with_recognition_center});
  }
}

TEST(Deadlines, TheServiceActCountsFromTheProtocolAndTheVoucherFromItsValidity) {
  // Art. 16: 3 working days after the protocol was signed, not after the outcome arrived.
  EXPECT_EQ(
      due("service_act", "2025-10-20T10:00:00+05:00", calendar::Date{date::year{2025} / 10 / 16}),
      "2025-10-21T23:59:59.999+05:00");
  EXPECT_EQ(due("voucher_validity", "2025-09-03T10:00:00+05:00", std::nullopt,
                calendar::Date{date::year{2025} / 11 / 2}),
            "2025-11-02T23:59:59.999+05:00");
  EXPECT_THAT(due("voucher_validity", "2025-09-03T10:00:00+05:00"),
              ::testing::HasSubstr("no validity"));
}

TEST(Deadlines, TheWarningComesAtTheConfiguredTimeOfTheDueDayBeforeTheBreach) {
  const auto table = statutory_deadlines();
  const auto due_at = at("2025-09-08T23:59:59.999+05:00");
  EXPECT_EQ(almaty().local_string(warning_of(table, almaty(), due_at)),
            "2025-09-08T09:00:00.000+05:00");
  // Before the offset change the local 09:00 was UTC 03:00.
  EXPECT_EQ(to_utc_string(warning_of(table, almaty(), at("2024-02-28T23:59:59.999+06:00"))),
            "2024-02-28T03:00:00.000Z");
  // A deadline due before its warning time (a due at 08:00 in a custom table) warns at the due.
  EXPECT_EQ(warning_of(table, almaty(), at("2025-09-08T08:00:00+05:00")),
            at("2025-09-08T08:00:00+05:00"));
}

}  // namespace
}  // namespace nqs::domain
