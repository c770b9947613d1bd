// AIS events are parsed strictly: each problem is json.invalid with where it is.
#include "intake/ais_event_parser.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "test_support.hpp"

namespace nqs::intake {

using namespace domain;
namespace {

using ::testing::HasSubstr;

std::string event(const std::string& type, const std::string& payload,
                  const std::string& extra = "") {
  return R"({"eventId": "6f1c2b3a-4d5e-4f60-8a71-b2c3d4e5f607", "type": ")" + type +
         R"(", "occurredAt": "2025-09-02T11:00:00+05:00", "payload": )" + payload + extra + "}";
}

AisEvent accepted(const std::string& body) {
  auto parsed = parse_ais_event(body);
  if (auto* rejection = std::get_if<Rejection>(&parsed)) {
    ADD_FAILURE() << rejection->detail;
    return {};
  }
  return std::get<AisEvent>(parsed);
}

void rejected(const std::string& body, Reason reason, const std::string& detail) {
  auto parsed = parse_ais_event(body);
  const auto* rejection = std::get_if<Rejection>(&parsed);
  ASSERT_NE(rejection, nullptr) << body;
  EXPECT_EQ(code(rejection->reason), code(reason));
  EXPECT_THAT(rejection->detail, HasSubstr(detail));
}

TEST(AisEvents, EveryTypeOfMessagesMd) {
  auto unemployed = accepted(event(
      "UnemployedStatusChanged",
      R"({"iin": "850101300124", "registered": true, "region": "750000000", "since": "2025-08-01"})"));
  EXPECT_EQ(unemployed.event_id, "6f1c2b3a-4d5e-4f60-8a71-b2c3d4e5f607");
  EXPECT_EQ(to_utc_string(unemployed.occurred_at), "2025-09-02T06:00:00.000Z");
  EXPECT_TRUE(std::get<UnemployedStatusChanged>(unemployed.payload).registered);

  auto quota = accepted(event(
      "QuotaAllocated",
      R"({"periodStart": 2025, "periodEnd": 2027, "regions": [{"region": "750000000", "vouchersPerYear": 120}, {"region": "190000000", "vouchersPerYear": 80}]})"));
  EXPECT_EQ(std::get<QuotaAllocated>(quota.payload).regions.at(1).vouchers_per_year, 80);
  // Audit point 4: the period total, alone (shared by its years), or with a breakdown that adds
  // up to it: one number a year, or {year: n}.
  auto shared = accepted(event(
      "QuotaAllocated",
      R"({"periodStart": 2025, "periodEnd": 2027, "regions": [{"region": "750000000", "vouchers": 300}]})"));
  EXPECT_EQ(std::get<QuotaAllocated>(shared.payload).regions.at(0).shared, 300);
  auto by_year = accepted(event(
      "QuotaAllocated",
      R"({"periodStart": 2025, "periodEnd": 2027, "regions": [{"region": "750000000", "vouchers": 300, "vouchersPerYear": {"2025": 50, "2026": 100, "2027": 150}}]})"));
  const auto& region = std::get<QuotaAllocated>(by_year.payload).regions.at(0);
  EXPECT_EQ(region.shared, -1);
  EXPECT_EQ(region.for_year(2026), 100);
  accepted(event(
      "QuotaAllocated",
      R"({"periodStart": 2025, "periodEnd": 2027, "regions": [{"region": "750000000", "vouchers": 300, "vouchersPerYear": 100}]})"));

  auto reviewed = accepted(event(
      "ApplicationReviewed",
      R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "decision": "refuse", "reasons": ["incomplete_documents", "requirements_not_met"], "comment": "no diploma"})"));
  EXPECT_FALSE(std::get<ApplicationReviewed>(reviewed.payload).forward);
  accepted(event(
      "ApplicationReviewed",
      R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "decision": "forward", "reasons": []})"));
  accepted(event("ApplicationForwarded",
                 R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10"})"));
  accepted(event(
      "ApplicationRefused",
      R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "reasons": ["center refused"]})"));
  auto issued = accepted(event(
      "VoucherIssued",
      R"({"voucherId": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "issuedOn": "2025-09-10"})"));
  EXPECT_EQ(calendar::to_string(std::get<VoucherIssued>(issued.payload).issued_on), "2025-09-10");
  accepted(event(
      "VoucherExtended",
      R"({"voucherId": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "sheetNumber": "LN-1", "validUntil": "2025-11-19"})"));
  auto sheet = accepted(event(
      "SickLeaveRecorded",
      R"({"voucherId": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "holderIin": "850101300124", "sheetNumber": "LN-2", "from": "2025-09-20", "to": "2025-09-29"})"));
  EXPECT_EQ(std::get<SickLeaveRecorded>(sheet.payload).sheet_number, "LN-2");
  EXPECT_EQ(calendar::to_string(std::get<SickLeaveRecorded>(sheet.payload).to), "2025-09-29");
  rejected(
      event(
          "SickLeaveRecorded",
          R"({"voucherId": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "holderIin": "850101300124", "sheetNumber": "LN-2", "from": "2025-09-20", "to": "2025-09-19"})"),
      Reason::json_invalid, "payload.to 2025-09-19 is before payload.from 2025-09-20");
  auto paid = accepted(event(
      "PaymentMade",
      R"({"actNumber": "ACT-1", "payee": "holder", "amount": "23592.00", "paidOn": "2025-10-20"})"));
  EXPECT_EQ(std::get<PaymentMade>(paid.payload).amount_tiyn, 2'359'200);
  EXPECT_FALSE(std::get<PaymentMade>(paid.payload).to_center);
  // The holder of an act of several persons is named (audit point 12); the center never is.
  auto holder = accepted(event(
      "PaymentMade",
      R"({"actNumber": "ACT-1", "payee": "holder", "voucherId": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "amount": "23592.00", "paidOn": "2025-10-20"})"));
  EXPECT_EQ(std::get<PaymentMade>(holder.payload).voucher_id,
            "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d");
  rejected(
      event(
          "PaymentMade",
          R"({"actNumber": "ACT-1", "payee": "center", "voucherId": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "amount": "23592.00", "paidOn": "2025-10-20"})"),
      Reason::json_invalid, "the center is paid per act");
}

// Audit point 9: the career center refuses on art. 8's grounds, a closed list, with an optional
// comment; point 8: the profile it confirms comes with a forward only.
TEST(AisEvents, Art8_TheCareerCentersGroundsAreAClosedListAndTheProfileComesWithAForward) {
  struct Case {
    const char* payload_tail;  // after applicationId
    const char* problem;       // nullptr: accepted
  };
  const Case cases[] = {
      {R"("decision": "refuse", "reasons": ["incomplete_documents"])", nullptr},
      {R"("decision": "refuse", "reasons": ["application_incorrect", "requirements_not_met"], "comment": "no diploma")",
       nullptr},
      {R"("decision": "forward", "reasons": [], "profile": "social_humanitarian")", nullptr},
      {R"("decision": "forward", "reasons": [], "profile": "technical", "comment": "checked")",
       nullptr},
      {R"("decision": "refuse", "reasons": ["incomplete_documents", "too old"])",
       "payload.reasons[1]: Failed to match against any enum values. (given 'too old')"},
      {R"("decision": "refuse", "reasons": ["incomplete documents"])",
       "payload.reasons[0]: Failed to match against any enum values. (given 'incomplete "
       "documents')"},
      {R"("decision": "refuse", "reasons": ["application_incorrect"], "profile": "technical")",
       "payload.profile is given only with the decision forward"},
      {R"("decision": "forward", "reasons": [], "profile": "artistic")",
       "payload.profile: Failed to match against any enum values. (given 'artistic')"},
  };
  for (const auto& c : cases) {
    const auto body =
        event("ApplicationReviewed",
              std::string(R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", )") +
                  c.payload_tail + "}");
    if (c.problem == nullptr) {
      accepted(body);
    } else {
      rejected(body, Reason::json_invalid, c.problem);
    }
  }
  const auto profiled = accepted(event(
      "ApplicationReviewed",
      R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "decision": "forward", "reasons": [], "profile": "social_humanitarian"})"));
  EXPECT_EQ(std::get<ApplicationReviewed>(profiled.payload).profile, "social_humanitarian");
  const auto commented = accepted(event(
      "ApplicationReviewed",
      R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "decision": "refuse", "reasons": ["requirements_not_met"], "comment": "3 years of experience needed"})"));
  EXPECT_EQ(std::get<ApplicationReviewed>(commented.payload).comment,
            "3 years of experience needed");
}

TEST(AisEvents, InvalidEventsSayWhatAndWhere) {
  rejected("{not json", Reason::json_invalid, "not JSON");
  rejected("[1, 2]", Reason::json_invalid,
           "the event: Value type not permitted by 'type' constraint");
  // A key given twice is refused, never decided by the last one, and named with where it is.
  rejected(
      event(
          "ApplicationForwarded",
          R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "applicationId": "1b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10"})"),
      Reason::json_invalid, "the key 'applicationId' is given twice in payload");
  rejected(
      R"({"eventId": "e0000000-0000-4000-8000-000000000001", "eventId": "e0000000-0000-4000-8000-000000000002"})",
      Reason::json_invalid, "the key 'eventId' is given twice in the top-level object");
  rejected(
      event(
          "QuotaAllocated",
          R"({"periodStart": 2025, "periodEnd": 2027, "regions": [{"region": "750000000", "vouchersPerYear": 1}, {"region": "750000000", "region": "710000000", "vouchersPerYear": 1}]})"),
      Reason::json_invalid, "the key 'region' is given twice in payload.regions[1]");
  rejected(
      event(
          "QuotaAllocated",
          R"({"periodStart": 2025, "periodEnd": 2027, "regions": [{"region": "750000000", "vouchers": 300, "vouchersPerYear": 90}]})"),
      Reason::json_invalid,
      "payload.regions[0]: vouchersPerYear adds up to 270 for 2025-2027, vouchers says 300");
  rejected(
      event(
          "QuotaAllocated",
          R"({"periodStart": 2025, "periodEnd": 2027, "regions": [{"region": "750000000", "vouchersPerYear": {"2025": 1, "2026": 1}}]})"),
      Reason::json_invalid, "payload.regions[0].vouchersPerYear.2027 is missing");
  rejected(
      event(
          "QuotaAllocated",
          R"({"periodStart": 2025, "periodEnd": 2025, "regions": [{"region": "750000000", "vouchersPerYear": {"2025": 1, "2024": 1}}]})"),
      Reason::json_invalid, "2024");
  rejected(
      event("QuotaAllocated",
            R"({"periodStart": 2025, "periodEnd": 2025, "regions": [{"region": "750000000"}]})"),
      Reason::json_invalid, "payload.regions[0]: Missing required property 'vouchers'");
  // Taken at oblast level (audit point 3): a district of an oblast already given is the same.
  rejected(
      event(
          "QuotaAllocated",
          R"({"periodStart": 2025, "periodEnd": 2027, "regions": [{"region": "750000000", "vouchersPerYear": 1}, {"region": "751110000", "vouchersPerYear": 2}]})"),
      Reason::json_invalid,
      "payload.regions: region 751110000 is in oblast 750000000, given already");
  rejected(R"({"type": "ApplicationForwarded"})", Reason::json_invalid,
           "the event: Missing required property 'eventId'");
  rejected(
      event("ApplicationForwarded", R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10"})",
            R"(, "extra": 1)"),
      Reason::json_invalid,
      "the event: Object contains a property that could not be validated using 'properties' or "
      "'additionalProperties' constraints: 'extra'");
  rejected(event("ApplicationForwarded",
                 R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "note": "x"})"),
           Reason::json_invalid,
           "payload: Object contains a property that could not be validated using 'properties' or "
           "'additionalProperties' constraints: 'note'");
  rejected(event("ApplicationForwarded", R"({"applicationId": "app-1"})"), Reason::json_invalid,
           "payload.applicationId: Failed to match regex specified by 'pattern' constraint. (given "
           "'app-1')");
  rejected(
      event("ApplicationReviewed",
            R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "decision": "refuse"})"),
      Reason::json_invalid, "payload.reasons is required when the decision is refuse");
  rejected(
      event(
          "ApplicationReviewed",
          R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "decision": "maybe", "reasons": []})"),
      Reason::json_invalid,
      "payload.decision: Failed to match against any enum values. (given 'maybe')");
  rejected(
      event(
          "VoucherIssued",
          R"({"voucherId": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "issuedOn": "2025-02-30"})"),
      Reason::json_invalid, "payload.issuedOn: '2025-02-30' is not a date");
  rejected(
      event("PaymentMade",
            R"({"actNumber": "A", "payee": "center", "amount": 100.5, "paidOn": "2025-10-20"})"),
      Reason::json_invalid, "payload.amount: Value type not permitted by 'type' constraint");
  rejected(
      event(
          "PaymentMade",
          R"({"actNumber": "A", "payee": "center", "amount": "100.505", "paidOn": "2025-10-20"})"),
      Reason::json_invalid,
      "payload.amount: Failed to match regex specified by 'pattern' constraint. (given '100.505')");
  rejected(
      event(
          "QuotaAllocated",
          R"({"periodStart": 2027, "periodEnd": 2025, "regions": [{"region": "750000000", "vouchersPerYear": 1}]})"),
      Reason::json_invalid, "periodEnd 2025 is before periodStart 2027");
  rejected(
      event(
          "QuotaAllocated",
          R"({"periodStart": 2025, "periodEnd": 2027, "regions": [{"region": "750000000", "vouchersPerYear": -1}]})"),
      Reason::json_invalid,
      "payload.regions[0].vouchersPerYear: Expected number greater than or equal to 0");
  rejected(event("VoucherRecalled", R"({})"), Reason::json_invalid,
           "type: Failed to match against any enum values. (given 'VoucherRecalled')");
  rejected(
      event(
          "UnemployedStatusChanged",
          R"({"iin": "850101300125", "registered": true, "region": "750000000", "since": "2025-08-01"})"),
      Reason::domain_invalid_identifier, "payload.iin: '850101300125' fails its check digit");
  rejected(std::string(300 * 1024, ' '), Reason::json_invalid, "at most 262144 are accepted");
  rejected(
      R"({"eventId": "6f1c2b3a-4d5e-4f60-8a71-b2c3d4e5f607", "type": "ApplicationForwarded", "occurredAt": "2025-09-02 11:00", "payload": {"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10"}})",
      Reason::json_invalid,
      "occurredAt: Failed to match regex specified by 'pattern' constraint. (given '2025-09-02 "
      "11:00')");
  // The shape is the schema's; a real instant is the parser's.
  rejected(
      R"({"eventId": "6f1c2b3a-4d5e-4f60-8a71-b2c3d4e5f607", "type": "ApplicationForwarded", "occurredAt": "2025-13-02T11:00:00+05:00", "payload": {"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10"}})",
      Reason::json_invalid, "occurredAt: '2025-13-02T11:00:00+05:00' is not an instant");
}

// json-schema/ais-event.schema.json is the contract the AIS team is given and the one enforced:
// every type it names has a reader here, and each payload is checked by its own definition.
TEST(AisEvents, TheSchemaFileIsTheContractEnforced) {
  const auto schema =
      boost::json::parse(test::read_file(test::source_path("json-schema/ais-event.schema.json")));
  const auto& types = schema.at("properties").at("type").at("enum").as_array();
  EXPECT_EQ(types.size(), 9U);
  for (const auto& type : types) {
    const std::string name(type.as_string());
    // An empty payload is refused by the definition of its own type, never as an unknown type.
    auto parsed = parse_ais_event(event(name, "{}"));
    const auto* rejection = std::get_if<Rejection>(&parsed);
    ASSERT_NE(rejection, nullptr) << name;
    EXPECT_THAT(rejection->detail, ::testing::StartsWith("payload: Missing required property"))
        << name;
    EXPECT_TRUE(schema.at("definitions").as_object().contains(name)) << name;
  }
  // Bounds a schema gives that the old reader did not: at most 20 reasons of 256 characters.
  std::string reasons = R"(["r")";
  for (int i = 0; i < 20; ++i)
    reasons += R"(, "r")";
  rejected(event("ApplicationRefused",
                 R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "reasons": )" +
                     reasons + "]}"),
           Reason::json_invalid, "payload.reasons: Array should contain no more than 20");
  rejected(event("VoucherExtended",
                 R"({"voucherId": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "sheetNumber": ")" +
                     std::string(129, 'x') + R"(", "validUntil": "2025-11-19"})"),
           Reason::json_invalid, "payload.sheetNumber: String should be no more than 128");
}

}  // namespace
}  // namespace nqs::intake
