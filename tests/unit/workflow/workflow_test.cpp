// The workflow between transport and state machine, on a real SQLite store: the voucher's whole
// life from application to payment, each refusal, the expiry timer, inputs that do not fit, and
// inputs of one batch that must see each other (the same person twice, the last unit of quota).
#include "workflow/workflow.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>

#include "calendar_support.hpp"
#include "store/evidence.hpp"
#include "store/sql_store.hpp"
#include "test_support.hpp"
#include "workflow/application_json.hpp"

namespace nqs::workflow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const calendar::WorkingCalendar& almaty() {
  return test::almaty_calendar();
}

Instant at(const char* text) {
  return *parse_instant(text);
}

constexpr const char* kApplication = "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10";
constexpr const char* kIin = "850101300124";
constexpr const char* kRegion = "750000000";
constexpr const char* kCenter = "120340501232";
// Other applications (application ids are UUIDs on the wire and in the notifications' schemas).
constexpr const char* kLate = "00000000-0000-4000-8000-000000000001";
constexpr const char* kA1 = "00000000-0000-4000-8000-000000000002";
constexpr const char* kA2 = "00000000-0000-4000-8000-000000000003";
constexpr const char* kB1 = "00000000-0000-4000-8000-000000000004";
constexpr const char* kA2025 = "00000000-0000-4000-8000-000000000005";
constexpr const char* kA2026 = "00000000-0000-4000-8000-000000000006";
constexpr const char* kVoucher = "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d";

intake::Accepted document(const std::string& command, const std::string& message_id,
                          const std::string& payload) {
  intake::Accepted accepted;
  accepted.command_type = command;
  accepted.envelope.message_id = message_id;
  accepted.payload = boost::json::parse(payload).as_object();
  return accepted;
}

intake::Accepted application(const std::string& id = kApplication, const std::string& iin = kIin,
                             const std::string& submitted_at = "2025-09-01T10:15:00+05:00") {
  return document("SubmitVoucherApplication", "m-" + id,
                  fmt::format(R"({{
    "applicationId": "{}", "submittedAt": "{}", "region": "{}",
    "applicant": {{"iin": "{}", "permanentRegion": "751110000"}},
    "profession": {{"profile": "technical"}},
    "recognitionCenter": {{"bin": "{}", "name": "Test center"}}}})",
                              id, submitted_at, kRegion, iin, kCenter));
}

domain::AisEvent event(const std::string& id, domain::AisPayload payload) {
  return domain::AisEvent{id, "test", at("2025-09-01T09:00:00+05:00"), std::move(payload)};
}

class WorkflowOnStore : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string pki = NQS_TEST_PKI_DIR;
    auto signer = notify::load_signer(pki + "/adapter-sign.key", pki + "/adapter-chain.pem");
    ASSERT_TRUE(signer.has_value()) << signer.error().message;
    yaml::Diagnostics diagnostics;
    std::vector<std::shared_ptr<const notify::OutboundMapping>> mappings;
    for (const char* name :
         {"application-refused", "application-to-recognition-center", "voucher-delivered",
          "voucher-validity-extended", "voucher-annulled"}) {
      mappings.push_back(notify::load_outbound_mapping(
          test::source_path(std::string("mappings/outbound/") + name + ".yaml"), diagnostics));
    }
    ASSERT_TRUE(diagnostics.empty()) << test::join(diagnostics.problems());
    auto builder = std::make_shared<const notify::NotificationBuilder>(
        std::move(mappings), std::move(signer).value(), notify::EnvelopeSettings{});
    workflow_ = std::make_unique<Workflow>(almaty(), domain::MciTable{{2025, 3932}},
                                           std::move(builder), amqp::Names{});
    auto opened = store::open_sqlite({(dir_.path() / "store.sqlite").string()});
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_ = std::move(opened).value();
    view_ = std::make_unique<StateView>(*store_);
  }

  // Commits what an input did, as the processor does.
  Effects commit(Result<Decided> decided, const std::string& key) {
    EXPECT_TRUE(decided.has_value()) << decided.error().message;
    auto* effects = std::get_if<Effects>(&decided.value());
    EXPECT_NE(effects, nullptr) << std::get<Rejection>(decided.value()).detail;
    if (effects == nullptr) return {};
    // As the daemon does before committing: the composed notifications signed.
    auto sealed = seal(*workflow_->notifications(), effects->outbox, effects->to_sign);
    EXPECT_TRUE(sealed.has_value()) << sealed.error().message;
    std::vector<store::Store::Input> inputs;
    inputs.push_back(
        {store::InboxEntry{key, "test", store::InputOutcome::processed, "", "", "", "", {}},
         effects->outbox,
         effects->changes,
         {}});
    auto recorded = store_->record_inputs(std::move(inputs));
    EXPECT_TRUE(recorded.has_value()) << recorded.error().message;
    view_->clear();
    return *effects;
  }

  Rejection refused(Result<Decided> decided) {
    EXPECT_TRUE(decided.has_value());
    const auto* rejection = std::get_if<Rejection>(&decided.value());
    EXPECT_NE(rejection, nullptr) << "expected a rejection";
    return rejection != nullptr ? *rejection : Rejection{};
  }

  void register_and_allocate(std::int64_t vouchers, const std::string& iin = kIin) {
    commit(workflow_->on_event(
               event("e-u-" + iin, domain::UnemployedStatusChanged{iin, true, kRegion, {}}), *view_,
               at("2025-09-01T09:00:00+05:00")),
           "ais:e-u-" + iin);
    if (vouchers > 0) {
      commit(workflow_->on_event(
                 event("e-q", domain::QuotaAllocated{2025, 2027, {{kRegion, vouchers, {}, -1}}}),
                 *view_, at("2025-09-01T09:00:00+05:00")),
             "ais:e-q");
    }
  }

  std::optional<store::TimerRow> timer(const std::string& kind,
                                       const std::string& id = kApplication) {
    auto rows = store_->timers_of(id).value();
    for (auto& row : rows) {
      if (row.kind == kind) return row;
    }
    return std::nullopt;
  }
  std::vector<std::string> timer_kinds(const std::string& id = kApplication) {
    std::vector<std::string> kinds;
    const auto rows = store_->timers_of(id).value();
    for (const auto& row : rows)
      kinds.push_back(row.kind);
    return kinds;
  }
  // Fires every timer due at `now`, earliest first, each committed as the timer runner does.
  std::vector<Effects> fire_due(Instant now) {
    std::vector<Effects> fired;
    const auto due = store_->due_timers(now, 100).value();
    for (const auto& row : due) {
      const auto key =
          fmt::format("timer:{}:{}:{}", row.kind, row.subject, row.due.time_since_epoch().count());
      auto effects = workflow_->on_timer(row, key, *view_, now);
      EXPECT_TRUE(effects.has_value());
      fired.push_back(commit(Decided{effects.value()}, key));
    }
    return fired;
  }

  // From a new application to a voucher issued on 3 September 2025 (art. 8-10).
  void issue_voucher() {
    commit(workflow_->on_document(application(), *view_, at("2025-09-02T11:00:00+05:00")), "gov:a");
    voucher_for(kApplication, kVoucher, calendar::Date{date::year{2025} / 9 / 3},
                at("2025-09-02T11:00:00+05:00"));
  }
  // A registered application through review, forwarding and the center's acceptance (art. 8-9),
  // at `now`.
  void confirm(const std::string& id, Instant now) {
    commit(workflow_->on_event(event("1" + id, domain::ApplicationReviewed{id, true, {}, {}, {}}),
                               *view_, now),
           "ais:1" + id);
    commit(workflow_->on_event(event("2" + id, domain::ApplicationForwarded{id}), *view_, now),
           "ais:2" + id);
    commit(workflow_->on_document(
               document("RecordRecognitionCenterDecision", "m-d" + id,
                        fmt::format(R"({{"applicationId": "{}", "recognitionCenterBin": "{}",
                                         "decision": "accepted"}})",
                                    id, kCenter)),
               *view_, now),
           "gov:d" + id);
  }
  // ... and on to its voucher (art. 10).
  void voucher_for(const std::string& id, const std::string& voucher, calendar::Date issued_on,
                   Instant now) {
    confirm(id, now);
    commit(workflow_->on_event(event("3" + id, domain::VoucherIssued{voucher, id, issued_on}),
                               *view_, now),
           "ais:3" + id);
  }

  std::string stage(const std::string& id = kApplication) {
    auto row = store_->find_application(id).value();
    return row ? std::string(domain::stage_name(row->stage)) : "none";
  }

  static std::vector<std::string> routes(const Effects& effects) {
    std::vector<std::string> out;
    for (const auto& row : effects.outbox)
      out.push_back(row.exchange + "/" + row.routing_key);
    return out;
  }
  static boost::json::object body(const store::OutboxMessage& row) {
    return boost::json::parse(row.body).as_object();
  }

  test::TempDir dir_;
  std::unique_ptr<Workflow> workflow_;
  std::unique_ptr<store::SqlStore> store_;
  std::unique_ptr<StateView> view_;
};

TEST_F(WorkflowOnStore, TheWholeLifeFromApplicationToPayment) {
  register_and_allocate(5);
  auto e = commit(workflow_->on_document(application(), *view_, at("2025-09-01T10:20:00+05:00")),
                  "gov:a");
  EXPECT_THAT(routes(e), ElementsAre("ais.commands/RegisterApplication"));
  const auto command = body(e.outbox[0]);
  EXPECT_EQ(command.at("correlationId").as_string(), kApplication);
  EXPECT_EQ(command.at("causationId").as_string(), std::string("m-") + kApplication);
  EXPECT_EQ(command.at("payload").at("reviewDueBy").as_string(), "2025-09-02T18:59:59.999Z");
  EXPECT_EQ(stage(), "with_career_center");
  EXPECT_EQ(store_->quota_left(kRegion, 2025).value(), 4) << "a unit reserved";

  const auto now = at("2025-09-02T11:00:00+05:00");
  commit(
      workflow_->on_event(event("e-1", domain::ApplicationReviewed{kApplication, true, {}, {}, {}}),
                          *view_, now),
      "ais:e-1");
  e = commit(
      workflow_->on_event(event("e-2", domain::ApplicationForwarded{kApplication}), *view_, now),
      "ais:e-2");
  EXPECT_THAT(routes(e), ElementsAre("gov.outbound/ApplicationToRecognitionCenter"));
  EXPECT_THAT(e.outbox[0].body, HasSubstr("ApplicationToRecognitionCenter"));
  EXPECT_THAT(e.outbox[0].body, HasSubstr("<ds:SignatureValue>"));
  e = commit(workflow_->on_document(
                 document("RecordRecognitionCenterDecision", "m-d",
                          fmt::format(R"({{"applicationId": "{}", "recognitionCenterBin": "{}",
                                           "decision": "accepted"}})",
                                      kApplication, kCenter)),
                 *view_, now),
             "gov:d");
  EXPECT_THAT(routes(e), ElementsAre("ais.commands/RecordCenterDecision"));
  EXPECT_EQ(stage(), "confirmed");
  e = commit(workflow_->on_event(
                 event("e-3", domain::VoucherIssued{kVoucher, kApplication,
                                                    calendar::Date{date::year{2025} / 9 / 3}}),
                 *view_, now),
             "ais:e-3");
  EXPECT_THAT(routes(e), ElementsAre("gov.outbound/VoucherDelivered"));
  // Art. 11: the expiry timer is a row, set with the voucher: 60 days after 3 September and the
  // grace of 3 working days (audit point 6); the validity is a deadline too, with its warning on
  // the last day.
  EXPECT_THAT(timer_kinds(), ElementsAre("sla.warning.voucher_validity", "voucher_expiry"));
  EXPECT_EQ(timer("voucher_expiry")->due, at("2025-11-05T23:59:59.999+05:00"));
  EXPECT_EQ(timer("sla.warning.voucher_validity")->due, at("2025-11-02T09:00:00+05:00"));

  e = commit(workflow_->on_document(
                 document("RecordRecognitionOutcome", "m-o",
                          fmt::format(R"({{"voucherId": "{}", "recognitionCenterBin": "{}",
                                           "region": "191010000", "result": "passed",
                                           "examDate": "2025-09-15",
                                           "protocolSignedOn": "2025-09-16"}})",
                                      kVoucher, kCenter)),
                 *view_, now),
             "gov:o");
  EXPECT_THAT(routes(e), ElementsAre("ais.commands/RecordRecognitionOutcome"));
  EXPECT_THAT(timer_kinds(), ElementsAre("sla.warning.service_act", "sla.breach.service_act"))
      << "used: no annulment; the act is due 3 working days after the protocol";
  e = commit(
      workflow_->on_document(document("RegisterServiceAct", "m-act",
                                      fmt::format(R"({{"voucherId": "{}", "actNumber": "ACT-1",
                                           "actDate": "2025-09-20", "executor": {{"bin": "{}"}},
                                           "totalTiyn": 3000000}})",
                                                  kVoucher, kCenter)),
                             *view_, at("2025-09-22T10:00:00+05:00")),
      "gov:act");
  ASSERT_THAT(routes(e), ElementsAre("ais.commands/RegisterServiceAct"));
  const auto act = body(e.outbox[0]).at("payload").as_object();
  // 7 MCI of 2025 caps the center's 30 000 tenge; the exam outside the home oblast: 6 MCI.
  EXPECT_EQ(act.at("centerAmount").as_string(), "27524.00");
  EXPECT_EQ(act.at("holderAssistance").as_string(), "23592.00");
  EXPECT_EQ(act.at("applicantShare").as_string(), "2476.00");
  EXPECT_EQ(act.at("payDueBy").as_string(), "2025-09-29T18:59:59.999Z");
  commit(workflow_->on_event(event("e-4", domain::PaymentMade{"ACT-1", true, 2'752'400, {}, ""}),
                             *view_, now),
         "ais:e-4");
  EXPECT_EQ(stage(), "act_received") << "the holder is not paid yet";
  commit(workflow_->on_event(event("e-5", domain::PaymentMade{"ACT-1", false, 2'359'200, {}, ""}),
                             *view_, now),
         "ais:e-5");
  EXPECT_EQ(stage(), "paid");
  EXPECT_EQ(store_->quota_left(kRegion, 2025).value(), 4) << "a used voucher keeps its unit";
}

TEST_F(WorkflowOnStore, AnApplicationFailingTheChecksIsRefusedToBothSidesAndReservesNothing) {
  // Not registered as the AIS said, and no allocation.
  commit(
      workflow_->on_event(event("e-u", domain::UnemployedStatusChanged{kIin, false, kRegion, {}}),
                          *view_, at("2025-09-01T09:00:00+05:00")),
      "ais:e-u");
  auto e = commit(workflow_->on_document(application(), *view_, at("2025-09-01T10:20:00+05:00")),
                  "gov:a");
  EXPECT_THAT(routes(e), ElementsAre("ais.commands/RecordAutomaticRefusal",
                                     "gov.outbound/ApplicationRefused"));
  EXPECT_THAT(body(e.outbox[0]).at("payload").at("reasons").as_array(),
              ElementsAre("not_registered_unemployed", "no_quota_left"));
  EXPECT_THAT(e.outbox[1].body, HasSubstr("not_registered_unemployed"));
  EXPECT_EQ(stage(), "refused_automatic");
  // After 15 October (local date), with everything else in order.
  register_and_allocate(5);
  e = commit(workflow_->on_document(application(kLate, kIin, "2025-10-16T00:00:00+05:00"), *view_,
                                    at("2025-10-16T10:00:00+05:00")),
             "gov:late");
  EXPECT_THAT(body(e.outbox[0]).at("payload").at("reasons").as_array(),
              ElementsAre("deadline_passed"));
  EXPECT_EQ(store_->quota_left(kRegion, 2025).value(), 5);
}

TEST_F(WorkflowOnStore, InputsOfOneBatchSeeEachOtherBeforeTheyAreCommitted) {
  register_and_allocate(1);
  register_and_allocate(0, "900515401230");
  // Three applications decided in one batch, nothing committed in between: the same person
  // twice, and someone else wanting the region's last unit.
  const auto now = at("2025-09-01T10:20:00+05:00");
  std::vector<Effects> batch;
  int n = 0;
  for (const auto& input : {application(kA1), application(kA2), application(kB1, "900515401230")}) {
    auto decided = workflow_->on_document(input, *view_, now);
    ASSERT_TRUE(decided.has_value());
    auto effects = std::get<Effects>(std::move(decided).value());
    view_->apply("gov:" + std::to_string(++n), effects.changes);
    batch.push_back(std::move(effects));
  }
  EXPECT_THAT(routes(batch[0]), ElementsAre("ais.commands/RegisterApplication"));
  // The same person's second application: not a ground in itself (art. 3, audit point 1); it
  // finds the unit the first one took.
  EXPECT_THAT(body(batch[1].outbox[0]).at("payload").at("reasons").as_array(),
              ElementsAre("no_quota_left"));
  EXPECT_THAT(body(batch[2].outbox[0]).at("payload").at("reasons").as_array(),
              ElementsAre("no_quota_left"));
  // And the batch commits: the store's CHECK agrees.
  std::vector<store::Store::Input> inputs;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    inputs.push_back(
        {store::InboxEntry{
             "gov:" + std::to_string(i), "t", store::InputOutcome::processed, "", "", "", "", {}},
         batch[i].outbox,
         batch[i].changes,
         {}});
  }
  ASSERT_TRUE(store_->record_inputs(std::move(inputs)).has_value());
  EXPECT_EQ(store_->quota_left(kRegion, 2025).value(), 0);
}

TEST_F(WorkflowOnStore, TheSamePersonInAnotherYearIsNotHeldByLastYearsVoucher) {
  register_and_allocate(5);
  commit(workflow_->on_document(application(kA2025), *view_, at("2025-09-01T10:20:00+05:00")),
         "gov:1");
  commit(workflow_->on_event(event("r", domain::ApplicationReviewed{kA2025, false, {"x"}, {}, {}}),
                             *view_, at("2025-09-02T10:00:00+05:00")),
         "ais:r");
  EXPECT_EQ(stage(kA2025), "refused_career_center");
  EXPECT_EQ(store_->quota_left(kRegion, 2025).value(), 5) << "released on the refusal";
  auto e = commit(workflow_->on_document(application(kA2026, kIin, "2026-02-02T10:00:00+05:00"),
                                         *view_, at("2026-02-02T10:20:00+05:00")),
                  "gov:2");
  EXPECT_THAT(routes(e), ElementsAre("ais.commands/RegisterApplication"));
  EXPECT_EQ(store_->quota_left(kRegion, 2026).value(), 4);
}

TEST_F(WorkflowOnStore, Art3b_ADistrictOrCityKatoTakesFromItsOblastsAllocation) {
  // Audit point 3: the allocation names a district of the oblast, the application another one:
  // both are the oblast's (75: the city of Almaty).
  commit(workflow_->on_event(event("e-u", domain::UnemployedStatusChanged{kIin, true, kRegion, {}}),
                             *view_, at("2025-09-01T09:00:00+05:00")),
         "ais:e-u");
  commit(workflow_->on_event(
             event("e-q", domain::QuotaAllocated{2025, 2025, {{"751110000", 1, {}, -1}}}), *view_,
             at("2025-09-01T09:00:00+05:00")),
         "ais:e-q");
  EXPECT_EQ(store_->quota_left("750000000", 2025).value(), 1);
  auto district = application();
  district.payload["region"] = "751710000";
  auto e =
      commit(workflow_->on_document(district, *view_, at("2025-09-01T10:20:00+05:00")), "gov:a");
  ASSERT_THAT(routes(e), ElementsAre("ais.commands/RegisterApplication"));
  const auto payload = body(e.outbox[0]).at("payload");
  EXPECT_EQ(payload.at("region").as_string(), "751710000") << "its own KATO";
  EXPECT_EQ(payload.at("oblast").as_string(), "750000000");
  EXPECT_EQ(store_->quota_left("750000000", 2025).value(), 0);
  // The career center refuses: the unit goes back to the oblast.
  commit(workflow_->on_event(
             event("r", domain::ApplicationReviewed{kApplication, false, {"x"}, {}, {}}), *view_,
             at("2025-09-02T11:00:00+05:00")),
         "ais:r");
  EXPECT_EQ(store_->quota_left("750000000", 2025).value(), 1);
}

TEST_F(WorkflowOnStore, Art18_APeriodTotalWithoutABreakdownIsSharedByItsYears) {
  // Audit point 4: 2 vouchers for 2025-2027, no breakdown: whichever years take them.
  register_and_allocate(0);
  commit(
      workflow_->on_event(event("e-q", domain::QuotaAllocated{2025, 2027, {{kRegion, 0, {}, 2}}}),
                          *view_, at("2025-09-01T09:00:00+05:00")),
      "ais:e-q");
  EXPECT_EQ(store_->quota_left(kRegion, 2025).value(), 2);
  EXPECT_EQ(store_->quota_left(kRegion, 2027).value(), 2);
  const std::string a1 = "a3000000-0000-4000-8000-000000000001";
  const std::string a2 = "a3000000-0000-4000-8000-000000000002";
  const std::string a3 = "a3000000-0000-4000-8000-000000000003";
  commit(workflow_->on_document(application(a1, kIin, "2025-09-01T10:15:00+05:00"), *view_,
                                at("2025-09-01T10:20:00+05:00")),
         "gov:1");
  EXPECT_EQ(store_->quota_left(kRegion, 2025).value(), 1);
  EXPECT_EQ(store_->quota_left(kRegion, 2027).value(), 1) << "one total for the period";
  // Allocated again while a unit is reserved: the total must hold it, and cannot be split.
  EXPECT_EQ(refused(workflow_->on_event(
                        event("e-q0", domain::QuotaAllocated{2025, 2027, {{kRegion, 0, {}, 0}}}),
                        *view_, at("2026-01-05T09:00:00+05:00")))
                .reason,
            Reason::domain_inconsistent);
  auto split = refused(
      workflow_->on_event(event("e-q1", domain::QuotaAllocated{2025, 2027, {{kRegion, 1, {}, -1}}}),
                          *view_, at("2026-01-05T09:00:00+05:00")));
  EXPECT_THAT(split.detail, HasSubstr("a breakdown by year cannot replace it"));
  EXPECT_EQ(refused(workflow_->on_event(
                        event("e-q2", domain::QuotaAllocated{2026, 2028, {{kRegion, 0, {}, 5}}}),
                        *view_, at("2026-01-05T09:00:00+05:00")))
                .reason,
            Reason::domain_inconsistent)
      << "overlaps the period";
  // A larger total keeps what is reserved.
  commit(
      workflow_->on_event(event("e-q3", domain::QuotaAllocated{2025, 2027, {{kRegion, 0, {}, 3}}}),
                          *view_, at("2026-01-05T09:00:00+05:00")),
      "ais:e-q3");
  EXPECT_EQ(store_->quota_left(kRegion, 2026).value(), 2);
  commit(workflow_->on_document(application(a2, kIin, "2026-02-02T10:15:00+05:00"), *view_,
                                at("2026-02-02T10:20:00+05:00")),
         "gov:2");
  commit(workflow_->on_document(application(a3, kIin, "2027-02-02T10:15:00+05:00"), *view_,
                                at("2027-02-02T10:20:00+05:00")),
         "gov:3");
  EXPECT_EQ(store_->quota_left(kRegion, 2025).value(), 0);
  auto e = commit(workflow_->on_document(application("a3000000-0000-4000-8000-000000000004", kIin,
                                                     "2027-03-02T10:15:00+05:00"),
                                         *view_, at("2027-03-02T10:20:00+05:00")),
                  "gov:4");
  EXPECT_THAT(body(e.outbox[0]).at("payload").at("reasons").as_array(),
              ElementsAre("no_quota_left"));
  // A refusal in 2025 gives the unit back to the period.
  commit(workflow_->on_event(event("r", domain::ApplicationReviewed{a1, false, {"x"}, {}, {}}),
                             *view_, at("2027-03-03T11:00:00+05:00")),
         "ais:r");
  EXPECT_EQ(store_->quota_left(kRegion, 2027).value(), 1);
}

TEST_F(WorkflowOnStore, Art3_AnApplicantUnknownToTheAisIsRegisteredNotRefused) {
  // Nothing known of the applicant (no UnemployedStatusChanged), an allocation.
  commit(
      workflow_->on_event(event("e-q", domain::QuotaAllocated{2023, 2025, {{kRegion, 5, {}, -1}}}),
                          *view_, at("2025-09-01T09:00:00+05:00")),
      "ais:e-q");
  auto e = commit(workflow_->on_document(application(), *view_, at("2025-09-01T10:20:00+05:00")),
                  "gov:a");
  EXPECT_THAT(routes(e), ElementsAre("ais.commands/RegisterApplication"));
  EXPECT_EQ(body(e.outbox[0]).at("payload").at("checks").at("unemployment").as_string(), "unknown");
  EXPECT_EQ(stage(), "with_career_center");
}

TEST_F(WorkflowOnStore, Art3c_AVoucherRefusesThePersonsOtherApplicationsOfItsYear) {
  register_and_allocate(5);
  // A second application of the same person, on its way beside the first (art. 3: no ground).
  auto second = commit(
      workflow_->on_document(application(kA2, kIin), *view_, at("2025-09-01T10:30:00+05:00")),
      "gov:a2");
  EXPECT_THAT(routes(second), ElementsAre("ais.commands/RegisterApplication"));
  EXPECT_EQ(store_->quota_left(kRegion, 2025).value(), 4);
  issue_voucher();  // the first receives its voucher
  EXPECT_EQ(stage(), "voucher_active");
  EXPECT_EQ(stage(kA2), "refused_automatic") << "ground (c) now holds for the second";
  EXPECT_EQ(store_->quota_left(kRegion, 2025).value(), 4) << "the second's unit released";
  // A third application this year: refused on ground (c).
  auto third = commit(
      workflow_->on_document(application(kA1, kIin), *view_, at("2025-09-15T10:00:00+05:00")),
      "gov:a3");
  EXPECT_THAT(body(third.outbox[0]).at("payload").at("reasons").as_array(),
              ElementsAre("voucher_already_received_this_year"));
}

TEST_F(WorkflowOnStore, ACommandASignedDocumentCausesLinksItsArchivedOriginalAndNoOtherDoes) {
  // messages.md "Commands to the AIS": evidence {id, sha256} of the document's evidence record.
  register_and_allocate(5);
  auto signed_application = application();
  signed_application.evidence.body_sha256 = "9f86d081884c7d659a2feaa0c55ad015";
  auto e = commit(
      workflow_->on_document(signed_application, *view_, at("2025-09-01T10:20:00+05:00")), "gov:a");
  ASSERT_THAT(routes(e), ElementsAre("ais.commands/RegisterApplication"));
  const auto command = body(e.outbox[0]);
  EXPECT_EQ(
      command.at("evidence"),
      (boost::json::value{{"id", store::received_evidence_id(std::string("m-") + kApplication)},
                          {"sha256", "9f86d081884c7d659a2feaa0c55ad015"}}));
  EXPECT_EQ(command.at("payload").at("applicationId").as_string(), kApplication)
      << "the mapped document is carried whole beside the link";
  // A command the AIS's own event causes has no signed original: no link. The voucher refuses
  // the person's other application on its way (art. 3 c)).
  commit(workflow_->on_document(application(kA2, kIin), *view_, at("2025-09-01T10:30:00+05:00")),
         "gov:a2");
  const auto now = at("2025-09-02T11:00:00+05:00");
  confirm(kApplication, now);
  e = commit(workflow_->on_event(
                 event("3", domain::VoucherIssued{kVoucher, kApplication,
                                                  calendar::Date{date::year{2025} / 9 / 3}}),
                 *view_, now),
             "ais:3");
  std::size_t commands = 0;
  for (const auto& row : e.outbox) {
    if (row.exchange != "ais.commands") continue;
    ++commands;
    EXPECT_FALSE(body(row).contains("evidence")) << row.body;
  }
  EXPECT_GE(commands, 1U) << "the other application's refusal";
}

TEST_F(WorkflowOnStore, Art3c_ASecondVoucherToOnePersonInOneYearIsInconsistent) {
  register_and_allocate(5);
  commit(workflow_->on_event(
             event("e-q24", domain::QuotaAllocated{2022, 2024, {{kRegion, 5, {}, -1}}}), *view_,
             at("2024-09-01T09:00:00+05:00")),
         "ais:e-q24");
  // Submitted on 14 October 2024 (a 2024 application), still on its way in January.
  commit(workflow_->on_document(application(kA1, kIin, "2024-10-14T10:00:00+05:00"), *view_,
                                at("2024-10-14T10:05:00+05:00")),
         "gov:a1");
  // A 2025 application of the same person gets its voucher in January 2025 ...
  commit(workflow_->on_document(application(kA2, kIin, "2025-01-06T10:00:00+05:00"), *view_,
                                at("2025-01-06T10:05:00+05:00")),
         "gov:a2");
  voucher_for(kA2, kVoucher, calendar::Date{date::year{2025} / 1 / 20},
              at("2025-01-20T10:00:00+05:00"));
  EXPECT_EQ(stage(kA2), "voucher_active");
  EXPECT_EQ(stage(kA1), "with_career_center") << "a 2024 application: not refused by it";
  // ... so a voucher issued in 2025 for the 2024 one would be the person's second of 2025.
  const auto now = at("2025-02-03T10:00:00+05:00");
  confirm(kA1, now);
  auto second = refused(workflow_->on_event(
      event("v2", domain::VoucherIssued{"7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e", kA1,
                                        calendar::Date{date::year{2025} / 2 / 3}}),
      *view_, now));
  EXPECT_EQ(second.reason, Reason::domain_inconsistent);
  EXPECT_THAT(second.detail, HasSubstr("already received voucher"));
}

TEST_F(WorkflowOnStore, AnUnusedVoucherIsAnnulledByItsTimerAndTheUnitReleased) {
  register_and_allocate(5);
  issue_voucher();
  EXPECT_EQ(store_->quota_left(kRegion, 2025).value(), 4);
  const auto expiry = *timer("voucher_expiry");
  // Valid until Sunday 2 November; annulled after Wednesday 5, the end of the grace.
  EXPECT_EQ(fire_due(at("2025-11-05T23:59:59+05:00")).size(), 1U) << "the warning only";
  const auto fired = fire_due(at("2025-11-06T00:00:01+05:00"));
  ASSERT_EQ(fired.size(), 1U);
  EXPECT_THAT(routes(fired[0]),
              ElementsAre("ais.commands/AnnulVoucher", "gov.outbound/VoucherAnnulled"));
  EXPECT_EQ(body(fired[0].outbox[0]).at("payload").at("validUntil").as_string(), "2025-11-02");
  EXPECT_EQ(stage(), "annulled");
  EXPECT_EQ(store_->quota_left(kRegion, 2025).value(), 5);
  EXPECT_TRUE(store_->timers_of(kApplication).value().empty());
  // A stale timer for an annulled voucher does nothing but go away, with a note.
  auto again = workflow_->on_timer(expiry, "timer:2", *view_, at("2025-11-06T00:00:02+05:00"));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again.value().outbox.empty());
  EXPECT_THAT(again.value().note, HasSubstr("does not fit application"));
  ASSERT_EQ(again.value().changes.cancelled_timers.size(), 1U);
}

TEST_F(WorkflowOnStore, InputsThatDoNotFitAreRejectedWithTheirReason) {
  register_and_allocate(5);
  const auto now = at("2025-09-02T11:00:00+05:00");
  auto unknown = refused(workflow_->on_event(
      event("x", domain::ApplicationForwarded{"no-such-application"}), *view_, now));
  EXPECT_EQ(unknown.reason, Reason::domain_unknown_subject);
  EXPECT_THAT(unknown.detail, HasSubstr("no application no-such-application is known"));
  EXPECT_EQ(refused(workflow_->on_document(
                        document("RecordSickLeaveNotice", "m-s",
                                 R"({"voucherId": "v-none", "holderIin": "850101300124",
                                     "sheetNumber": "1", "from": "2025-09-05", "to": "2025-09-06"})"),
                        *view_, now))
                .reason,
            Reason::domain_unknown_subject);
  commit(workflow_->on_document(application(), *view_, now), "gov:a");
  // A voucher for an application the career center has not even reviewed.
  auto early = refused(workflow_->on_event(
      event("v", domain::VoucherIssued{kVoucher, kApplication,
                                       calendar::Date{date::year{2025} / 9 / 3}}),
      *view_, now));
  EXPECT_EQ(early.reason, Reason::domain_invalid_transition);
  EXPECT_THAT(early.detail, HasSubstr("at stage with_career_center"));
  // The same application submitted again.
  EXPECT_EQ(refused(workflow_->on_document(application(), *view_, now)).reason,
            Reason::domain_invalid_transition);
  // An allocation below what is reserved.
  auto quota = refused(workflow_->on_event(
      event("q2", domain::QuotaAllocated{2025, 2025, {{kRegion, 0, {}, -1}}}), *view_, now));
  EXPECT_EQ(quota.reason, Reason::domain_inconsistent);
  EXPECT_THAT(quota.detail, HasSubstr("1 are already reserved"));
}

TEST_F(WorkflowOnStore, ADeadlineWarnsThenBreachesAndAnAnswerAfterItIsRecordedAsLate) {
  register_and_allocate(5);
  // Art. 8: received on Friday 5 September: the career center has until the end of Monday.
  commit(workflow_->on_document(application(), *view_, at("2025-09-05T16:00:00+05:00")), "gov:a");
  auto row = store_->deadline(kApplication, "career_center_review").value();
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->due, at("2025-09-08T23:59:59.999+05:00"));
  EXPECT_EQ(row->responsible, "career_center");
  EXPECT_EQ(timer("sla.warning.career_center_review")->due, at("2025-09-08T09:00:00+05:00"));
  EXPECT_EQ(timer("sla.breach.career_center_review")->due, at("2025-09-09T00:00:00+05:00"));
  EXPECT_TRUE(fire_due(at("2025-09-08T08:59:59+05:00")).empty()) << "nothing due yet";

  // Both due at once (the daemon was down): the warning first, then the breach.
  const auto fired = fire_due(at("2025-09-09T10:00:00+05:00"));
  ASSERT_EQ(fired.size(), 2U);
  ASSERT_THAT(routes(fired[0]), ElementsAre("nqs.notifications/sla.warning.career_center_review"));
  ASSERT_THAT(routes(fired[1]), ElementsAre("nqs.notifications/sla.breached.career_center_review"));
  const auto breach = body(fired[1].outbox[0]);
  EXPECT_EQ(breach.at("step").as_string(), "career_center_review");
  EXPECT_EQ(breach.at("subject").as_string(), kApplication);
  EXPECT_EQ(breach.at("responsible").as_string(), "career_center");
  EXPECT_EQ(breach.at("started").as_string(), "2025-09-05T11:00:00.000Z");
  EXPECT_EQ(breach.at("due").as_string(), "2025-09-08T18:59:59.999Z");
  EXPECT_EQ(breach.at("now").as_string(), "2025-09-09T05:00:00.000Z");
  row = store_->deadline(kApplication, "career_center_review").value();
  EXPECT_TRUE(row->warned.has_value());
  EXPECT_TRUE(row->breached.has_value());
  EXPECT_EQ(store_->open_deadlines(at("2025-09-09T10:00:00+05:00"), 10).value().size(), 1U);

  // The review arrives after the breach: processed, and the step recorded as late; the next
  // step (the LMC's forwarding, art. 9) opens.
  auto e = commit(
      workflow_->on_event(event("r", domain::ApplicationReviewed{kApplication, true, {}, {}, {}}),
                          *view_, at("2025-09-09T11:00:00+05:00")),
      "ais:r");
  EXPECT_THAT(e.late, ElementsAre("career_center_review"));
  EXPECT_TRUE(store_->deadline(kApplication, "career_center_review").value()->closed.has_value());
  EXPECT_THAT(timer_kinds(),
              ElementsAre("sla.warning.lmc_forwarding", "sla.breach.lmc_forwarding"));
  EXPECT_EQ(store_->deadline(kApplication, "lmc_forwarding").value()->due,
            at("2025-09-10T23:59:59.999+05:00"));
  // Forwarded in time: closed, not late, nothing left to fire.
  e = commit(workflow_->on_event(event("f", domain::ApplicationForwarded{kApplication}), *view_,
                                 at("2025-09-10T09:30:00+05:00")),
             "ais:f");
  EXPECT_TRUE(e.late.empty());
  // With the recognition center: its 3 working days (Rules 374 art. 5) count from registration
  // at the center, which the adapter does not see; no default step (audit point 10).
  EXPECT_THAT(timer_kinds(), ::testing::IsEmpty());
}

TEST_F(WorkflowOnStore, AnExtensionMovesTheValidityAndItsTimers) {
  register_and_allocate(5);
  issue_voucher();
  const auto now = at("2025-09-02T11:00:00+05:00");
  commit(workflow_->on_document(
             document("RecordSickLeaveNotice", "m-s",
                      fmt::format(R"({{"voucherId": "{}", "holderIin": "{}", "sheetNumber": "7",
                                       "from": "2025-09-20", "to": "2025-09-29",
                                       "submittedAt": "2025-09-30T10:00:00+05:00"}})",
                                  kVoucher, kIin)),
             *view_, now),
         "gov:s");
  EXPECT_THAT(timer_kinds(), ElementsAre("sla.warning.lmc_extension", "sla.breach.lmc_extension",
                                         "sla.warning.voucher_validity", "voucher_expiry"))
      << "the extension is due; the validity keeps running meanwhile";
  // The adapter's own annulment waits for the validity it computed, not for the LMC.
  EXPECT_EQ(timer("voucher_expiry")->due, at("2025-11-17T23:59:59.999+05:00"));
  commit(workflow_->on_event(
             event("4", domain::VoucherExtended{kVoucher, "7",
                                                calendar::Date{date::year{2025} / 11 / 12}}),
             *view_, now),
         "ais:4");
  // 60 days + 10 sick days: the end of 12 November; the warning moved, and the annulment to
  // the end of the grace after it (it moved already when the sheet was accepted).
  EXPECT_EQ(timer("voucher_expiry")->due, at("2025-11-17T23:59:59.999+05:00"));
  EXPECT_EQ(timer("sla.warning.voucher_validity")->due, at("2025-11-12T09:00:00+05:00"));
  EXPECT_EQ(store_->deadline(kApplication, "voucher_validity").value()->due,
            at("2025-11-12T23:59:59.999+05:00"));
  EXPECT_FALSE(timer("sla.breach.lmc_extension").has_value());
  EXPECT_TRUE(fire_due(at("2025-11-03T00:00:00+05:00")).empty()) << "the old times are gone";
}

// Art. 13: the LMC extends each sheet within 1 working day after receiving it. A second sheet
// while the first waits keeps the first's deadline; once the first is extended, the deadline is
// the second's, the one the AIS was told (extendDueBy), not a breach at the first's.
TEST_F(WorkflowOnStore, Art13_EachSheetHasItsOwnWorkingDayAndTheAisIsToldTheOneEnforced) {
  register_and_allocate(5);
  issue_voucher();
  auto sheet = [&](const std::string& number, const char* from, const char* to,
                   const char* submitted, Instant now) {
    auto effects = commit(
        workflow_->on_document(
            document("RecordSickLeaveNotice", "m-s" + number,
                     fmt::format(R"({{"voucherId": "{}", "holderIin": "{}", "sheetNumber": "{}",
                                      "from": "{}", "to": "{}", "submittedAt": "{}"}})",
                                 kVoucher, kIin, number, from, to, submitted)),
            *view_, now),
        "gov:s" + number);
    for (const auto& row : effects.outbox) {
      const auto command = body(row);
      if (command.at("type") == "RecordSickLeave")
        return parse_instant(command.at("payload").at("extendDueBy").as_string()).value();
    }
    ADD_FAILURE() << "no RecordSickLeave for sheet " << number;
    return Instant{};
  };
  const auto first_due = sheet("7", "2025-09-20", "2025-09-29", "2025-09-30T10:00:00+05:00",
                               at("2025-09-30T10:00:00+05:00"));
  EXPECT_EQ(first_due, at("2025-10-01T23:59:59.999+05:00"));
  const auto second_due = sheet("8", "2025-09-25", "2025-09-30", "2025-10-01T10:00:00+05:00",
                                at("2025-10-01T10:00:00+05:00"));
  EXPECT_EQ(second_due, at("2025-10-02T23:59:59.999+05:00"));
  EXPECT_EQ(store_->deadline(kApplication, "lmc_extension").value()->due, first_due)
      << "the first sheet still waits";
  // The first is extended on time: the deadline is now the second sheet's.
  auto e = commit(
      workflow_->on_event(
          event("x7",
                domain::VoucherExtended{kVoucher, "7", calendar::Date{date::year{2025} / 11 / 12}}),
          *view_, at("2025-10-01T15:00:00+05:00")),
      "ais:x7");
  EXPECT_TRUE(e.late.empty());
  EXPECT_EQ(stage(), "extension_requested");
  const auto deadline = store_->deadline(kApplication, "lmc_extension").value();
  ASSERT_TRUE(deadline.has_value());
  EXPECT_FALSE(deadline->closed.has_value());
  EXPECT_EQ(deadline->due, second_due);
  EXPECT_EQ(timer("sla.breach.lmc_extension")->due, second_due + std::chrono::milliseconds{1});
  EXPECT_TRUE(fire_due(at("2025-10-02T12:00:00+05:00")).size() == 1)
      << "the warning of the second sheet's day, and no breach of the first's";
  // The second is extended: nothing waits for the LMC any more.
  commit(workflow_->on_event(
             event("x8", domain::VoucherExtended{kVoucher, "8",
                                                 calendar::Date{date::year{2025} / 11 / 13}}),
             *view_, at("2025-10-02T15:00:00+05:00")),
         "ais:x8");
  EXPECT_EQ(stage(), "voucher_active");
  EXPECT_TRUE(store_->deadline(kApplication, "lmc_extension").value()->closed.has_value());
  EXPECT_FALSE(timer("sla.breach.lmc_extension").has_value());
}

TEST_F(WorkflowOnStore, Art12_ASheetFromTheAisExtendsLikeTheHoldersAndCountsOnce) {
  register_and_allocate(5);
  issue_voucher();
  const auto now = at("2025-09-30T11:00:00+05:00");
  // State integration (art. 12): the AIS sends the sheet; nothing goes back to it.
  auto e = commit(
      workflow_->on_event(
          domain::AisEvent{"e-sick", "SickLeaveRecorded", at("2025-09-30T09:00:00+05:00"),
                           domain::SickLeaveRecorded{kVoucher, kIin, "LN-5",
                                                     calendar::Date{date::year{2025} / 9 / 20},
                                                     calendar::Date{date::year{2025} / 9 / 29}}},
          *view_, now),
      "ais:e-sick");
  EXPECT_TRUE(e.outbox.empty());
  EXPECT_EQ(stage(), "extension_requested");
  EXPECT_EQ(timer("voucher_expiry")->due, at("2025-11-17T23:59:59.999+05:00"));
  // The holder uploads the same sheet: processed, no second RecordSickLeave, no new day.
  e = commit(workflow_->on_document(document("RecordSickLeaveNotice", "m-s",
                                             fmt::format(R"({{"voucherId": "{}", "holderIin": "{}",
                                           "sheetNumber": "LN-5", "from": "2025-09-20",
                                           "to": "2025-09-29",
                                           "submittedAt": "2025-09-30T10:00:00+05:00"}})",
                                                         kVoucher, kIin)),
                                    *view_, now),
             "gov:s");
  EXPECT_TRUE(e.outbox.empty());
  EXPECT_EQ(timer("voucher_expiry")->due, at("2025-11-17T23:59:59.999+05:00"));
  commit(workflow_->on_event(
             event("e-ext", domain::VoucherExtended{kVoucher, "LN-5",
                                                    calendar::Date{date::year{2025} / 11 / 12}}),
             *view_, now),
         "ais:e-ext");
  EXPECT_EQ(stage(), "voucher_active");
}

TEST_F(WorkflowOnStore, Art16_TheActsCustomerIsTheLmcOfTheVouchersOblastWhenConfigured) {
  register_and_allocate(5);
  issue_voucher();
  const auto now = at("2025-10-01T11:00:00+05:00");
  commit(workflow_->on_document(
             document("RecordRecognitionOutcome", "m-o",
                      fmt::format(R"({{"voucherId": "{}", "recognitionCenterBin": "{}",
                                       "region": "191010000", "result": "passed",
                                       "examDate": "2025-09-15", "protocolSignedOn": "2025-09-16"}})",
                                  kVoucher, kCenter)),
             *view_, now),
         "gov:o");
  const auto act = [&](const char* customer) {
    return document("RegisterServiceAct", std::string("m-act-") + customer,
                    fmt::format(R"({{"voucherId": "{}", "actNumber": "ACT-1",
                                     "actDate": "2025-09-20", "executor": {{"bin": "{}"}},
                                     "customer": {{"bin": "{}"}}, "totalTiyn": 3000000}})",
                                kVoucher, kCenter, customer));
  };
  // Almaty's LMC (oblast 75) is configured; the act names another organisation.
  domain::Policy policy;
  policy.lmc_bins = {{"750000000", "140450600708"}};
  const Workflow checking(almaty(), domain::MciTable{{2025, 3932}}, workflow_->notifications(),
                          amqp::Names{}, domain::statutory_deadlines(), policy);
  auto wrong = refused(checking.on_document(act("120340501232"), *view_, now));
  EXPECT_EQ(wrong.reason, Reason::domain_inconsistent);
  EXPECT_THAT(wrong.detail, HasSubstr("the LMC of oblast 750000000 is BIN 140450600708"));
  auto e = commit(checking.on_document(act("140450600708"), *view_, now), "gov:act");
  EXPECT_THAT(routes(e), ElementsAre("ais.commands/RegisterServiceAct"));
}

TEST_F(WorkflowOnStore, Art14_AnActOfSeveralPersonsIsCappedPerPersonAndThePaidPerAct) {
  // Appendix 2 (audit point 12): one act lists the persons who passed, each with its amount.
  const std::string other_iin = "900515401230";
  const std::string a2 = "a4000000-0000-4000-8000-000000000002";
  const std::string v2 = "7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e";
  register_and_allocate(5);
  register_and_allocate(0, other_iin);
  const auto now = at("2025-09-02T11:00:00+05:00");
  issue_voucher();
  commit(workflow_->on_document(application(a2, other_iin), *view_, now), "gov:a2");
  voucher_for(a2, v2, calendar::Date{date::year{2025} / 9 / 3}, now);
  for (const auto& voucher : {std::string(kVoucher), v2}) {
    commit(workflow_->on_document(
               document("RecordRecognitionOutcome", "m-o" + voucher,
                        fmt::format(R"({{"voucherId": "{}", "recognitionCenterBin": "{}",
                                         "region": "191010000", "result": "passed",
                                         "examDate": "2025-09-15",
                                         "protocolSignedOn": "2025-09-16"}})",
                                    voucher, kCenter)),
               *view_, now),
           "gov:o" + voucher);
  }
  const auto act = [&](const std::string& id, const std::string& persons, const char* total) {
    auto signed_act = document("RegisterServiceAct", id,
                               fmt::format(R"({{"actNumber": "ACT-9", "actDate": "2025-09-20",
                                     "executor": {{"bin": "{}"}}, "persons": [{}],
                                     "totalTiyn": {}}})",
                                           kCenter, persons, total));
    signed_act.evidence.body_sha256 = "sha256-of-" + id;
    return signed_act;
  };
  const auto person = [](const std::string& voucher, const std::string& iin, const char* amount) {
    return fmt::format(R"({{"voucherId": "{}", "holderIin": "{}", "amountTiyn": {}}})", voucher,
                       iin, amount);
  };
  const auto when = at("2025-09-22T10:00:00+05:00");
  // A person who is not the voucher's holder, and a voucher listed twice.
  EXPECT_EQ(
      refused(workflow_->on_document(
                  act("m-x1", person(kVoucher, kIin, "3000000") + ", " + person(v2, kIin, "500000"),
                      "3500000"),
                  *view_, when))
          .reason,
      Reason::domain_inconsistent);
  EXPECT_EQ(refused(workflow_->on_document(act("m-x2",
                                               person(kVoucher, kIin, "3000000") + ", " +
                                                   person(kVoucher, kIin, "500000"),
                                               "3500000"),
                                           *view_, when))
                .reason,
            Reason::domain_inconsistent);
  auto e = commit(
      workflow_->on_document(
          act("m-act", person(kVoucher, kIin, "3000000") + ", " + person(v2, other_iin, "500000"),
              "3500000"),
          *view_, when),
      "gov:act");
  ASSERT_THAT(routes(e),
              ElementsAre("ais.commands/RegisterServiceAct", "ais.commands/RegisterServiceAct"));
  // Per person: 30 000 tenge capped at 7 MCI; 5 000 tenge in full; each examined outside the
  // home oblast: 6 MCI of assistance each.
  const auto first = body(e.outbox[0]).at("payload").as_object();
  const auto second = body(e.outbox[1]).at("payload").as_object();
  EXPECT_EQ(first.at("voucherId").as_string(), kVoucher);
  EXPECT_EQ(first.at("centerAmount").as_string(), "27524.00");
  EXPECT_EQ(second.at("voucherId").as_string(), v2);
  EXPECT_EQ(second.at("centerAmount").as_string(), "5000.00");
  EXPECT_EQ(second.at("holderAssistance").as_string(), "23592.00");
  EXPECT_EQ(second.at("personsInAct").as_int64(), 2);
  EXPECT_NE(body(e.outbox[0]).at("commandId"), body(e.outbox[1]).at("commandId"));
  // Each person's command links the one act they came in.
  const boost::json::value link{{"id", "received:m-act"}, {"sha256", "sha256-of-m-act"}};
  EXPECT_EQ(body(e.outbox[0]).at("evidence"), link);
  EXPECT_EQ(body(e.outbox[1]).at("evidence"), link);
  EXPECT_EQ(stage(), "act_received");
  EXPECT_EQ(stage(a2), "act_received");

  // The center is paid once, the sum of its persons' amounts.
  auto wrong = refused(workflow_->on_event(
      event("p0", domain::PaymentMade{"ACT-9", true, 2'752'400, {}, ""}), *view_, when));
  EXPECT_EQ(wrong.reason, Reason::domain_inconsistent);
  EXPECT_THAT(wrong.detail, HasSubstr("3252400 tiyn is due for its 2 persons"));
  commit(workflow_->on_event(event("p1", domain::PaymentMade{"ACT-9", true, 3'252'400, {}, ""}),
                             *view_, when),
         "ais:p1");
  EXPECT_EQ(stage(), "act_received") << "the holders are still due";
  // A holder's assistance names the holder when the act has several.
  EXPECT_EQ(refused(workflow_->on_event(
                        event("p2", domain::PaymentMade{"ACT-9", false, 2'359'200, {}, ""}), *view_,
                        when))
                .reason,
            Reason::json_invalid);
  commit(workflow_->on_event(event("p3", domain::PaymentMade{"ACT-9", false, 2'359'200, {}, v2}),
                             *view_, when),
         "ais:p3");
  EXPECT_EQ(stage(a2), "paid");
  EXPECT_EQ(stage(), "act_received");
  commit(
      workflow_->on_event(event("p4", domain::PaymentMade{"ACT-9", false, 2'359'200, {}, kVoucher}),
                          *view_, when),
      "ais:p4");
  EXPECT_EQ(stage(), "paid");
}

TEST_F(WorkflowOnStore, Art11_AnExpiryTimerSetWithoutTheGraceIsSetAgainNotFired) {
  register_and_allocate(5);
  issue_voucher();
  // As an earlier version set it: at the end of the last valid day.
  auto old = *timer("voucher_expiry");
  old.due = at("2025-11-02T23:59:59.999+05:00");
  auto fired = workflow_->on_timer(old, "timer:old", *view_, at("2025-11-03T00:00:01+05:00"));
  ASSERT_TRUE(fired.has_value()) << fired.error().message;
  EXPECT_TRUE(fired.value().outbox.empty());
  commit(Decided{fired.value()}, "timer:old");
  EXPECT_EQ(stage(), "voucher_active");
  EXPECT_EQ(timer("voucher_expiry")->due, at("2025-11-05T23:59:59.999+05:00"));
}

TEST_F(WorkflowOnStore, Rules374Art20_AnAppealOutcomeIsRecordedOnce) {
  register_and_allocate(5);
  issue_voucher();
  const auto now = at("2025-10-01T11:00:00+05:00");
  auto outcome = [&](const std::string& id, const std::string& extra) {
    return workflow_->on_document(
        document("RecordRecognitionOutcome", id,
                 fmt::format(R"({{"voucherId": "{}", "recognitionCenterBin": "{}",
                                  "region": "191010000", "result": "{}",
                                  "examDate": "2025-09-15", "protocolSignedOn": "2025-09-16"{}}})",
                             kVoucher, kCenter, extra.empty() ? "failed" : "passed", extra)),
        *view_, now);
  };
  commit(outcome("m-o1", ""), "gov:o1");
  auto e = commit(outcome("m-o2", R"(, "appealDecidedOn": "2025-09-25")"), "gov:o2");
  ASSERT_THAT(routes(e), ElementsAre("ais.commands/RecordRecognitionOutcome"));
  EXPECT_EQ(body(e.outbox[0]).at("payload").at("appealDecidedOn").as_string(), "2025-09-25");
  EXPECT_EQ(stage(), "used");
  EXPECT_EQ(refused(outcome("m-o3", R"(, "appealDecidedOn": "2025-09-26")")).reason,
            Reason::domain_inconsistent);
}

}  // namespace
}  // namespace nqs::workflow
