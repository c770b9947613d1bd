// nqs-adapter demo against the fixture's running daemon: one voucher from application to payment
// and one refusal, each step printed in order with what went in, what came out, the stage and
// the next deadline; what it printed is what the broker and the store saw.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon_fixture.hpp"

namespace nqs::test {
namespace {

using ::testing::HasSubstr;

class Demo : public DaemonWithBroker {
 protected:
  void SetUp() override {
    DaemonWithBroker::SetUp();
    start_daemon();
  }

  // Each of `expected` found in `text` after the one before it; the first one missing.
  static std::optional<std::string> missing_in_order(const std::string& text,
                                                     const std::vector<std::string>& expected) {
    std::size_t at = 0;
    for (const auto& part : expected) {
      const auto found = text.find(part, at);
      if (found == std::string::npos) return part;
      at = found + part.size();
    }
    return std::nullopt;
  }

  std::vector<std::string> routing_keys(const char* queue) {
    std::vector<std::string> keys;
    for (const auto& message : client_->drain(queue))
      keys.push_back(message.routing_key);
    return keys;
  }

  std::int64_t applications_in(const std::string& stage) const {
    sqlite3* db = nullptr;
    sqlite3_open_v2((dir_.path() / "store.sqlite").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM applications WHERE stage = ?", -1, &statement,
                       nullptr);
    sqlite3_bind_text(statement, 1, stage.c_str(), -1, SQLITE_TRANSIENT);
    const auto count =
        sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : -1;
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return count;
  }

  std::string demo(const std::string& more = "") {
    return fmt::format("demo --pki {} {}", NQS_TEST_PKI_DIR, more);
  }
};

TEST_F(Demo, PlaysAVoucherFromApplicationToPaymentAndARefusalStepByStep) {
  const auto played = cli(demo());
  ASSERT_EQ(played.status, 0) << played.out << "\n" << daemon_->log_text();
  const std::vector<std::string> steps{
      "[1] The AIS says the applicant is registered as unemployed",
      "in   AIS event UnemployedStatusChanged -> nqs.ais.events",
      "now  the adapter keeps it: the applicant may apply",
      "[2] The AIS allocates vouchers to the region for ",
      "in   AIS event QuotaAllocated",
      "now  750000000 has 10 vouchers a year for ",
      "[3] The applicant applies on the NQS platform",
      "in   VoucherApplication, signed by the applicant (IIN ",
      "out  command RegisterApplication -> ais.commands: reviewDueBy=",
      "now  stage with_career_center; next deadline career_center_review (career_center, Rules 380 "
      "art. 8) due ",
      "[4] The career center reviews it",
      "in   AIS event ApplicationReviewed",
      "now  stage with_lmc; next deadline lmc_forwarding",
      "[5] The labour mobility center forwards it",
      "in   AIS event ApplicationForwarded",
      "out  notification ApplicationToRecognitionCenter, signed by the adapter -> gov.outbound",
      "now  stage with_recognition_center",
      "[6] The recognition center accepts the applicant",
      "in   RecognitionCenterDecision, signed by the center's head (BIN 120340501232)",
      "out  command RecordCenterDecision -> ais.commands: decision=\"accepted\"",
      "now  stage confirmed; next deadline lmc_voucher_issue",
      "[7] The LMC issues the voucher",
      "in   AIS event VoucherIssued",
      "out  notification VoucherDelivered",
      "now  stage voucher_active; next deadline voucher_validity (holder",
      "[8] The holder passes the exam",
      "in   RecognitionOutcome, signed by the center's head",
      "out  command RecordRecognitionOutcome",
      "now  stage used; next deadline service_act (recognition_center",
      "[9] The center sends its act of services",
      "in   ServiceAct, signed by the center's head",
      "out  command RegisterServiceAct -> ais.commands: centerAmount=\"12500.75\" "
      "holderAssistance=\"0.00\" applicantShare=\"0.00\" payDueBy=",
      "now  stage act_received; next deadline lmc_payment (lmc",
      "[10] The LMC pays the center",
      "in   AIS event PaymentMade",
      "\"amount\":\"12500.75\"",
      "now  stage paid; no statutory deadline runs in this stage",
      "[11] Another person applies, whom the AIS has as not registered unemployed",
      "in   AIS event UnemployedStatusChanged",
      "\"registered\":false",
      "in   VoucherApplication, signed by the applicant",
      "out  command RecordAutomaticRefusal -> ais.commands: "
      "reasons=[\"not_registered_unemployed\"]",
      "out  notification ApplicationRefused",
      "now  stage refused_automatic",
      "Summary",
      "from application to payment, 12500.75 tenge paid to the center",
      "in: 5 signed documents and 7 AIS events; out: 5 commands to the AIS and 3 signed "
      "notifications to the bus; no dead letter",
      "Where to look next",
      "nqs-adapter sla list",
      "nqs-adapter dlq list"};
  EXPECT_EQ(missing_in_order(played.out, steps), std::nullopt) << played.out;

  // What it printed is what happened: the commands and notifications on the test's own queues,
  // the two applications in the store, nothing dead-lettered.
  EXPECT_EQ(routing_keys(kCommands),
            (std::vector<std::string>{"RegisterApplication", "RecordCenterDecision",
                                      "RecordRecognitionOutcome", "RegisterServiceAct",
                                      "RecordAutomaticRefusal"}));
  EXPECT_EQ(routing_keys(kOutbound),
            (std::vector<std::string>{"ApplicationToRecognitionCenter", "VoucherDelivered",
                                      "ApplicationRefused"}));
  EXPECT_EQ(applications_in("paid"), 1);
  EXPECT_EQ(applications_in("refused_automatic"), 1);
  EXPECT_TRUE(client_->drain(kDeadLetters).empty());
  EXPECT_TRUE(client_->drain(kAisDeadLetters).empty());

  // A second run plays new people: the region's allocation is used, not allocated again.
  const auto again = cli(demo());
  ASSERT_EQ(again.status, 0) << again.out << "\n" << daemon_->log_text();
  EXPECT_THAT(again.out, HasSubstr("750000000 has 9 of 10 left: no allocation needed"));
  EXPECT_EQ(applications_in("paid"), 2);

  // --step waits for Enter between steps (here, end of input: each wait ends at once).
  const auto stepped = cli(demo("--step </dev/null"));
  EXPECT_EQ(stepped.status, 0) << stepped.out;
  EXPECT_THAT(stepped.out, HasSubstr("(Enter for the next step)"));

  // Without the test PKI, or without a daemon, it says what to do.
  const auto no_pki = cli(fmt::format("demo --pki {}", (dir_.path() / "none").string()));
  EXPECT_EQ(no_pki.status, 1);
  EXPECT_THAT(no_pki.out, HasSubstr("scripts/make-local-pki.sh"));
  ASSERT_EQ(daemon_->stop(), 0);
  const auto no_daemon = cli(demo());
  EXPECT_EQ(no_daemon.status, 1);
  EXPECT_THAT(no_daemon.out, HasSubstr("no daemon consumes nqs.gov.in: start it first"));
}

}  // namespace
}  // namespace nqs::test
