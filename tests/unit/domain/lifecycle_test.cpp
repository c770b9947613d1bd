// The voucher lifecycle of Rules 380 as a pure state machine: every transition, every refusal
// path, every input that does not fit.
#include "domain/lifecycle.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "calendar_support.hpp"
#include "test_support.hpp"
#include "workflow/application_json.hpp"

namespace nqs::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using workflow::application_from_json;
using workflow::to_json;

const calendar::WorkingCalendar& almaty() {
  return test::almaty_calendar();
}

const MciTable kMci{{2025, 3932}, {2026, 4325}};
const DeadlineTable kDeadlines = statutory_deadlines();
const Context kContext{almaty(), kMci, kDeadlines};

Instant at(const char* text) {
  return *parse_instant(text);
}
calendar::Date day(const char* text) {
  return calendar::Date{*yaml::parse_date(text)};
}

Submitted submitted(const char* submitted_at = "2025-09-01T10:15:00+05:00",
                    const char* profile = "technical") {
  Submitted input;
  input.payload = boost::json::parse(fmt::format(R"({{
    "applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "submittedAt": "{}", "region": "750000000",
    "applicant": {{"iin": "850101300124", "permanentRegion": "751110000"}},
    "profession": {{"profile": "{}"}},
    "recognitionCenter": {{"bin": "120340501232", "name": "Test center"}}}})",
                                                 submitted_at, profile))
                      .as_object();
  // As the workflow types them from the document.
  input.application_id = "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10";
  input.iin = "850101300124";
  input.region = "750000000";
  input.permanent_region = "751110000";
  input.profile = std::string_view(profile) == "social_humanitarian" ? Profile::social_humanitarian
                                                                     : Profile::technical;
  input.center_bin = "120340501232";
  input.center_name = "Test center";
  input.submitted_at = parse_instant(submitted_at);
  input.facts.registered_unemployed = true;
  input.facts.quota_left = 10;
  return input;
}

Decision step(const Application* current, const Input& input, const char* now) {
  auto outcome = decide(current, input, at(now), kContext);
  if (auto* rejection = std::get_if<Rejection>(&outcome)) {
    ADD_FAILURE() << code(rejection->reason) << ": " << rejection->detail;
    return Decision{current ? *current : Application{}, {}, {}, {}, 0};
  }
  return std::get<Decision>(std::move(outcome));
}

Rejection refused(const Application* current, const Input& input, const char* now) {
  auto outcome = decide(current, input, at(now), kContext);
  auto* rejection = std::get_if<Rejection>(&outcome);
  if (rejection == nullptr) {
    ADD_FAILURE() << "accepted, to stage " << stage_name(std::get<Decision>(outcome).next.stage);
    return {};
  }
  return *rejection;
}

std::vector<std::string> types(const std::vector<CommandOut>& commands) {
  std::vector<std::string> out;
  for (const auto& command : commands)
    out.push_back(command.type);
  return out;
}
std::vector<std::string> documents(const std::vector<NotificationOut>& notifications) {
  std::vector<std::string> out;
  for (const auto& notification : notifications)
    out.push_back(notification.document);
  return out;
}

// The holder's signed sick-leave notice, submitted the morning after the sheet closed unless
// said otherwise.
SickLeaveSubmitted notice(const char* iin, SickLeave sheet, const char* submitted_at = nullptr) {
  const auto when = submitted_at != nullptr
                        ? at(submitted_at)
                        : almaty().end_of_local_day(sheet.to) + std::chrono::hours{10};
  return SickLeaveSubmitted{iin, std::move(sheet), when, false};
}
SickLeaveSubmitted notice(SickLeave sheet, const char* submitted_at = nullptr) {
  return notice("850101300124", std::move(sheet), submitted_at);
}

// The center's signed outcome of an exam held on `exam`, its protocol signed on `protocol`.
OutcomeRecorded outcome(const char* exam, const char* protocol, const char* region = "191010000",
                        bool passed = true) {
  return OutcomeRecorded{"120340501232",
                         region,
                         passed,
                         day(exam),
                         day(protocol),
                         std::nullopt,
                         boost::json::object{{"result", passed ? "passed" : "failed"}}};
}

// Drives an application to the stage just after the voucher was issued (Monday 8 Sep 2025).
Application with_voucher() {
  auto a = step(nullptr, submitted(), "2025-09-01T10:20:00+05:00").next;
  a = step(&a, ApplicationReviewed{a.application_id, true, {}, {}, {}}, "2025-09-02T11:00:00+05:00")
          .next;
  a = step(&a, ApplicationForwarded{a.application_id}, "2025-09-03T09:00:00+05:00").next;
  a = step(&a, CenterDecided{"120340501232", true, ""}, "2025-09-04T09:30:00+05:00").next;
  return step(&a,
              VoucherIssued{"6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", a.application_id,
                            day("2025-09-08")},
              "2025-09-08T12:00:00+05:00")
      .next;
}

TEST(Lifecycle, TheHappyPathFromApplicationToPayment) {
  // Art. 3 passed: registered, reviewed by the career center within 1 working day (art. 8).
  auto d = step(nullptr, submitted(), "2025-09-01T10:20:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::with_career_center);
  EXPECT_THAT(types(d.commands), ElementsAre("RegisterApplication"));
  EXPECT_EQ(d.commands[0].payload.at("reviewDueBy").as_string(), "2025-09-02T18:59:59.999Z");
  EXPECT_EQ(d.quota_change, -1);
  EXPECT_EQ(d.next.quota_year, 2025);

  d = step(&d.next, ApplicationReviewed{d.next.application_id, true, {}, {}, {}},
           "2025-09-02T11:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::with_lmc);
  EXPECT_TRUE(d.commands.empty());

  d = step(&d.next, ApplicationForwarded{d.next.application_id}, "2025-09-03T09:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::with_recognition_center);
  EXPECT_THAT(documents(d.notifications), ElementsAre("ApplicationToRecognitionCenter"));
  EXPECT_EQ(d.notifications[0].fields.at("centerBin").as_string(), "120340501232");

  d = step(&d.next, CenterDecided{"120340501232", true, ""}, "2025-09-04T09:30:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::confirmed);
  EXPECT_THAT(types(d.commands), ElementsAre("RecordCenterDecision"));
  EXPECT_EQ(d.commands[0].payload.at("actionDueBy").as_string(), "2025-09-05T18:59:59.999Z");

  // Art. 10: valid 60 calendar days after the day of issue; annulled at its end unless used.
  d = step(&d.next,
           VoucherIssued{"6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", d.next.application_id,
                         day("2025-09-08")},
           "2025-09-08T12:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::voucher_active);
  EXPECT_THAT(documents(d.notifications), ElementsAre("VoucherDelivered"));
  EXPECT_EQ(d.notifications[0].fields.at("validUntil").as_string(), "2025-11-07");
  ASSERT_EQ(d.timers.size(), 1U);
  // Annulled after the grace of 3 working days (audit point 6): Friday 7 November + 3.
  EXPECT_EQ(to_utc_string(*d.timers[0].due), "2025-11-12T18:59:59.999Z");

  d = step(&d.next, outcome("2025-10-15", "2025-10-16"), "2025-10-16T10:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::used);
  EXPECT_THAT(types(d.commands), ElementsAre("RecordRecognitionOutcome"));
  ASSERT_EQ(d.timers.size(), 1U);
  EXPECT_FALSE(d.timers[0].due.has_value()) << "a used voucher is not annulled";

  // Art. 14-15, 17: 2025 MCI 3,932; technical cap 27,524 tenge; the exam was in another region.
  d = step(&d.next, ActReceived{"120340501232", "ACT-42", 2025, 3'000'000, {}},
           "2025-10-17T10:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::act_received);
  ASSERT_THAT(types(d.commands), ElementsAre("RegisterServiceAct"));
  EXPECT_EQ(d.commands[0].payload.at("centerAmount").as_string(), "27524.00");
  EXPECT_EQ(d.commands[0].payload.at("holderAssistance").as_string(), "23592.00");
  EXPECT_EQ(d.commands[0].payload.at("applicantShare").as_string(), "2476.00");
  EXPECT_EQ(d.commands[0].payload.at("centerAmountTiyn").as_int64(), 2'752'400);
  EXPECT_EQ(d.commands[0].payload.at("holderAssistanceTiyn").as_int64(), 2'359'200);
  EXPECT_EQ(d.commands[0].payload.at("applicantShareTiyn").as_int64(), 247'600);
  // Received Friday 17 October: 5 working days after it end with Friday 24 October.
  EXPECT_EQ(d.commands[0].payload.at("payDueBy").as_string(), "2025-10-24T18:59:59.999Z");

  d = step(&d.next, PaymentMade{"ACT-42", true, 2'752'400, day("2025-10-20"), ""},
           "2025-10-20T10:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::act_received) << "the holder's assistance is still due";
  d = step(&d.next, PaymentMade{"ACT-42", false, 2'359'200, day("2025-10-21"), ""},
           "2025-10-21T10:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::paid);
}

TEST(Lifecycle, TheAisIsToldTheDueDatesOfTheDeadlineTableTheAdapterEnforces) {
  // One rule, one source: the SLA timers and the commands' due dates both come from
  // deadlines.steps, so an edited table moves both.
  auto table = statutory_deadlines();
  for (auto& rule : table.rules) {
    if (rule.step == "career_center_review") rule.working_days = 3;
    if (rule.step == "lmc_payment") {
      rule.working_days = 0;
      rule.calendar_days = 10;
    }
  }
  std::erase_if(table.rules, [](const DeadlineRule& rule) { return rule.step == "lmc_refusal"; });
  const Context edited{almaty(), kMci, table};
  const auto decided = [&](const Application* current, const Input& input, const char* now) {
    auto outcome = decide(current, input, at(now), edited);
    EXPECT_TRUE(std::holds_alternative<Decision>(outcome));
    return std::get<Decision>(std::move(outcome));
  };
  // Monday 1 September 2025: three working days after it end with Thursday 4 September.
  auto d = decided(nullptr, submitted(), "2025-09-01T10:20:00+05:00");
  EXPECT_EQ(d.commands.at(0).payload.at("reviewDueBy").as_string(), "2025-09-04T18:59:59.999Z");
  d = decided(&d.next, ApplicationReviewed{d.next.application_id, true, {}, {}, {}},
              "2025-09-02T11:00:00+05:00");
  d = decided(&d.next, ApplicationForwarded{d.next.application_id}, "2025-09-03T09:00:00+05:00");
  // No step covers a refusing center's stage any more: the AIS is told no date for it.
  const auto refused = decided(&d.next, CenterDecided{"120340501232", false, "no places"},
                               "2025-09-04T09:30:00+05:00");
  EXPECT_EQ(refused.next.stage, Stage::rejected_by_center);
  EXPECT_FALSE(refused.commands.at(0).payload.contains("actionDueBy"));

  auto used = with_voucher();
  used = step(&used, outcome("2025-10-15", "2025-10-16"), "2025-10-16T10:00:00+05:00").next;
  // Friday 17 October + 10 calendar days: Monday 27 October.
  d = decided(&used, ActReceived{"120340501232", "ACT-42", 2025, 3'000'000, {}},
              "2025-10-17T10:00:00+05:00");
  EXPECT_EQ(d.commands.at(0).payload.at("payDueBy").as_string(), "2025-10-27T18:59:59.999Z");
}

TEST(Lifecycle, AutomaticRefusalIsABusinessOutcomeNotAnError) {
  auto late = submitted("2025-10-16T00:00:01+05:00");
  auto d = step(nullptr, late, "2025-10-16T00:01:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::refused_automatic);
  EXPECT_THAT(types(d.commands), ElementsAre("RecordAutomaticRefusal"));
  ASSERT_THAT(documents(d.notifications), ElementsAre("ApplicationRefused"));
  EXPECT_EQ(d.notifications[0].fields.at("stage").as_string(), "automatic");
  EXPECT_EQ(d.notifications[0].fields.at("reasons").as_array().at(0).as_string(),
            "deadline_passed");
  EXPECT_EQ(d.quota_change, 0) << "nothing reserved";
  auto no_quota = submitted();
  no_quota.facts.quota_left = 0;
  no_quota.facts.voucher_received_this_year = true;
  d = step(nullptr, no_quota, "2025-09-01T10:20:00+05:00");
  EXPECT_EQ(d.commands[0].payload.at("reasons").as_array().size(), 2U);
}

TEST(Lifecycle, Art3_AnApplicantUnknownToTheAisIsRegisteredForTheCareerCentersReview) {
  // Audit point 2: the platform made the art. 3 checks; what the adapter does not know it passes
  // to the career center (art. 8) with the check marked unknown.
  auto unknown = submitted();
  unknown.facts.registered_unemployed.reset();
  auto d = step(nullptr, unknown, "2025-09-01T10:20:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::with_career_center);
  ASSERT_THAT(types(d.commands), ElementsAre("RegisterApplication"));
  EXPECT_EQ(d.commands[0].payload.at("checks").at("unemployment").as_string(), "unknown");
  EXPECT_EQ(d.quota_change, -1);
  d = step(nullptr, submitted(), "2025-09-01T10:20:00+05:00");
  EXPECT_EQ(d.commands[0].payload.at("checks").at("unemployment").as_string(), "registered");
}

TEST(Lifecycle, Art3c_AnotherVoucherOfThePersonRefusesAnApplicationOnItsWay) {
  auto a = step(nullptr, submitted(), "2025-09-01T10:20:00+05:00").next;
  auto d =
      step(&a, VoucherIssuedToPerson{"v-other", day("2025-09-10")}, "2025-09-10T10:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::refused_automatic);
  EXPECT_EQ(d.quota_change, +1) << "its unit is released";
  ASSERT_THAT(types(d.commands), ElementsAre("RecordAutomaticRefusal"));
  EXPECT_THAT(d.commands[0].payload.at("reasons").as_array(),
              ElementsAre("voucher_already_received_this_year"));
  ASSERT_THAT(documents(d.notifications), ElementsAre("ApplicationRefused"));
  EXPECT_EQ(d.notifications[0].fields.at("stage").as_string(), "automatic");
  // A voucher of its own is not on its way any more.
  auto held = with_voucher();
  EXPECT_EQ(refused(&held, VoucherIssuedToPerson{"v-other", day("2025-09-10")},
                    "2025-09-10T10:00:00+05:00")
                .reason,
            Reason::domain_invalid_transition);
}

TEST(Lifecycle, RefusalsByTheCareerCenterAndAfterTheRecognitionCenter) {
  auto a = step(nullptr, submitted(), "2025-09-01T10:20:00+05:00").next;
  auto d = step(&a, ApplicationReviewed{a.application_id, false, {"incomplete documents"}, {}, {}},
                "2025-09-02T11:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::refused_career_center);
  EXPECT_EQ(d.notifications.at(0).fields.at("stage").as_string(), "career_center");
  EXPECT_EQ(d.quota_change, +1) << "the reserved unit is released";

  a = step(&a, ApplicationReviewed{a.application_id, true, {}, {}, {}}, "2025-09-02T11:00:00+05:00")
          .next;
  a = step(&a, ApplicationForwarded{a.application_id}, "2025-09-03T09:00:00+05:00").next;
  d = step(&a, CenterDecided{"120340501232", false, "no exam slots"}, "2025-09-04T09:30:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::rejected_by_center);
  EXPECT_EQ(d.commands.at(0).payload.at("decision").as_string(), "rejected");
  d = step(&d.next, ApplicationRefused{a.application_id, {"center refused"}},
           "2025-09-05T09:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::refused_recognition_center);
  EXPECT_EQ(d.notifications.at(0).fields.at("stage").as_string(), "recognition_center");
  EXPECT_EQ(d.quota_change, +1);
}

TEST(Lifecycle, SickLeaveExtendsTheVoucherAndMovesItsExpiry) {
  auto a = with_voucher();  // valid until 2025-11-07
  auto d = step(&a, notice("850101300124", {day("2025-09-20"), day("2025-09-29"), "LN-1"}),
                "2025-09-30T11:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::extension_requested);
  ASSERT_THAT(types(d.commands), ElementsAre("RecordSickLeave"));
  EXPECT_EQ(d.commands[0].payload.at("validUntil").as_string(), "2025-11-17");
  EXPECT_EQ(d.commands[0].payload.at("extendDueBy").as_string(), "2025-10-01T18:59:59.999Z");
  // The AIS's date must equal the adapter's own computation.
  auto wrong = refused(&d.next, VoucherExtended{a.voucher_id, "LN-1", day("2025-11-18")},
                       "2025-10-01T10:00:00+05:00");
  EXPECT_EQ(code(wrong.reason), "domain.inconsistent");
  EXPECT_THAT(wrong.detail, HasSubstr("give 2025-11-17"));
  d = step(&d.next, VoucherExtended{a.voucher_id, "LN-1", day("2025-11-17")},
           "2025-10-01T10:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::voucher_active);
  EXPECT_THAT(documents(d.notifications), ElementsAre("VoucherValidityExtended"));
  // Valid until Monday 17 November; annulled, if unused, after Thursday 20 November.
  EXPECT_EQ(to_utc_string(*d.timers.at(0).due), "2025-11-20T18:59:59.999Z");
}

TEST(Lifecycle, AnUnusedVoucherIsAnnulledAtTheEndOfItsValidity) {
  auto a = with_voucher();
  auto d = step(&a, VoucherExpired{}, "2025-11-12T19:00:00Z");
  EXPECT_EQ(d.next.stage, Stage::annulled);
  EXPECT_THAT(types(d.commands), ElementsAre("AnnulVoucher"));
  EXPECT_THAT(documents(d.notifications), ElementsAre("VoucherAnnulled"));
  EXPECT_EQ(d.quota_change, +1);
  // Annulled, it takes nothing more.
  EXPECT_EQ(
      code(refused(&d.next, outcome("2025-11-07", "2025-11-08", "75"), "2025-11-08T10:00:00+05:00")
               .reason),
      "domain.invalid_transition");
}

TEST(Lifecycle, InputsThatDoNotFitAreRefusedForReplay) {
  // A voucher for an application never forwarded.
  auto a = step(nullptr, submitted(), "2025-09-01T10:20:00+05:00").next;
  auto misfit = refused(
      &a,
      VoucherIssued{"6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", a.application_id, day("2025-09-08")},
      "2025-09-08T12:00:00+05:00");
  EXPECT_EQ(code(misfit.reason), "domain.invalid_transition");
  EXPECT_THAT(misfit.detail,
              HasSubstr("VoucherIssued does not fit application "
                        "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10 at stage with_career_center"));
  // An act for an unknown voucher.
  EXPECT_EQ(code(refused(nullptr, ActReceived{"120340501232", "A", 2025, 1, {}},
                         "2025-10-17T10:00:00+05:00")
                     .reason),
            "domain.unknown_subject");
  // The same application twice.
  EXPECT_EQ(code(refused(&a, submitted(), "2025-09-01T10:25:00+05:00").reason),
            "domain.invalid_transition");
}

TEST(Lifecycle, OnlyTheChosenCenterAndTheHolderAct) {
  auto a = step(nullptr, submitted(), "2025-09-01T10:20:00+05:00").next;
  a = step(&a, ApplicationReviewed{a.application_id, true, {}, {}, {}}, "2025-09-02T11:00:00+05:00")
          .next;
  a = step(&a, ApplicationForwarded{a.application_id}, "2025-09-03T09:00:00+05:00").next;
  EXPECT_EQ(
      code(
          refused(&a, CenterDecided{"140450600708", true, ""}, "2025-09-04T09:30:00+05:00").reason),
      "signer.mismatch");
  auto v = with_voucher();
  EXPECT_EQ(code(refused(&v, notice("900515401230", {day("2025-09-20"), day("2025-09-21"), "LN"}),
                         "2025-09-30T11:00:00+05:00")
                     .reason),
            "signer.mismatch");
}

TEST(Lifecycle, PaymentsMustMatchTheComputedAmounts) {
  auto a = with_voucher();
  a = step(&a, outcome("2025-10-15", "2025-10-16", "751110000"), "2025-10-16T10:00:00+05:00").next;
  a = step(&a, ActReceived{"120340501232", "ACT-7", 2025, 1'000'000, {}},
           "2025-10-17T10:00:00+05:00")
          .next;
  EXPECT_EQ(a.reimbursement->holder_tiyn, 0) << "examined in the home region";
  auto wrong = refused(&a, PaymentMade{"ACT-7", true, 999'999, day("2025-10-20"), ""},
                       "2025-10-20T10:00:00+05:00");
  EXPECT_EQ(code(wrong.reason), "domain.inconsistent");
  EXPECT_THAT(wrong.detail, HasSubstr("1000000 tiyn is due"));
  EXPECT_EQ(step(&a, PaymentMade{"ACT-7", true, 1'000'000, day("2025-10-20"), ""},
                 "2025-10-20T10:00:00+05:00")
                .next.stage,
            Stage::paid);
}

// --- Art. 11-12 as the audit reads them (points 6, 7 and 11): no voucher lost to a race --------

// The voucher of with_voucher() is valid until Friday 7 November 2025; the grace of 3 working
// days ends with Wednesday 12 November.

TEST(Lifecycle, Art12_ASheetSubmittedOnTheLastValidDayIsExtendedTheNextWorkingDayNeverAnnulled) {
  auto a = with_voucher();
  auto d =
      step(&a, notice({day("2025-11-05"), day("2025-11-07"), "LN-7"}, "2025-11-07T17:00:00+05:00"),
           "2025-11-07T17:00:05+05:00");
  EXPECT_EQ(d.next.stage, Stage::extension_requested);
  ASSERT_THAT(types(d.commands), ElementsAre("RecordSickLeave"));
  EXPECT_EQ(d.commands[0].payload.at("validUntil").as_string(), "2025-11-10");
  // The adapter's own annulment moves at once: valid until Monday 10, grace to Thursday 13.
  ASSERT_EQ(d.timers.size(), 1U);
  EXPECT_EQ(to_utc_string(*d.timers[0].due), "2025-11-13T18:59:59.999Z");
  // A timer set before (at the old end of the grace) that fires anyway is set again.
  auto early = step(&d.next, VoucherExpired{}, "2025-11-12T19:00:00Z");
  EXPECT_EQ(early.next.stage, Stage::extension_requested);
  EXPECT_TRUE(early.commands.empty());
  ASSERT_EQ(early.timers.size(), 1U);
  EXPECT_EQ(to_utc_string(*early.timers[0].due), "2025-11-13T18:59:59.999Z");
  // Art. 13: the LMC extends the next working day, after the last valid day.
  d = step(&d.next, VoucherExtended{a.voucher_id, "LN-7", day("2025-11-10")},
           "2025-11-10T10:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::voucher_active);
  EXPECT_EQ(d.next.valid_until, day("2025-11-10"));
  EXPECT_THAT(documents(d.notifications), ElementsAre("VoucherValidityExtended"));
}

TEST(Lifecycle, Art12_ASheetThatBeganWithinTheValidityIsAcceptedInTheGraceAndOnlyThen) {
  auto a = with_voucher();
  // Sick from Thursday 6 to Sunday 9 November, uploaded Monday 10: within the grace.
  auto d =
      step(&a, notice({day("2025-11-06"), day("2025-11-09"), "LN-8"}), "2025-11-10T10:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::extension_requested);
  EXPECT_EQ(d.commands.at(0).payload.at("validUntil").as_string(), "2025-11-11");
  // One that began after the last valid day extends nothing (art. 12 extends a valid voucher).
  auto after = refused(&a, notice({day("2025-11-08"), day("2025-11-09"), "LN-9"}),
                       "2025-11-10T10:00:00+05:00");
  EXPECT_EQ(code(after.reason), "domain.inconsistent");
  EXPECT_THAT(after.detail, HasSubstr("after the last valid day 2025-11-07"));
  // A sheet is submitted once closed: one that ends after it was submitted is not a sheet.
  auto open = refused(
      &a, notice({day("2025-11-03"), day("2025-11-09"), "LN-10"}, "2025-11-05T10:00:00+05:00"),
      "2025-11-05T10:00:05+05:00");
  EXPECT_EQ(code(open.reason), "domain.inconsistent");
  EXPECT_THAT(open.detail, HasSubstr("after it was submitted"));
  // After the grace the voucher is annulled and takes no sheet.
  auto annulled = step(&a, VoucherExpired{}, "2025-11-12T19:00:00Z").next;
  EXPECT_EQ(code(refused(&annulled, notice({day("2025-11-06"), day("2025-11-09"), "LN-8"}),
                         "2025-11-13T10:00:00+05:00")
                     .reason),
            "domain.invalid_transition");
}

TEST(Lifecycle, Art12_TheSameSheetFromEitherChannelIsADuplicateAndTheAisOneIsNotSentBack) {
  auto a = with_voucher();
  // State integration: the AIS has the sheet; no RecordSickLeave goes back to it.
  SickLeaveSubmitted from_ais{"850101300124",
                              {day("2025-09-20"), day("2025-09-29"), "LN-1"},
                              at("2025-09-30T09:00:00+05:00"),
                              true};
  auto d = step(&a, from_ais, "2025-09-30T09:00:01+05:00");
  EXPECT_EQ(d.next.stage, Stage::extension_requested);
  EXPECT_TRUE(d.commands.empty());
  ASSERT_EQ(d.timers.size(), 1U);
  EXPECT_EQ(to_utc_string(*d.timers[0].due), "2025-11-20T18:59:59.999Z");
  // The holder uploads the same sheet too: processed, nothing new.
  auto again = step(&d.next, notice({day("2025-09-20"), day("2025-09-29"), "LN-1"}),
                    "2025-09-30T11:00:00+05:00");
  EXPECT_EQ(to_json(again.next), to_json(d.next));
  EXPECT_TRUE(again.commands.empty());
  EXPECT_TRUE(again.notifications.empty());
  EXPECT_TRUE(again.timers.empty());
}

TEST(Lifecycle, Art13_SeveralSheetsWaitTogetherAndAreExtendedOneByOne) {
  auto a = with_voucher();
  auto d =
      step(&a, notice({day("2025-09-20"), day("2025-09-29"), "LN-1"}), "2025-09-30T11:00:00+05:00");
  // A second sheet before the LMC acted on the first: accepted too, overlapping days count once.
  d = step(&d.next, notice({day("2025-09-28"), day("2025-10-02"), "LN-2"}),
           "2025-10-03T11:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::extension_requested);
  EXPECT_EQ(d.next.pending_sick_leaves.size(), 2U);
  EXPECT_EQ(d.commands.at(0).payload.at("validUntil").as_string(), "2025-11-20")
      << "60 days, the 10 of LN-1 and the 3 of LN-2 it does not share";
  EXPECT_EQ(counted_validity(d.next), day("2025-11-20"));
  // An extension for a sheet nobody submitted.
  EXPECT_EQ(code(refused(&d.next, VoucherExtended{a.voucher_id, "LN-0", day("2025-11-17")},
                         "2025-10-06T10:00:00+05:00")
                     .reason),
            "domain.invalid_transition");
  d = step(&d.next, VoucherExtended{a.voucher_id, "LN-1", day("2025-11-17")},
           "2025-10-06T10:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::extension_requested) << "LN-2 still waits";
  d = step(&d.next, VoucherExtended{a.voucher_id, "LN-2", day("2025-11-20")},
           "2025-10-06T11:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::voucher_active);
  EXPECT_EQ(d.next.valid_until, day("2025-11-20"));
}

TEST(Lifecycle, Art11_AnExtensionThatNeverComesHoldsTheAnnulmentOnlyToTheExtendedValidity) {
  auto a = with_voucher();
  auto d =
      step(&a, notice({day("2025-09-20"), day("2025-09-29"), "LN-1"}), "2025-09-30T11:00:00+05:00");
  // The LMC never extends: annulled after the computed validity (17 November) and the grace.
  auto waiting = step(&d.next, VoucherExpired{}, "2025-11-19T19:00:00Z");
  EXPECT_EQ(waiting.next.stage, Stage::extension_requested);
  d = step(&d.next, VoucherExpired{}, "2025-11-20T19:00:00Z");
  EXPECT_EQ(d.next.stage, Stage::annulled);
  EXPECT_EQ(d.commands.at(0).payload.at("validUntil").as_string(), "2025-11-17");
  // An extension after the annulment is not recorded on an annulled voucher.
  EXPECT_EQ(code(refused(&d.next, VoucherExtended{a.voucher_id, "LN-1", day("2025-11-17")},
                         "2025-11-21T10:00:00+05:00")
                     .reason),
            "domain.invalid_transition");
}

TEST(Lifecycle, Art11_AnExamOnTheLastValidDayWithItsProtocolTwoWorkingDaysLaterUsesTheVoucher) {
  auto a = with_voucher();
  // Exam Friday 7 November, protocol Tuesday 11 (Rules 374 art. 17), outcome the same day:
  // after the last valid day, within the grace.
  auto d = step(&a, outcome("2025-11-07", "2025-11-11"), "2025-11-11T15:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::used);
  ASSERT_THAT(types(d.commands), ElementsAre("RecordRecognitionOutcome"));
  EXPECT_FALSE(d.commands[0].payload.at("protocolLate").as_bool());
  EXPECT_EQ(d.commands[0].payload.at("protocolDueBy").as_string(), "2025-11-11");
  ASSERT_EQ(d.timers.size(), 1U);
  EXPECT_FALSE(d.timers[0].due.has_value()) << "used: never annulled";
  // An exam after the last valid day did not use this voucher.
  auto late_exam = refused(&a, outcome("2025-11-08", "2025-11-10"), "2025-11-10T15:00:00+05:00");
  EXPECT_EQ(code(late_exam.reason), "domain.inconsistent");
  EXPECT_THAT(late_exam.detail, HasSubstr("outside the validity"));
  // Nor one before it was issued.
  EXPECT_EQ(
      code(refused(&a, outcome("2025-09-05", "2025-09-08"), "2025-09-09T15:00:00+05:00").reason),
      "domain.inconsistent");
}

TEST(Lifecycle, Art11_AnExamWithinASheetNotYetExtendedUsesTheVoucher) {
  auto a = with_voucher();
  auto d =
      step(&a, notice({day("2025-11-01"), day("2025-11-04"), "LN-3"}), "2025-11-05T11:00:00+05:00");
  // Valid to 11 November counting the sheet: an exam on 10 November is within it, and the
  // extension the LMC sends afterwards is still recorded.
  d = step(&d.next, outcome("2025-11-10", "2025-11-11"), "2025-11-11T12:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::used);
  d = step(&d.next, VoucherExtended{a.voucher_id, "LN-3", day("2025-11-11")},
           "2025-11-11T13:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::used);
  EXPECT_EQ(d.next.valid_until, day("2025-11-11"));
  EXPECT_TRUE(d.timers.empty()) << "nothing to annul";
}

TEST(Lifecycle, Art11_TheGraceAndTheReleaseOfTheUnitAreConfigurable) {
  auto a = with_voucher();
  Policy policy;
  policy.annulment_grace = 0;
  policy.release_quota_on_annulment = false;
  const Context strict{almaty(), kMci, kDeadlines, policy};
  auto issued = decide(&a, VoucherExpired{}, at("2025-11-07T19:00:00Z"), strict);
  const auto& d = std::get<Decision>(issued);
  EXPECT_EQ(d.next.stage, Stage::annulled) << "no grace: annulled at the end of validity";
  EXPECT_EQ(d.quota_change, 0) << "the unit is not returned";
  // The default grace: at the end of validity the timer is only set again.
  auto graced = step(&a, VoucherExpired{}, "2025-11-07T19:00:00Z");
  EXPECT_EQ(graced.next.stage, Stage::voucher_active);
  EXPECT_EQ(to_utc_string(*graced.timers.at(0).due), "2025-11-12T18:59:59.999Z");
}

TEST(Lifecycle, Rules374Art17_AProtocolLaterThanTwoWorkingDaysIsProcessedAndRecordedAsLate) {
  auto a = with_voucher();
  // Exam Thursday 16 October; the protocol was due Monday 20, signed Tuesday 21.
  auto d = step(&a, outcome("2025-10-16", "2025-10-21"), "2025-10-21T15:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::used);
  EXPECT_TRUE(d.next.protocol_late);
  EXPECT_TRUE(d.commands.at(0).payload.at("protocolLate").as_bool());
  EXPECT_EQ(d.commands.at(0).payload.at("protocolDueBy").as_string(), "2025-10-20");
}

TEST(Lifecycle, Rules374Art20_AnAppealChangesTheOutcomeOnceAfterTheFirst) {
  auto a = with_voucher();
  auto appeal = outcome("2025-10-15", "2025-10-16", "191010000", true);
  appeal.appeal_decided_on = day("2025-10-27");
  // No appeal before a first outcome.
  EXPECT_EQ(code(refused(&a, appeal, "2025-10-27T10:00:00+05:00").reason),
            "domain.invalid_transition");
  auto d = step(&a, outcome("2025-10-15", "2025-10-16", "191010000", false),
                "2025-10-16T10:00:00+05:00");
  EXPECT_FALSE(d.next.passed);
  // The act of a procedure rendered, failed or not (art. 16), may come before the appeal.
  d = step(&d.next, ActReceived{"120340501232", "ACT-9", 2025, 1'000'000, {}},
           "2025-10-17T10:00:00+05:00");
  // An appeal decided before the protocol it appeals is not one.
  auto early = appeal;
  early.appeal_decided_on = day("2025-10-15");
  EXPECT_EQ(code(refused(&d.next, early, "2025-10-20T10:00:00+05:00").reason),
            "domain.inconsistent");
  // From another center: not this voucher's.
  auto stranger = appeal;
  stranger.center_bin = "140450600708";
  EXPECT_EQ(code(refused(&d.next, stranger, "2025-10-27T10:00:00+05:00").reason),
            "signer.mismatch");
  auto changed = step(&d.next, appeal, "2025-10-27T10:00:00+05:00");
  EXPECT_EQ(changed.next.stage, Stage::act_received) << "the act registered stays";
  EXPECT_TRUE(changed.next.passed);
  EXPECT_TRUE(changed.next.appealed);
  EXPECT_THAT(types(changed.commands), ElementsAre("RecordRecognitionOutcome"));
  // Once.
  EXPECT_EQ(code(refused(&changed.next, appeal, "2025-10-28T10:00:00+05:00").reason),
            "domain.inconsistent");
}

void expect_round_trip(const Application& application);

TEST(Lifecycle, Art14_TheCapFollowsTheProfileTheCareerCenterConfirmedNotTheDeclaredOne) {
  struct Case {
    const char* declared;
    const char* confirmed;  // "" : the review gave none
    const char* center_amount;
    const char* source;
  };
  // 30 000 tenge in 2025 (MCI 3 932): capped at 7 MCI = 27 524 or 3 MCI = 11 796.
  const Case cases[] = {
      {"technical", "social_humanitarian", "11796.00", "career_center"},
      {"social_humanitarian", "technical", "27524.00", "career_center"},
      {"technical", "", "27524.00", "declared"},
      {"social_humanitarian", "", "11796.00", "declared"},
  };
  for (const auto& c : cases) {
    auto a = step(nullptr, submitted("2025-09-01T10:15:00+05:00", c.declared),
                  "2025-09-01T10:20:00+05:00")
                 .next;
    const ApplicationReviewed review{a.application_id, true, {}, {}, c.confirmed};
    a = step(&a, review, "2025-09-02T11:00:00+05:00").next;
    a = step(&a, ApplicationForwarded{a.application_id}, "2025-09-03T09:00:00+05:00").next;
    a = step(&a, CenterDecided{"120340501232", true, ""}, "2025-09-04T09:30:00+05:00").next;
    a = step(&a,
             VoucherIssued{"6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", a.application_id,
                           day("2025-09-08")},
             "2025-09-08T12:00:00+05:00")
            .next;
    a = step(&a, outcome("2025-10-15", "2025-10-16"), "2025-10-16T10:00:00+05:00").next;
    auto d = step(&a, ActReceived{"120340501232", "ACT-1", 2025, 3'000'000, {}},
                  "2025-10-17T10:00:00+05:00");
    const auto& payload = d.commands.at(0).payload;
    EXPECT_EQ(payload.at("centerAmount").as_string(), c.center_amount) << c.declared << c.confirmed;
    EXPECT_EQ(payload.at("profileSource").as_string(), c.source) << c.declared << c.confirmed;
    expect_round_trip(d.next);
  }
}

void expect_round_trip(const Application& application) {
  const auto json = to_json(application);
  auto back = application_from_json(json);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(to_json(back.value()), json) << "stage " << stage_name(application.stage);
}

TEST(ApplicationJson, EveryStageRoundTripsThroughTheStoredForm) {
  auto a = with_voucher();
  expect_round_trip(a);
  auto d = step(&a, notice("850101300124", {day("2025-09-20"), day("2025-09-29"), "LN-1"}),
                "2025-09-30T11:00:00+05:00");
  expect_round_trip(d.next);  // with a pending sick leave
  d = step(&d.next, VoucherExtended{a.voucher_id, "LN-1", day("2025-11-17")},
           "2025-10-01T10:00:00+05:00");
  expect_round_trip(d.next);  // with a granted one
  d = step(&d.next, outcome("2025-10-15", "2025-10-16"), "2025-10-16T10:00:00+05:00");
  d = step(&d.next, ActReceived{"120340501232", "ACT-1", 2025, 3'000'000, {}},
           "2025-10-17T10:00:00+05:00");
  expect_round_trip(d.next);  // with money
  for (auto stage : {Stage::refused_automatic, Stage::annulled, Stage::paid}) {
    auto copy = d.next;
    copy.stage = stage;
    expect_round_trip(copy);
    EXPECT_EQ(stage_named(stage_name(stage)), stage);
  }
}

TEST(ApplicationJson, ARowStoredBeforeSeveralSheetsCouldWaitIsReadWithItsSheet) {
  auto json = to_json(with_voucher());
  json["stage"] = "extension_requested";
  json.erase("pendingSickLeaves");
  json.erase("examDate");
  json.erase("protocolSignedOn");
  json.erase("passed");
  json.erase("protocolLate");
  json.erase("appealed");
  json["pendingSickLeave"] = boost::json::object{{"from", "2025-09-20"}, {"to", "2025-09-29"}};
  json["pendingSheetNumber"] = "LN-1";
  json["sickLeaves"] =
      boost::json::array{boost::json::object{{"from", "2025-09-10"}, {"to", "2025-09-11"}}};
  auto read = application_from_json(json);
  ASSERT_TRUE(read.has_value()) << read.error().message;
  ASSERT_EQ(read.value().pending_sick_leaves.size(), 1U);
  EXPECT_EQ(read.value().pending_sick_leaves[0].sheet_number, "LN-1");
  EXPECT_EQ(read.value().sick_leaves.at(0).sheet_number, "");
  EXPECT_FALSE(read.value().exam_date.has_value());
  // And the extension it waited for is taken as before.
  auto d = step(&read.value(), VoucherExtended{read.value().voucher_id, "LN-1", day("2025-11-19")},
                "2025-10-01T10:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::voucher_active);
}

TEST(ApplicationJson, ACorruptRowIsAnErrorNotADefault) {
  auto json = to_json(with_voucher());
  json["stage"] = "lost";
  auto bad = application_from_json(json);
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message, HasSubstr("stage is unknown"));
  json = to_json(with_voucher());
  json["issuedOn"] = "2025-02-30";
  EXPECT_THAT(application_from_json(json).error().message, HasSubstr("issuedOn is not a date"));
  json = to_json(with_voucher());
  json.erase("quotaYear");
  EXPECT_THAT(application_from_json(json).error().message,
              HasSubstr("quotaYear is not an integer"));
}

}  // namespace
}  // namespace nqs::domain
