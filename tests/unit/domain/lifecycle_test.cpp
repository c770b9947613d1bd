// The voucher lifecycle of Rules 380 as a pure state machine: every transition, every refusal
// path, every input that does not fit.
#include "domain/lifecycle.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "calendar_support.hpp"
#include "domain/application_json.hpp"
#include "test_support.hpp"

namespace nqs::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const calendar::WorkingCalendar& almaty() {
  return test::almaty_calendar();
}

const MciTable kMci{{2025, 3932}, {2026, 4325}};
const Context kContext{almaty(), kMci};

Instant at(const char* text) {
  return *parse_instant(text);
}
calendar::Date day(const char* text) {
  return calendar::Date{*configuration::parse_date(text)};
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
  input.facts.registered_unemployed = true;
  input.facts.quota_left = 10;
  return input;
}

Decision step(const Application* current, const Input& input, const char* now) {
  auto outcome = decide(current, input, at(now), kContext);
  if (auto* rejection = std::get_if<intake::Rejection>(&outcome)) {
    ADD_FAILURE() << intake::code(rejection->reason) << ": " << rejection->detail;
    return Decision{current ? *current : Application{}, {}, {}, {}, 0};
  }
  return std::get<Decision>(std::move(outcome));
}

intake::Rejection refused(const Application* current, const Input& input, const char* now) {
  auto outcome = decide(current, input, at(now), kContext);
  auto* rejection = std::get_if<intake::Rejection>(&outcome);
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

// Drives an application to the stage just after the voucher was issued (Monday 8 Sep 2025).
Application with_voucher() {
  auto a = step(nullptr, submitted(), "2025-09-01T10:20:00+05:00").next;
  a = step(&a, ApplicationReviewed{a.application_id, true, {}}, "2025-09-02T11:00:00+05:00").next;
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

  d = step(&d.next, ApplicationReviewed{d.next.application_id, true, {}},
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
  EXPECT_EQ(to_utc_string(*d.timers[0].due), "2025-11-07T18:59:59.999Z");

  OutcomeRecorded outcome{"120340501232", "191010000", true,
                          boost::json::object{{"result", "passed"}}};
  d = step(&d.next, outcome, "2025-10-16T10:00:00+05:00");
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

  d = step(&d.next, PaymentMade{"ACT-42", true, 2'752'400, day("2025-10-20")},
           "2025-10-20T10:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::act_received) << "the holder's assistance is still due";
  d = step(&d.next, PaymentMade{"ACT-42", false, 2'359'200, day("2025-10-21")},
           "2025-10-21T10:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::paid);
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
            intake::Reason::domain_invalid_transition);
}

TEST(Lifecycle, RefusalsByTheCareerCenterAndAfterTheRecognitionCenter) {
  auto a = step(nullptr, submitted(), "2025-09-01T10:20:00+05:00").next;
  auto d = step(&a, ApplicationReviewed{a.application_id, false, {"incomplete documents"}},
                "2025-09-02T11:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::refused_career_center);
  EXPECT_EQ(d.notifications.at(0).fields.at("stage").as_string(), "career_center");
  EXPECT_EQ(d.quota_change, +1) << "the reserved unit is released";

  a = step(&a, ApplicationReviewed{a.application_id, true, {}}, "2025-09-02T11:00:00+05:00").next;
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
  auto d =
      step(&a, SickLeaveSubmitted{"850101300124", "LN-1", {day("2025-09-20"), day("2025-09-29")}},
           "2025-09-30T11:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::extension_requested);
  ASSERT_THAT(types(d.commands), ElementsAre("RecordSickLeave"));
  EXPECT_EQ(d.commands[0].payload.at("validUntil").as_string(), "2025-11-17");
  EXPECT_EQ(d.commands[0].payload.at("extendDueBy").as_string(), "2025-10-01T18:59:59.999Z");
  // The AIS's date must equal the adapter's own computation.
  auto wrong = refused(&d.next, VoucherExtended{a.voucher_id, "LN-1", day("2025-11-18")},
                       "2025-10-01T10:00:00+05:00");
  EXPECT_EQ(intake::code(wrong.reason), "domain.inconsistent");
  EXPECT_THAT(wrong.detail, HasSubstr("give 2025-11-17"));
  d = step(&d.next, VoucherExtended{a.voucher_id, "LN-1", day("2025-11-17")},
           "2025-10-01T10:00:00+05:00");
  EXPECT_EQ(d.next.stage, Stage::voucher_active);
  EXPECT_THAT(documents(d.notifications), ElementsAre("VoucherValidityExtended"));
  EXPECT_EQ(to_utc_string(*d.timers.at(0).due), "2025-11-17T18:59:59.999Z");
}

TEST(Lifecycle, AnUnusedVoucherIsAnnulledAtTheEndOfItsValidity) {
  auto a = with_voucher();
  auto d = step(&a, VoucherExpired{}, "2025-11-07T19:00:00Z");
  EXPECT_EQ(d.next.stage, Stage::annulled);
  EXPECT_THAT(types(d.commands), ElementsAre("AnnulVoucher"));
  EXPECT_THAT(documents(d.notifications), ElementsAre("VoucherAnnulled"));
  EXPECT_EQ(d.quota_change, +1);
  // Annulled, it takes nothing more.
  EXPECT_EQ(intake::code(refused(&d.next, OutcomeRecorded{"120340501232", "75", true, {}},
                                 "2025-11-08T10:00:00+05:00")
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
  EXPECT_EQ(intake::code(misfit.reason), "domain.invalid_transition");
  EXPECT_THAT(misfit.detail,
              HasSubstr("VoucherIssued does not fit application "
                        "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10 at stage with_career_center"));
  // An act for an unknown voucher.
  EXPECT_EQ(intake::code(refused(nullptr, ActReceived{"120340501232", "A", 2025, 1, {}},
                                 "2025-10-17T10:00:00+05:00")
                             .reason),
            "domain.unknown_subject");
  // The same application twice.
  EXPECT_EQ(intake::code(refused(&a, submitted(), "2025-09-01T10:25:00+05:00").reason),
            "domain.invalid_transition");
}

TEST(Lifecycle, OnlyTheChosenCenterAndTheHolderAct) {
  auto a = step(nullptr, submitted(), "2025-09-01T10:20:00+05:00").next;
  a = step(&a, ApplicationReviewed{a.application_id, true, {}}, "2025-09-02T11:00:00+05:00").next;
  a = step(&a, ApplicationForwarded{a.application_id}, "2025-09-03T09:00:00+05:00").next;
  EXPECT_EQ(
      intake::code(
          refused(&a, CenterDecided{"140450600708", true, ""}, "2025-09-04T09:30:00+05:00").reason),
      "signer.mismatch");
  auto v = with_voucher();
  EXPECT_EQ(intake::code(refused(&v,
                                 SickLeaveSubmitted{
                                     "900515401230", "LN", {day("2025-09-20"), day("2025-09-21")}},
                                 "2025-09-30T11:00:00+05:00")
                             .reason),
            "signer.mismatch");
}

TEST(Lifecycle, PaymentsMustMatchTheComputedAmounts) {
  auto a = with_voucher();
  a = step(&a, OutcomeRecorded{"120340501232", "751110000", true, {}}, "2025-10-16T10:00:00+05:00")
          .next;
  a = step(&a, ActReceived{"120340501232", "ACT-7", 2025, 1'000'000, {}},
           "2025-10-17T10:00:00+05:00")
          .next;
  EXPECT_EQ(a.reimbursement->holder_tiyn, 0) << "examined in the home region";
  auto wrong = refused(&a, PaymentMade{"ACT-7", true, 999'999, day("2025-10-20")},
                       "2025-10-20T10:00:00+05:00");
  EXPECT_EQ(intake::code(wrong.reason), "domain.inconsistent");
  EXPECT_THAT(wrong.detail, HasSubstr("1000000 tiyn is due"));
  EXPECT_EQ(step(&a, PaymentMade{"ACT-7", true, 1'000'000, day("2025-10-20")},
                 "2025-10-20T10:00:00+05:00")
                .next.stage,
            Stage::paid);
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
  auto d =
      step(&a, SickLeaveSubmitted{"850101300124", "LN-1", {day("2025-09-20"), day("2025-09-29")}},
           "2025-09-30T11:00:00+05:00");
  expect_round_trip(d.next);  // with a pending sick leave
  d = step(&d.next, VoucherExtended{a.voucher_id, "LN-1", day("2025-11-17")},
           "2025-10-01T10:00:00+05:00");
  expect_round_trip(d.next);  // with a granted one
  d = step(&d.next, OutcomeRecorded{"120340501232", "191010000", true, {}},
           "2025-10-16T10:00:00+05:00");
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
