// The voucher's process end to end through a real RabbitMQ: signed documents on nqs.gov.in, JSON
// events on nqs.ais.events, AIS commands and signed notifications out (the notifications verified
// with the xmlsec1 command-line tool), dead letters for what does not fit, and a replay.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>

#include "calendar/working_calendar.hpp"
#include "calendar_support.hpp"
#include "common/ids.hpp"
#include "configuration/config.hpp"
#include "daemon_fixture.hpp"
#include "gost/algorithms.hpp"
#include "store/sql_store.hpp"

namespace nqs::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kApplication = "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10";  // the fixtures'
constexpr const char* kVoucher = "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d";
constexpr const char* kIin = "850101300124";

Instant now_ms() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string application_id(int n) {
  return fmt::format("a1000000-0000-4000-8000-{:012d}", n);
}

// Today in Kazakhstan (UTC+5 since 2024-03-01): the daemon runs on the real clock.
calendar::Date today_date() {
  const auto local = std::chrono::system_clock::now() + std::chrono::hours{5};
  return std::chrono::floor<date::days>(local);
}
std::string today() {
  return calendar::to_string(today_date());
}

class LifecycleWithBroker : public DaemonWithBroker {
 protected:
  void SetUp() override {
    extra_config_ = extra_config();
    DaemonWithBroker::SetUp();
    start_daemon();
  }
  virtual std::string extra_config() { return ""; }

  void publish_document(const std::string& bytes, const std::string& message_id) {
    client_->publish(kGovIn, with_message_id(bytes, message_id), message_id);
  }

  // Publishes an AIS event; returns its eventId.
  std::string publish_event(const std::string& type, const std::string& payload) {
    const auto id = fmt::format("e0000000-0000-4000-8000-{:012d}", ++events_);
    const auto body = fmt::format(
        R"({{"eventId": "{}", "type": "{}", "occurredAt": "{}", "payload": {}}})", id, type,
        to_utc_string(std::chrono::time_point_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now())),
        payload);
    client_->publish(kAisEvents, body, id, "application/json");
    return id;
  }

  // Waits for the input to be committed (for events that cause no message).
  void await_input(const std::string& key) {
    ASSERT_TRUE(eventually([&] {
      return count("SELECT count(*) FROM inbox WHERE input_key = ?", key) == 1;
    })) << key
        << "\n"
        << daemon_->log_text();
  }

  // The next message on one of the test's queues with this routing key and correlation id.
  Received await_output(const std::string& queue, const std::string& routing_key,
                        const std::string& correlation_id) {
    Received found;
    const bool ok = eventually([&] {
      for (auto& message : client_->drain(queue))
        seen_[queue].push_back(std::move(message));
      auto& messages = seen_[queue];
      for (auto it = messages.begin(); it != messages.end(); ++it) {
        if (it->routing_key == routing_key && it->properties.correlation_id == correlation_id) {
          found = std::move(*it);
          messages.erase(it);
          return true;
        }
      }
      return false;
    });
    EXPECT_TRUE(ok) << "no " << routing_key << " for " << correlation_id << " on " << queue << "\n"
                    << daemon_->log_text();
    return found;
  }
  Received await_command(const std::string& type, const std::string& application) {
    return await_output(kCommands, type, application);
  }
  Received await_notification(const std::string& document, const std::string& application) {
    auto notification = await_output(kOutbound, document, application);
    if (gost_) {
      // xmlsec1 has no GOST: the adapter's own verification path, as a receiver's would be.
      EXPECT_EQ(verify_as_a_receiver(notification.body), std::nullopt) << document;
      EXPECT_THAT(notification.body, HasSubstr(std::string(gost::kGost2015_512Uri)));
    } else {
      EXPECT_EQ(xmlsec1_verify(notification.body, document), 0)
          << document << " does not verify with xmlsec1:\n"
          << read_file(dir_.path() / "xmlsec1.out");
    }
    return notification;
  }

  // A signed notification checked as a receiver on the bus would: the profile, the certificate
  // chain to the GOST test anchors with their CRLs, the signature value and digest.
  static std::optional<std::string> verify_as_a_receiver(const std::string& bytes) {
    xml::XmlDoc doc(xmlReadMemory(bytes.data(), static_cast<int>(bytes.size()), nullptr, nullptr,
                                  XML_PARSE_NONET));
    if (!doc) return "not XML";
    xmlNode* document = Envelope::find_in(xmlDocGetRootElement(doc.get()), "data");
    if (document == nullptr) return "no data";
    document = xml::element_children(document).front();
    xmldsig::AlgorithmPolicy policy;
    policy.allowed = {std::string(gost::kGost2015_512Uri), std::string(gost::kStreebog512Uri)};
    auto parts = xmldsig::check_signature_profile(document, policy);
    if (auto* rejection = std::get_if<Rejection>(&parts)) return rejection->detail;
    const auto& signature = std::get<xmldsig::SignatureParts>(parts);
    std::vector<std::string> problems;
    const std::string pki = NQS_TEST_PKI_DIR;
    xmldsig::TrustSettings settings;
    settings.anchors = {pki + "/gost-ca-chain.pem"};
    settings.crls = {pki + "/gost-root.crl.pem", pki + "/gost-issuing.crl.pem"};
    auto trust = xmldsig::TrustStore::load(settings, problems);
    if (!trust) return join(problems);
    auto verified = trust->verify(
        signature.leaf_der, signature.intermediates_der,
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
    if (auto* rejection = std::get_if<Rejection>(&verified)) return rejection->detail;
    auto invalid = xmldsig::verify_signature(
        signature,
        std::get<std::shared_ptr<const xmldsig::VerifiedCertificate>>(verified)->public_key(),
        policy);
    if (invalid) return invalid->detail;
    return std::nullopt;
  }

  static boost::json::object payload_of(const Received& command) {
    return boost::json::parse(command.body).at("payload").as_object();
  }

  // Verifies a notification with the xmlsec1 command-line tool against the test PKI.
  int xmlsec1_verify(const std::string& bytes, const std::string& element) {
    const auto file = dir_.write("notification.xml", bytes);
    const std::string command = fmt::format(
        "xmlsec1 --verify --trusted-pem {}/ca-chain.pem --id-attr:Id urn:kz:enbek:nqs:voucher:1:{} "
        "{} >{} 2>&1",
        NQS_TEST_PKI_DIR, element, file.string(), (dir_.path() / "xmlsec1.out").string());
    return std::system(command.c_str());
  }

  // The first column of the first row `sql` gives with `parameter`, read by `read` (or `none`),
  // over a read-only connection of its own while the daemon runs.
  template <typename T, typename Read>
  T first_cell(const char* sql, const std::string& parameter, Read read, T none) const {
    sqlite3* db = nullptr;
    sqlite3_open_v2((dir_.path() / "store.sqlite").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &statement, nullptr);
    sqlite3_bind_text(statement, 1, parameter.c_str(), -1, SQLITE_TRANSIENT);
    T value = sqlite3_step(statement) == SQLITE_ROW ? read(statement) : std::move(none);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return value;
  }
  std::int64_t count(const char* sql, const std::string& parameter) const {
    return first_cell(
        sql, parameter, [](sqlite3_stmt* row) { return sqlite3_column_int64(row, 0); },
        std::int64_t{-1});
  }
  // The bytes the evidence archive keeps for an evidence id; "(none)" when it has no such record.
  std::string archived(const std::string& evidence_id) const {
    return first_cell(
        "SELECT body FROM evidence WHERE evidence_id = ?", evidence_id,
        [](sqlite3_stmt* row) {
          return std::string(static_cast<const char*>(sqlite3_column_blob(row, 0)),
                             static_cast<std::size_t>(sqlite3_column_bytes(row, 0)));
        },
        std::string("(none)"));
  }
  std::string stage_of(const std::string& application) const {
    for (const char* stage : {"with_career_center", "refused_career_center", "refused_automatic",
                              "with_lmc", "with_recognition_center", "rejected_by_center",
                              "refused_recognition_center", "confirmed", "voucher_active",
                              "extension_requested", "used", "act_received", "paid", "annulled"}) {
      if (count(fmt::format("SELECT count(*) FROM applications WHERE application_id = ? AND "
                            "stage = '{}'",
                            stage)
                    .c_str(),
                application) == 1) {
        return stage;
      }
    }
    return "none";
  }
  std::int64_t reserved(const std::string& region) const {
    return count("SELECT reserved FROM quota WHERE region = ? AND year = 2025", region);
  }

  // Publishes the AIS's word that the applicant is (or is no longer) registered as unemployed
  // since `since`; returns its eventId.
  std::string unemployment_changed(bool registered, const std::string& since) {
    return publish_event("UnemployedStatusChanged",
                         fmt::format(R"({{"iin": "{}", "registered": {}, "region": "750000000",
                                         "since": "{}"}})",
                                     kIin, registered, since));
  }

  // The applicant is registered as unemployed and the region has vouchers for 2025-2027.
  void registered_with_quota() {
    const auto unemployed = unemployment_changed(true, "2025-01-10");
    const auto quota = publish_event("QuotaAllocated", R"({"periodStart": 2025, "periodEnd": 2027,
        "regions": [{"region": "750000000", "vouchersPerYear": 5}]})");
    await_input("ais:" + unemployed);
    await_input("ais:" + quota);
  }

  static std::string application(const std::string& id) {
    Envelope envelope("voucher-application");
    envelope.set_text("ApplicationId", id);
    return envelope.sign("individual-sign").bytes();
  }
  static std::string center_decision(const std::string& id, bool accepted) {
    Envelope envelope("recognition-center-decision");
    envelope.set_text("ApplicationId", id);
    if (!accepted) {
      envelope.set_text("Decision", "rejected");
      envelope.insert_after("Decision", "Reason", "Стаж работы не подтверждён");
    }
    return envelope.sign("center-head").bytes();
  }

  // From a new application to the center's confirmation.
  void confirmed(const std::string& id, int n) {
    publish_document(application(id), message_id_of(n));
    await_command("RegisterApplication", id);
    await_input("ais:" +
                publish_event("ApplicationReviewed", fmt::format(R"({{"applicationId": "{}",
                                                     "decision": "forward", "reasons": []}})",
                                                                 id)));
    publish_event("ApplicationForwarded", fmt::format(R"({{"applicationId": "{}"}})", id));
    await_notification("ApplicationToRecognitionCenter", id);
    publish_document(center_decision(id, true), message_id_of(n + 1));
    EXPECT_EQ(payload_of(await_command("RecordCenterDecision", id)).at("decision").as_string(),
              "accepted");
  }

  // Art. 10: the AIS issues the fixture application's voucher today; the holder is told.
  Received voucher_issued_today() {
    publish_event("VoucherIssued",
                  fmt::format(R"({{"voucherId": "{}", "applicationId": "{}", "issuedOn": "{}"}})",
                              kVoucher, kApplication, today()));
    return await_notification("VoucherDelivered", kApplication);
  }

  // The center's outcome of an exam held on `exam`, its protocol signed on `protocol`.
  static Envelope outcome(const calendar::Date& exam, const calendar::Date& protocol) {
    Envelope envelope("recognition-outcome");
    envelope.set_text("ExamDate", calendar::to_string(exam));
    envelope.set_text("ProtocolSignedOn", calendar::to_string(protocol));
    return envelope;
  }
  // The holder's sick-leave sheet, submitted at `submitted_at`.
  static std::string sick_leave(const std::string& sheet, const calendar::Date& from,
                                const calendar::Date& to, Instant submitted_at) {
    Envelope envelope("sick-leave-notice");
    envelope.set_text("SheetNumber", sheet);
    envelope.set_text("From", calendar::to_string(from));
    envelope.set_text("To", calendar::to_string(to));
    envelope.set_text("SubmittedAt", test::almaty_calendar().local_string(submitted_at));
    return envelope.sign("individual-sign").bytes();
  }

  // Whether a command of this type was sent, among those not yet awaited and those still queued.
  bool sent_command(const std::string& type) {
    for (auto& message : client_->drain(kCommands))
      seen_[kCommands].push_back(std::move(message));
    for (const auto& message : seen_[kCommands]) {
      if (message.routing_key == type) return true;
    }
    return false;
  }

  // A burst of refusals: the daemon decides them in batches and signs each batch's notifications
  // on all its workers at once (processing.workers, one per core). Each notification is signed
  // whole and verifies, and each goes out with its own command.
  void a_burst_of_refusals() {
    const auto deregistered = unemployment_changed(false, "2025-02-10");
    await_input("ais:" + deregistered);
    constexpr int kBurst = 16;
    for (int i = 0; i < kBurst; ++i)
      publish_document(application(application_id(100 + i)), message_id_of(100 + i));
    for (int i = 0; i < kBurst; ++i) {
      EXPECT_THAT(payload_of(await_command("RecordAutomaticRefusal", application_id(100 + i)))
                      .at("reasons")
                      .as_array(),
                  ElementsAre("not_registered_unemployed", "no_quota_left"));
      auto refusal = await_notification("ApplicationRefused", application_id(100 + i));
      EXPECT_THAT(refusal.body, HasSubstr(application_id(100 + i)));
    }
  }

  int events_ = 0;
  bool gost_ = false;  // GOST documents and a GOST-signing adapter
  std::map<std::string, std::vector<Received>> seen_;
};

// A deployment as NCA RK's keys are today: applicants and centers sign with GOST (a center's head
// with a GOST 34.310-2004 key too), the adapter signs with its GOST key from its PKCS#12.
class GostLifecycleWithBroker : public LifecycleWithBroker {
 protected:
  void SetUp() override {
    flavor() = Flavor::gost;
    gost_ = true;
    const std::string pki = NQS_TEST_PKI_DIR;
    signing_ = signing_value(pki, true);
    LifecycleWithBroker::SetUp();
  }
  void TearDown() override { flavor() = Flavor::rsa; }
};

TEST_F(GostLifecycleWithBroker, GostDocumentsFromApplicationToActAndGostSignedNotifications) {
  registered_with_quota();
  confirmed(kApplication, 1);
  voucher_issued_today();
  // The center's outcome and act signed with its head's GOST 34.310-2004 key, as NCALayer signs.
  const auto kalkan = nca_layer_profile();
  publish_document(
      outcome(today_date(), today_date()).sign_exactly("gost-center-head-2004", kalkan).bytes(),
      message_id_of(4));
  await_command("RecordRecognitionOutcome", kApplication);
  publish_document(Envelope("service-act").sign_exactly("gost-center-head-2004", kalkan).bytes(),
                   message_id_of(5));
  const auto act = payload_of(await_command("RegisterServiceAct", kApplication));
  EXPECT_EQ(act.at("centerAmount").as_string(), "12500.75");
  EXPECT_TRUE(client_->drain(kDeadLetters).empty());
  EXPECT_EQ(daemon_->stop(), 0);
}

TEST_F(LifecycleWithBroker, TheHappyPathFromApplicationToPaymentWithASickLeaveExtension) {
  registered_with_quota();
  confirmed(kApplication, 1);
  EXPECT_EQ(stage_of(kApplication), "confirmed");
  EXPECT_EQ(reserved("750000000"), 1);

  // Art. 10: the voucher, valid 60 calendar days after the day of issue.
  const auto delivered = voucher_issued_today();
  EXPECT_THAT(delivered.body, HasSubstr(kVoucher));
  EXPECT_EQ(count("SELECT count(*) FROM timers WHERE kind = 'voucher_expiry' AND subject = ?",
                  kApplication),
            1)
      << "the expiry timer is a row";

  // Art. 12-13: a sick-leave sheet of today, one day, extends it to 61 days.
  publish_document(sick_leave("ЛН-000123", today_date(), today_date(), now_ms()), message_id_of(3));
  const auto recorded = payload_of(await_command("RecordSickLeave", kApplication));
  const std::string valid_until(recorded.at("validUntil").as_string());
  EXPECT_EQ(valid_until, calendar::to_string(today_date() + date::days{61}));
  EXPECT_TRUE(recorded.contains("extendDueBy"));
  publish_event("VoucherExtended", fmt::format(R"({{"voucherId": "{}", "sheetNumber": "ЛН-000123",
                                "validUntil": "{}"}})",
                                               kVoucher, valid_until));
  const auto extended = await_notification("VoucherValidityExtended", kApplication);
  EXPECT_THAT(extended.body, HasSubstr(valid_until));

  // The exam, then the act: the reimbursement computed by the adapter (art. 14-15).
  publish_document(outcome(today_date(), today_date()).sign("center-head").bytes(),
                   message_id_of(4));
  await_command("RecordRecognitionOutcome", kApplication);
  EXPECT_EQ(count("SELECT count(*) FROM timers WHERE kind = 'voucher_expiry' AND subject = ?",
                  kApplication),
            0)
      << "a used voucher is not annulled";
  publish_document(Envelope("service-act").sign("center-head").bytes(), message_id_of(5));
  const auto act = payload_of(await_command("RegisterServiceAct", kApplication));
  // 12 500.75 tenge for a technical profession: below 7 MCI, all reimbursed; the exam in the
  // holder's own oblast: no assistance.
  EXPECT_EQ(act.at("centerAmount").as_string(), "12500.75");
  EXPECT_EQ(act.at("holderAssistance").as_string(), "0.00");
  EXPECT_EQ(act.at("applicantShare").as_string(), "0.00");
  EXPECT_TRUE(act.contains("payDueBy"));

  // A payment of another amount is inconsistent; the right one closes the case.
  const auto wrong = publish_event(
      "PaymentMade", R"({"actNumber": "АКТ-2025-0042", "payee": "center", "amount": "12500.00",
                        "paidOn": "2025-10-20"})");
  Received letter;
  ASSERT_TRUE(eventually([&] {
    auto letters = client_->drain(kAisDeadLetters);
    if (letters.empty()) return false;
    letter = letters.front();
    return true;
  })) << daemon_->log_text();
  EXPECT_EQ(letter.properties.headers.at("x-nqs-message-id").as_string(), wrong);
  EXPECT_EQ(letter.properties.headers.at("x-nqs-reason").as_string(), "domain.inconsistent");
  const auto paid = publish_event(
      "PaymentMade", R"({"actNumber": "АКТ-2025-0042", "payee": "center", "amount": "12500.75",
                        "paidOn": "2025-10-20"})");
  await_input("ais:" + paid);
  EXPECT_EQ(stage_of(kApplication), "paid");
  EXPECT_EQ(reserved("750000000"), 1) << "a used voucher keeps its unit";
  EXPECT_EQ(daemon_->stop(), 0);
}

TEST_F(LifecycleWithBroker, EachRefusalGoesToBothSidesAndReleasesTheUnit) {
  registered_with_quota();
  publish_document(application(application_id(1)), message_id_of(1));
  await_command("RegisterApplication", application_id(1));
  // The AIS then says the person is no longer registered as unemployed: a second application is
  // refused on ground (a) of art. 3, to the AIS and, signed, to the bus (the first one in progress
  // is no ground of its own).
  const auto deregistered = unemployment_changed(false, "2025-02-10");
  await_input("ais:" + deregistered);
  publish_document(application(application_id(2)), message_id_of(2));
  EXPECT_THAT(payload_of(await_command("RecordAutomaticRefusal", application_id(2)))
                  .at("reasons")
                  .as_array(),
              ElementsAre("not_registered_unemployed"));
  auto refusal = await_notification("ApplicationRefused", application_id(2));
  EXPECT_THAT(refusal.body, HasSubstr("<v:Stage>automatic</v:Stage>"));
  const auto registered_again = unemployment_changed(true, "2025-03-10");
  await_input("ais:" + registered_again);

  // Art. 8: the career center refuses the first.
  publish_event("ApplicationReviewed", fmt::format(R"({{"applicationId": "{}", "decision": "refuse",
                                "reasons": ["incomplete_documents"]}})",
                                                   application_id(1)));
  refusal = await_notification("ApplicationRefused", application_id(1));
  EXPECT_THAT(refusal.body, HasSubstr("<v:Stage>career_center</v:Stage>"));
  EXPECT_THAT(refusal.body, HasSubstr("incomplete_documents"));
  EXPECT_EQ(stage_of(application_id(1)), "refused_career_center");
  EXPECT_EQ(reserved("750000000"), 0) << "released";

  // Art. 9: the recognition center rejects a third; the LMC's refusal follows.
  publish_document(application(application_id(3)), message_id_of(3));
  await_command("RegisterApplication", application_id(3));
  publish_event("ApplicationReviewed",
                fmt::format(R"({{"applicationId": "{}", "decision": "forward", "reasons": []}})",
                            application_id(3)));
  publish_event("ApplicationForwarded",
                fmt::format(R"({{"applicationId": "{}"}})", application_id(3)));
  await_notification("ApplicationToRecognitionCenter", application_id(3));
  publish_document(center_decision(application_id(3), false), message_id_of(4));
  const auto decision = payload_of(await_command("RecordCenterDecision", application_id(3)));
  EXPECT_EQ(decision.at("decision").as_string(), "rejected");
  EXPECT_TRUE(decision.contains("actionDueBy"));
  publish_event("ApplicationRefused",
                fmt::format(R"({{"applicationId": "{}", "reasons": ["center_rejected"]}})",
                            application_id(3)));
  refusal = await_notification("ApplicationRefused", application_id(3));
  EXPECT_THAT(refusal.body, HasSubstr("<v:Stage>recognition_center</v:Stage>"));
  EXPECT_EQ(stage_of(application_id(3)), "refused_recognition_center");
  EXPECT_EQ(reserved("750000000"), 0);
  EXPECT_TRUE(client_->drain(kDeadLetters).empty());
  EXPECT_TRUE(client_->drain(kAisDeadLetters).empty());
  EXPECT_EQ(daemon_->stop(), 0);
}

// Issue 18: every signed document accepted and every signed notification sent is archived with
// its exact bytes, in the input's transaction, in one unbroken chain; AIS events (unsigned JSON)
// are not; each command a signed document causes carries the link to its original.
TEST_F(LifecycleWithBroker, SignedMessagesAreArchivedExactlyAndCommandsLinkTheirOriginal) {
  registered_with_quota();
  const auto first = with_message_id(application(application_id(1)), message_id_of(1));
  client_->publish(kGovIn, first, message_id_of(1));
  const auto registered =
      boost::json::parse(await_command("RegisterApplication", application_id(1)).body);
  EXPECT_EQ(registered.at("evidence").at("id").as_string(), "received:" + message_id_of(1));
  EXPECT_EQ(registered.at("evidence").at("sha256").as_string(), sha256_hex(first));
  EXPECT_EQ(archived("received:" + message_id_of(1)), first);

  const auto deregistered = unemployment_changed(false, "2025-02-10");
  await_input("ais:" + deregistered);
  const auto second = with_message_id(application(application_id(2)), message_id_of(2));
  client_->publish(kGovIn, second, message_id_of(2));
  const auto refused =
      boost::json::parse(await_command("RecordAutomaticRefusal", application_id(2)).body);
  EXPECT_EQ(refused.at("evidence").at("sha256").as_string(), sha256_hex(second));
  const auto refusal = await_notification("ApplicationRefused", application_id(2));
  EXPECT_EQ(archived("received:" + message_id_of(2)), second);
  EXPECT_EQ(archived("sent:" + refusal.properties.message_id), refusal.body)
      << "the notification as published, signature and all";
  EXPECT_EQ(count("SELECT count(*) FROM evidence WHERE input_key LIKE ?", "ais:%"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM evidence WHERE day = ?", today()), 3);
  EXPECT_EQ(daemon_->stop(), 0);

  auto store = store::open_sqlite(store::SqliteSettings{(dir_.path() / "store.sqlite").string()});
  ASSERT_TRUE(store.has_value()) << store.error().message;
  const auto records = store.value()->evidence_after(0, 100).value();
  ASSERT_EQ(records.size(), 3U);
  EXPECT_EQ(records[2].direction, "sent");
  EXPECT_THAT(records[2].signer_json, HasSubstr("\"serial\"")) << "the adapter, its signer";
  EXPECT_THAT(records[2].chain_pem, HasSubstr("-----BEGIN CERTIFICATE-----"));
  EXPECT_EQ(records[2].input_key, "gov:" + message_id_of(2));
  EXPECT_THAT(records[1].caused, ::testing::Contains(refusal.properties.message_id));
  EXPECT_THAT(records[0].signer_json, HasSubstr(kIin));
  EXPECT_THAT(records[0].chain_pem, HasSubstr("-----BEGIN CERTIFICATE-----"));
  EXPECT_THAT(records[0].revocation_json, HasSubstr("\"thisUpdate\""));
  for (const auto& problem : store::check_evidence_chain(records, 0, store::kEvidenceChainStart))
    ADD_FAILURE() << "record " << problem.seq << ": " << problem.what;
  store.value().reset();

  // What an operator hands an auditor: the signed original, the record, a verification.
  const auto raw = dir_.path() / "original.xml";
  auto shown = cli("evidence show received:" + message_id_of(2) + " --raw " + raw.string());
  ASSERT_EQ(shown.status, 0) << shown.out;
  EXPECT_EQ(read_file(raw), second);
  ASSERT_EQ(shown.lines.size(), 1U) << shown.out;
  EXPECT_EQ(shown.lines[0].at("bodySha256").as_string(), sha256_hex(second));
  EXPECT_EQ(cli("evidence show " + application_id(2)).lines.size(), 2U) << "document, refusal";
  EXPECT_EQ(cli("evidence show " + application_id(2) + " --raw " + raw.string()).status, 2);
  EXPECT_EQ(cli("evidence show nothing-of-the-kind").status, 1);
  EXPECT_EQ(cli("evidence list --json").lines.size(), 3U);
  auto unsealed = cli(fmt::format("evidence export --from {0} --to {0} {1}", today(),
                                  (dir_.path() / "export").string()));
  EXPECT_EQ(unsealed.status, 1) << unsealed.out;
  EXPECT_THAT(unsealed.out, HasSubstr(today() + " is not sealed"));
  auto verified = cli("evidence verify");
  EXPECT_EQ(verified.status, 0) << verified.out;
  EXPECT_THAT(verified.out,
              HasSubstr("3 records, the chain is unbroken; 2 signatures checked again"));

  // Tampering, each kind on its own, is found and named by `evidence verify`.
  auto tampered = [&](const std::string& sql, const std::string& restore) {
    sqlite3* db = nullptr;
    sqlite3_open((dir_.path() / "store.sqlite").c_str(), &db);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    auto result = cli("evidence verify");
    EXPECT_EQ(result.status, 1) << sql << "\n" << result.out;
    EXPECT_EQ(sqlite3_exec(db, restore.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
    return result.out;
  };
  EXPECT_THAT(tampered("UPDATE evidence SET body = CAST(replace(CAST(body AS TEXT), 'Applicant', "
                       "'Applicanx') AS BLOB) WHERE seq = 2",
                       "UPDATE evidence SET body = CAST(replace(CAST(body AS TEXT), 'Applicanx', "
                       "'Applicant') AS BLOB) WHERE seq = 2"),
              HasSubstr("record 2 (received:" + message_id_of(2) + "): its document is not"));
  EXPECT_THAT(
      tampered("UPDATE evidence SET application_id = 'someone' WHERE seq = 1",
               "UPDATE evidence SET application_id = '" + application_id(1) + "' WHERE seq = 1"),
      HasSubstr("record 1 (received:" + message_id_of(1) + "): the record was altered"));
  EXPECT_THAT(tampered("CREATE TABLE kept AS SELECT * FROM evidence WHERE seq = 2; DELETE FROM "
                       "evidence WHERE seq = 2",
                       "INSERT INTO evidence SELECT * FROM kept; DROP TABLE kept"),
              HasSubstr("record 3 (sent:" + refusal.properties.message_id +
                        "): record 2 before it is missing"));
  EXPECT_THAT(tampered("UPDATE evidence SET seq = -seq WHERE seq IN (1, 2); UPDATE evidence SET "
                       "seq = 2 WHERE seq = -1; UPDATE evidence SET seq = 1 WHERE seq = -2",
                       "UPDATE evidence SET seq = -seq WHERE seq IN (1, 2); UPDATE evidence SET "
                       "seq = 2 WHERE seq = -1; UPDATE evidence SET seq = 1 WHERE seq = -2"),
              HasSubstr("the record was altered"));
  EXPECT_THAT(tampered("CREATE TABLE kept AS SELECT * FROM evidence WHERE seq = 3; DELETE FROM "
                       "evidence WHERE seq = 3",
                       "INSERT INTO evidence SELECT * FROM kept; DROP TABLE kept"),
              HasSubstr("the records after 2 are missing"));
  EXPECT_EQ(cli("evidence verify").status, 0) << "each restored";

  // Whoever rewrites a document and recomputes every hash after it leaves a chain that holds; the
  // document's signature, checked again with the certificates recorded, does not.
  auto reopened =
      store::open_sqlite(store::SqliteSettings{(dir_.path() / "store.sqlite").string()});
  ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
  auto rewritten = reopened.value()->evidence_after(0, 100).value();
  reopened.value().reset();
  ASSERT_EQ(rewritten.size(), 3U);
  const auto at = rewritten[1].body.find(application_id(2));
  ASSERT_NE(at, std::string::npos);
  rewritten[1].body.replace(at, application_id(2).size(), application_id(9));
  rewritten[1].body_sha256 = sha256_hex(rewritten[1].body);
  rewritten[1].record_sha256 = store::evidence_record_hash(rewritten[1]);
  rewritten[2].prev_sha256 = rewritten[1].record_sha256;
  rewritten[2].record_sha256 = store::evidence_record_hash(rewritten[2]);
  sqlite3* db = nullptr;
  sqlite3_open((dir_.path() / "store.sqlite").c_str(), &db);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(
      db, "UPDATE evidence SET body = ?, body_sha256 = ?, record_sha256 = ? WHERE seq = 2", -1,
      &statement, nullptr);
  sqlite3_bind_blob(statement, 1, rewritten[1].body.data(),
                    static_cast<int>(rewritten[1].body.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(statement, 2, rewritten[1].body_sha256.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(statement, 3, rewritten[1].record_sha256.c_str(), -1, SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(statement), SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(statement);
  const auto later = fmt::format(
      "UPDATE evidence SET prev_sha256 = '{0}', record_sha256 = '{1}' WHERE seq = 3; "
      "UPDATE evidence_head SET record_sha256 = '{1}'",
      rewritten[2].prev_sha256, rewritten[2].record_sha256);
  EXPECT_EQ(sqlite3_exec(db, later.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto resigned = cli("evidence verify");
  EXPECT_EQ(resigned.status, 1) << resigned.out;
  EXPECT_THAT(resigned.out, HasSubstr("record 2 (received:" + message_id_of(2) +
                                      "): its signature does not verify again"));
  EXPECT_THAT(resigned.out, HasSubstr("signature.invalid"));
  EXPECT_THAT(resigned.out, HasSubstr("1 problem;"));
}

TEST_F(LifecycleWithBroker, ABurstOfRefusalsIsSignedOnTheWorkersTogetherAndEachVerifies) {
  a_burst_of_refusals();
}

// The same with GOST: the adapter's GOST key signs on both workers at once.
TEST_F(GostLifecycleWithBroker, ABurstOfRefusalsIsSignedOnTheWorkersTogetherAndEachVerifies) {
  a_burst_of_refusals();
}

TEST_F(LifecycleWithBroker, AnEventBeforeItsTimeIsDeadLetteredAndAcceptedWhenReplayedLater) {
  registered_with_quota();
  // The voucher is issued for an application the adapter has not seen yet.
  const auto issued =
      publish_event("VoucherIssued", fmt::format(R"({{"voucherId": "{}", "applicationId": "{}",
                                        "issuedOn": "{}"}})",
                                                 kVoucher, kApplication, today()));
  auto take_letter = [&] {
    Received letter;
    EXPECT_TRUE(eventually([&] {
      auto letters = client_->drain(kAisDeadLetters);
      if (letters.empty()) return false;
      letter = letters.front();
      return true;
    })) << daemon_->log_text();
    return letter;
  };
  auto letter = take_letter();
  EXPECT_EQ(letter.properties.headers.at("x-nqs-message-id").as_string(), issued);
  EXPECT_EQ(letter.properties.headers.at("x-nqs-reason").as_string(), "domain.unknown_subject");
  EXPECT_THAT(std::string(letter.properties.headers.at("x-nqs-detail").as_string()),
              HasSubstr(kApplication));
  EXPECT_EQ(letter.properties.headers.at("x-nqs-queue").as_string(), kAisEvents);

  // Replayed too early (the application is only with the career center): judged again and
  // dead-lettered again, not absorbed as a duplicate.
  publish_document(application(kApplication), message_id_of(1));
  await_command("RegisterApplication", kApplication);
  client_->publish(kAisEvents, letter.body,
                   std::string(letter.properties.headers.at("x-nqs-message-id").as_string()),
                   "application/json");
  letter = take_letter();
  EXPECT_EQ(letter.properties.headers.at("x-nqs-reason").as_string(), "domain.invalid_transition");

  // Once the application is confirmed, the same message is accepted.
  await_input("ais:" + publish_event("ApplicationReviewed", fmt::format(R"({{"applicationId": "{}",
                                                   "decision": "forward", "reasons": []}})",
                                                                        kApplication)));
  publish_event("ApplicationForwarded", fmt::format(R"({{"applicationId": "{}"}})", kApplication));
  await_notification("ApplicationToRecognitionCenter", kApplication);
  publish_document(center_decision(kApplication, true), message_id_of(2));
  await_command("RecordCenterDecision", kApplication);
  client_->publish(kAisEvents, letter.body,
                   std::string(letter.properties.headers.at("x-nqs-message-id").as_string()),
                   "application/json");
  await_notification("VoucherDelivered", kApplication);
  EXPECT_EQ(stage_of(kApplication), "voucher_active");
  EXPECT_EQ(count("SELECT count(*) FROM inbox WHERE input_key LIKE ?", "ais:rejected:%"), 2);
  EXPECT_EQ(daemon_->stop(), 0);
}

TEST_F(LifecycleWithBroker, AisEventsAreDeduplicatedByEventIdAndMalformedOnesDeadLettered) {
  const std::string event =
      R"({"eventId": "e1000000-0000-4000-8000-000000000001", "type": "UnemployedStatusChanged",
          "occurredAt": "2025-09-01T09:00:00+05:00", "payload": {"iin": "850101300124",
          "registered": true, "region": "750000000", "since": "2025-01-10"}})";
  for (int copy = 0; copy < 3; ++copy)
    client_->publish(kAisEvents, event, "e1000000-0000-4000-8000-000000000001", "application/json");
  // An unknown field, and a body that is not JSON at all.
  client_->publish(kAisEvents,
                   R"({"eventId": "e1000000-0000-4000-8000-000000000002", "type": "QuotaAllocated",
                       "occurredAt": "2025-09-01T09:00:00+05:00", "payload": {"periodStart": 2025,
                       "periodEnd": 2027, "regions": [{"region": "750000000",
                       "vouchersPerYear": 5}], "bonus": 1}})",
                   "with-extra", "application/json");
  client_->publish(kAisEvents, "{not json", "broken", "application/json");
  std::map<std::string, Received> letters;
  ASSERT_TRUE(eventually([&] {
    for (auto& letter : client_->drain(kAisDeadLetters))
      letters[std::string(letter.properties.headers.at("x-nqs-message-id").as_string())] =
          std::move(letter);
    return letters.size() == 2;
  })) << daemon_->log_text();
  EXPECT_EQ(letters.at("with-extra").properties.headers.at("x-nqs-reason").as_string(),
            "json.invalid");
  EXPECT_THAT(
      std::string(letters.at("with-extra").properties.headers.at("x-nqs-detail").as_string()),
      HasSubstr("bonus"));
  EXPECT_EQ(letters.at("broken").properties.headers.at("x-nqs-reason").as_string(), "json.invalid");
  ASSERT_TRUE(eventually([&] { return client_->queue_state(kAisEvents)->first == 0; }));
  EXPECT_EQ(daemon_->stop(), 0);
  EXPECT_EQ(count("SELECT count(*) FROM inbox WHERE input_key LIKE ?", "ais:e1000000%"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM unemployment WHERE iin = ?", kIin), 1);
  EXPECT_THAT(daemon_->log_text(), HasSubstr("duplicates=2"));
}

// Deadlines as durable timers, with the daemon's clock moved forward through its
// control file (as `nqs-adapter clock advance` does).
class DeadlinesWithBroker : public LifecycleWithBroker {
 protected:
  std::string extra_config() override {
    return fmt::format("clock: {{control_file: {}}}\n", clock_file().string());
  }
  std::filesystem::path clock_file() const { return dir_.path() / "clock-offset"; }
  void advance(std::chrono::milliseconds by) {
    ASSERT_TRUE(configuration::advance_clock_control(clock_file(), by).has_value());
  }
  // To noon of the next day (local time, UTC+5), whatever the hour now: today ended hours ago
  // (sealed 10 minutes after its end, and past verify's hour of grace) and tomorrow has not.
  void advance_to_next_noon() {
    const auto noon = today_date() + date::days{1} + std::chrono::hours{12 - 5};
    advance(std::chrono::duration_cast<std::chrono::milliseconds>(
        noon - std::chrono::system_clock::now()));
  }

  // The SLA messages on nqs.sla, in the order they were published.
  std::vector<Received> await_sla(std::size_t n) {
    EXPECT_TRUE(eventually([&] {
      for (auto& message : client_->drain("nqs.sla"))
        sla_.push_back(std::move(message));
      return sla_.size() >= n;
    })) << sla_.size()
        << " SLA messages\n"
        << daemon_->log_text();
    return sla_;
  }

  // `nqs-adapter sla list --overdue --json` on the daemon's configuration.
  std::string sla_list() const {
    const auto out = dir_.path() / "sla.out";
    const auto command = fmt::format("{} sla list --overdue --json --config {} >{} 2>&1",
                                     NQS_ADAPTER_BINARY, config_.string(), out.string());
    EXPECT_EQ(std::system(command.c_str()), 0) << read_file(out);
    return read_file(out);
  }

  std::vector<Received> sla_;
};

TEST_F(DeadlinesWithBroker, AnUnansweredApplicationIsWarnedThenBreachedAndTheLateAnswerRecorded) {
  registered_with_quota();
  publish_document(application(kApplication), message_id_of(1));
  const auto registered = payload_of(await_command("RegisterApplication", kApplication));
  EXPECT_TRUE(registered.contains("reviewDueBy"));
  EXPECT_EQ(sla_list(), "") << "nothing overdue yet";

  // Ten days later nobody has reviewed it: the warning, then the breach, each once.
  advance(std::chrono::hours{24 * 10});
  const auto messages = await_sla(2);
  ASSERT_EQ(messages.size(), 2U);
  EXPECT_EQ(messages[0].routing_key, "sla.warning.career_center_review");
  EXPECT_EQ(messages[1].routing_key, "sla.breached.career_center_review");
  const auto breach = boost::json::parse(messages[1].body).as_object();
  EXPECT_EQ(breach.at("subject").as_string(), kApplication);
  EXPECT_EQ(breach.at("responsible").as_string(), "career_center");
  EXPECT_EQ(breach.at("due").as_string(), registered.at("reviewDueBy").as_string());
  EXPECT_EQ(messages[1].properties.content_type, "application/json");
  EXPECT_EQ(messages[1].properties.correlation_id, kApplication);
  const auto listed = boost::json::parse(sla_list()).as_object();
  EXPECT_EQ(listed.at("applicationId").as_string(), kApplication);
  EXPECT_EQ(listed.at("step").as_string(), "career_center_review");
  EXPECT_EQ(listed.at("state").as_string(), "breached");
  EXPECT_GT(listed.at("overdueMs").as_int64(), 0);

  // The review arrives late: processed, recorded as late.
  const auto review = publish_event(
      "ApplicationReviewed",
      fmt::format(R"({{"applicationId": "{}", "decision": "forward", "reasons": []}})",
                  kApplication));
  await_input("ais:" + review);
  EXPECT_EQ(count("SELECT count(*) FROM inbox WHERE input_key = ? AND detail = "
                  "'late: career_center_review'",
                  "ais:" + review),
            1);
  EXPECT_THAT(daemon_->log_text(), HasSubstr("deadline met late"));
  EXPECT_EQ(daemon_->stop(), 0);
  EXPECT_EQ(client_->drain("nqs.sla").size(), 0U) << "nothing fired twice";
}

TEST_F(DeadlinesWithBroker, AnUnusedVoucherIsAnnulledAtTheEndOfItsValidity) {
  registered_with_quota();
  confirmed(kApplication, 1);
  voucher_issued_today();
  EXPECT_EQ(reserved("750000000"), 1);

  // Art. 11: 60 days after the day of issue, then the grace of 3 working days (audit point 6).
  advance(std::chrono::hours{24 * 70});
  const auto annul = payload_of(await_command("AnnulVoucher", kApplication));
  EXPECT_EQ(annul.at("voucherId").as_string(), kVoucher);
  EXPECT_EQ(annul.at("reason").as_string(), "expired");
  const auto annulled = await_notification("VoucherAnnulled", kApplication);
  EXPECT_THAT(annulled.body, HasSubstr(kVoucher));
  EXPECT_EQ(stage_of(kApplication), "annulled");
  EXPECT_EQ(reserved("750000000"), 0) << "the unit is released";
  const auto messages = await_sla(1);
  EXPECT_EQ(messages.back().routing_key, "sla.warning.voucher_validity");
  EXPECT_EQ(count("SELECT count(*) FROM timers WHERE subject = ?", kApplication), 0);
  EXPECT_EQ(daemon_->stop(), 0);
}

// The three readings of the audit that hurt most when the adapter got them wrong.

// Art. 12-13 (audit point 7): a sheet submitted on the last valid day, and the LMC extending on
// the next working day, after that day has ended: extended, never annulled.
TEST_F(DeadlinesWithBroker,
       Art12_ASickSheetOnTheLastValidDayExtendedTheNextWorkingDayKeepsTheVoucher) {
  const auto& calendar = test::almaty_calendar();
  registered_with_quota();
  confirmed(kApplication, 1);
  voucher_issued_today();
  const auto last_valid_day = today_date() + date::days{60};
  advance(std::chrono::hours{24 * 60});
  publish_document(sick_leave("ЛН-LAST", last_valid_day - date::days{1}, last_valid_day,
                              now_ms() + std::chrono::hours{24 * 60}),
                   message_id_of(3));
  const auto recorded = payload_of(await_command("RecordSickLeave", kApplication));
  const auto extended_to = last_valid_day + date::days{2};
  EXPECT_EQ(recorded.at("validUntil").as_string(), calendar::to_string(extended_to));
  // The annulment moved with the sheet, before the LMC acted: after the extended validity and
  // the grace.
  const auto annul_at =
      calendar.end_of_local_day(calendar.working_days_after(extended_to, 3).value());
  EXPECT_EQ(count("SELECT due_ms FROM timers WHERE kind = 'voucher_expiry' AND subject = ?",
                  kApplication),
            annul_at.time_since_epoch().count());
  // The LMC extends on the next working day (art. 13).
  const auto next_working_day = calendar.working_days_after(last_valid_day, 1).value();
  advance(std::chrono::hours{24} * (next_working_day - last_valid_day).count());
  publish_event(
      "VoucherExtended",
      fmt::format(R"({{"voucherId": "{}", "sheetNumber": "ЛН-LAST", "validUntil": "{}"}})",
                  kVoucher, calendar::to_string(extended_to)));
  const auto extended = await_notification("VoucherValidityExtended", kApplication);
  EXPECT_THAT(extended.body, HasSubstr(calendar::to_string(extended_to)));
  EXPECT_EQ(stage_of(kApplication), "voucher_active");
  EXPECT_EQ(count("SELECT due_ms FROM timers WHERE kind = 'voucher_expiry' AND subject = ?",
                  kApplication),
            annul_at.time_since_epoch().count());
  EXPECT_TRUE(client_->drain(kAisDeadLetters).empty());
  EXPECT_EQ(daemon_->stop(), 0);
  EXPECT_FALSE(sent_command("AnnulVoucher"));
}

// Art. 11 with Rules 374 art. 17 (audit point 6): the exam on the last valid day, its protocol
// two working days later: the outcome is accepted, the act paid, the voucher never annulled.
TEST_F(DeadlinesWithBroker, Art11_AnExamOnTheLastValidDayWithItsProtocolTwoWorkingDaysLaterIsPaid) {
  const auto& calendar = test::almaty_calendar();
  registered_with_quota();
  confirmed(kApplication, 1);
  voucher_issued_today();
  const auto last_valid_day = today_date() + date::days{60};
  const auto protocol_day = calendar.working_days_after(last_valid_day, 2).value();
  advance(std::chrono::hours{24} * (protocol_day - today_date()).count());
  publish_document(outcome(last_valid_day, protocol_day).sign("center-head").bytes(),
                   message_id_of(4));
  const auto recorded = payload_of(await_command("RecordRecognitionOutcome", kApplication));
  EXPECT_FALSE(recorded.at("protocolLate").as_bool());
  EXPECT_EQ(stage_of(kApplication), "used");
  EXPECT_EQ(count("SELECT count(*) FROM timers WHERE kind = 'voucher_expiry' AND subject = ?",
                  kApplication),
            0)
      << "used: nothing left to annul it";
  publish_document(Envelope("service-act").sign("center-head").bytes(), message_id_of(5));
  const auto act = payload_of(await_command("RegisterServiceAct", kApplication));
  EXPECT_EQ(act.at("centerAmount").as_string(), "12500.75");
  const auto paid = publish_event(
      "PaymentMade", R"({"actNumber": "АКТ-2025-0042", "payee": "center", "amount": "12500.75",
                        "paidOn": "2025-10-20"})");
  await_input("ais:" + paid);
  EXPECT_EQ(stage_of(kApplication), "paid");
  EXPECT_EQ(reserved("750000000"), 1) << "a used voucher keeps its unit";
  EXPECT_TRUE(client_->drain(kAisDeadLetters).empty());
  EXPECT_TRUE(client_->drain(kDeadLetters).empty());
  EXPECT_EQ(daemon_->stop(), 0);
  EXPECT_FALSE(sent_command("AnnulVoucher"));
}

// Art. 3 (audit point 2): an applicant the AIS never mentioned is registered for the career
// center's review, not refused.
TEST_F(LifecycleWithBroker, Art3_AnApplicantUnknownToTheAdapterIsRegisteredNotRefused) {
  const auto quota = publish_event("QuotaAllocated", R"({"periodStart": 2025, "periodEnd": 2027,
      "regions": [{"region": "750000000", "vouchersPerYear": 5}]})");
  await_input("ais:" + quota);
  publish_document(application(kApplication), message_id_of(1));
  const auto registered = payload_of(await_command("RegisterApplication", kApplication));
  EXPECT_EQ(registered.at("checks").at("unemployment").as_string(), "unknown");
  EXPECT_EQ(stage_of(kApplication), "with_career_center");
  EXPECT_EQ(reserved("750000000"), 1);
  EXPECT_EQ(daemon_->stop(), 0);
  for (const auto& message : client_->drain(kOutbound))
    EXPECT_NE(message.routing_key, "ApplicationRefused");
}

TEST_F(DeadlinesWithBroker, ADaemonStoppedAcrossADeadlineCatchesUpOnRestart) {
  registered_with_quota();
  publish_document(application(kApplication), message_id_of(1));
  await_command("RegisterApplication", kApplication);
  EXPECT_EQ(daemon_->stop(), 0);
  // While it is down, the deadline passes.
  advance(std::chrono::hours{24 * 10});
  start_daemon();
  const auto messages = await_sla(2);
  ASSERT_EQ(messages.size(), 2U);
  EXPECT_EQ(messages[0].routing_key, "sla.warning.career_center_review");
  EXPECT_EQ(messages[1].routing_key, "sla.breached.career_center_review");
  EXPECT_EQ(daemon_->stop(), 0);
  start_daemon();  // and a second restart repeats nothing
  EXPECT_EQ(daemon_->stop(), 0);
  EXPECT_EQ(client_->drain("nqs.sla").size(), 0U);
  EXPECT_EQ(count("SELECT count(*) FROM inbox WHERE source = ?", "timer"), 2);
}

// Issue 18: the running daemon seals each ended day with its key as soon as its clock is past
// it; `evidence verify` checks the seal; a day removed whole, with every hash after it
// recomputed, leaves a chain that holds, and a seal that names what is missing.
TEST_F(DeadlinesWithBroker, TheDaemonSealsEachEndedDayAndVerifyChecksTheSeal) {
  registered_with_quota();
  publish_document(application(kApplication), message_id_of(1));
  await_command("RegisterApplication", kApplication);
  const auto day = today();
  advance_to_next_noon();
  ASSERT_TRUE(eventually([&] {
    return count("SELECT count(*) FROM evidence WHERE evidence_id = ?", "seal:" + day) == 1;
  })) << daemon_->log_text();
  EXPECT_EQ(daemon_->stop(), 0);
  EXPECT_THAT(daemon_->log_text(), HasSubstr("the evidence archive's day is sealed"));
  EXPECT_THAT(cli("evidence seal").out, HasSubstr("0 days sealed")) << "the daemon's stands";
  auto verified = cli("evidence verify");
  EXPECT_EQ(verified.status, 0) << verified.out;
  EXPECT_THAT(verified.out, HasSubstr("2 records, the chain is unbroken; 1 signatures checked "
                                      "again; 1 days sealed"));

  // Exported: one tar file for the day, which tar itself lists, verified again without the
  // store (moved away, as on another machine); one changed character of its document is named.
  const auto exported = dir_.path() / "export";
  auto written =
      cli(fmt::format("evidence export --from {0} --to {0} {1}", day, exported.string()));
  EXPECT_EQ(written.status, 0) << written.out;
  const auto file = exported / ("nqs-evidence-" + day + ".tar");
  ASSERT_TRUE(std::filesystem::exists(file)) << written.out;
  const auto listing = dir_.path() / "listing.out";
  ASSERT_EQ(std::system(fmt::format("tar -tf {} >{}", file.string(), listing.string()).c_str()), 0);
  EXPECT_THAT(read_file(listing), HasSubstr(day + "/manifest.json"));
  EXPECT_THAT(read_file(listing), HasSubstr(day + "/records/1"));
  std::filesystem::rename(dir_.path() / "store.sqlite", dir_.path() / "store.away");
  auto alone = cli("evidence verify --export " + file.string());
  EXPECT_EQ(alone.status, 0) << alone.out;
  EXPECT_THAT(alone.out, HasSubstr("2 records in 1 files, each day's chain is unbroken; 1 "
                                   "signatures checked again; 1 days sealed"));
  auto bytes = read_file(file);
  const auto at = bytes.find("Сварщик");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, std::string("Сварщик").size(), "Инженер");
  const auto tampered_file = dir_.write("tampered.tar", bytes);
  auto tampered = cli("evidence verify --export " + tampered_file.string());
  EXPECT_EQ(tampered.status, 1) << tampered.out;
  EXPECT_THAT(tampered.out, HasSubstr("record 1 (received:" + message_id_of(1) +
                                      "): its document is not the one archived"));
  std::filesystem::rename(dir_.path() / "store.away", dir_.path() / "store.sqlite");

  auto store = store::open_sqlite(store::SqliteSettings{(dir_.path() / "store.sqlite").string()});
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto records = store.value()->evidence_after(0, 10).value();
  store.value().reset();
  ASSERT_EQ(records.size(), 2U);
  auto run_sql = [&](const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open((dir_.path() / "store.sqlite").c_str(), &db);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  };

  // The seal removed and the head moved back: the chain holds, the ended day has no seal.
  run_sql(
      fmt::format("CREATE TABLE kept AS SELECT * FROM evidence WHERE seq = 2; DELETE FROM "
                  "evidence WHERE seq = 2; UPDATE evidence_head SET seq = 1, record_sha256 = "
                  "'{}'",
                  records[0].record_sha256));
  auto unsealed = cli("evidence verify");
  EXPECT_EQ(unsealed.status, 1) << unsealed.out;
  EXPECT_THAT(unsealed.out, HasSubstr(day + " has ended and its 1 records have no seal"));
  run_sql(
      fmt::format("INSERT INTO evidence SELECT * FROM kept; DROP TABLE kept; UPDATE "
                  "evidence_head SET seq = 2, record_sha256 = '{}'",
                  records[1].record_sha256));
  EXPECT_EQ(cli("evidence verify").status, 0) << "restored";

  auto seal = records[1];
  EXPECT_EQ(seal.evidence_id, "seal:" + day);
  seal.seq = 1;
  seal.prev_sha256 = std::string(store::kEvidenceChainStart);
  seal.record_sha256 = store::evidence_record_hash(seal);
  const auto removal = fmt::format(
      "DELETE FROM evidence WHERE seq = 1; UPDATE evidence SET seq = 1, prev_sha256 = '{0}', "
      "record_sha256 = '{1}' WHERE seq = 2; UPDATE evidence_head SET seq = 1, record_sha256 = "
      "'{1}'",
      seal.prev_sha256, seal.record_sha256);
  run_sql(removal);
  auto removed = cli("evidence verify");
  EXPECT_EQ(removed.status, 1) << removed.out;
  EXPECT_THAT(removed.out, HasSubstr("record 1 (seal:" + day + "): the seal of " + day +
                                     " states 1 records, 1 to 1"));
  EXPECT_THAT(removed.out, HasSubstr("the chain holds 0 records"));
}

// Issue 18: records are kept evidence.retention at least (a day here), and a day is purged only
// once exported and verified; the purge is audited, the chain then starts after it, and the
// exported file still verifies alone.
class EvidencePurgeWithBroker : public DeadlinesWithBroker {
 protected:
  std::string extra_config() override {
    return DeadlinesWithBroker::extra_config() + "evidence: {retention: 1d}\n";
  }
};

TEST_F(EvidencePurgeWithBroker, ADayExportedVerifiedAndOlderThanTheRetentionIsPurged) {
  registered_with_quota();
  publish_document(application(kApplication), message_id_of(1));
  await_command("RegisterApplication", kApplication);
  const auto day = today();
  const auto next = calendar::to_string(today_date() + date::days{1});
  advance_to_next_noon();
  ASSERT_TRUE(eventually([&] {
    return count("SELECT count(*) FROM evidence WHERE evidence_id = ?", "seal:" + day) == 1;
  })) << daemon_->log_text();
  EXPECT_EQ(daemon_->stop(), 0);
  const auto purge = "evidence purge --before " + next + " --actor auditor";
  auto young = cli(purge + " --yes");
  EXPECT_EQ(young.status, 1) << young.out;
  EXPECT_THAT(young.out, HasSubstr("evidence.retention"));

  advance(std::chrono::hours{48});
  auto unexported = cli(purge + " --yes");
  EXPECT_EQ(unexported.status, 1) << unexported.out;
  EXPECT_THAT(unexported.out, HasSubstr(day + " has not been exported"));
  const auto exported = dir_.path() / "export";
  auto written =
      cli(fmt::format("evidence export --from {0} --to {0} {1}", day, exported.string()));
  ASSERT_EQ(written.status, 0) << written.out;
  auto asked = cli(purge);
  EXPECT_EQ(asked.status, 2) << asked.out;
  EXPECT_THAT(asked.out, HasSubstr("records 1 to 2 of 1 days"));
  EXPECT_EQ(count("SELECT count(*) FROM evidence WHERE day = ?", day), 2) << "nothing yet";

  auto purged = cli(purge + " --yes");
  EXPECT_EQ(purged.status, 0) << purged.out;
  EXPECT_THAT(purged.out, HasSubstr("purged 2 records"));
  EXPECT_EQ(count("SELECT count(*) FROM evidence WHERE day = ?", day), 0);
  auto verified = cli("evidence verify");
  EXPECT_EQ(verified.status, 0) << verified.out;
  EXPECT_THAT(verified.out, HasSubstr("0 records, the chain is unbroken"));
  EXPECT_THAT(verified.out, HasSubstr("it starts after record 2, purged"));
  auto audit = cli("dlq audit --json");
  EXPECT_THAT(audit.out, HasSubstr("evidence purge"));
  EXPECT_THAT(audit.out, HasSubstr("auditor"));
  auto alone =
      cli("evidence verify --export " + (exported / ("nqs-evidence-" + day + ".tar")).string());
  EXPECT_EQ(alone.status, 0) << alone.out;
  EXPECT_THAT(cli(purge + " --yes").out, HasSubstr("nothing to purge"));
}

}  // namespace
}  // namespace nqs::test
