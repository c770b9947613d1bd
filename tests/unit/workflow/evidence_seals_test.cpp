// The daily seal of the evidence archive (issue 18): made for each ended day, in day order, once;
// signed with the adapter's key; read back only when its signature and signer hold.
#include "workflow/evidence_seals.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calendar_support.hpp"
#include "notify/evidence_seal.hpp"
#include "revocation/x509_facts.hpp"
#include "store/sql_store.hpp"
#include "test_support.hpp"

namespace nqs::workflow {
namespace {

using ::testing::HasSubstr;

class EvidenceSeals : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string pki = NQS_TEST_PKI_DIR;
    auto signer = notify::load_signer(pki + "/adapter-sign.key", pki + "/adapter-chain.pem");
    ASSERT_TRUE(signer.has_value()) << signer.error().message;
    signer_ = std::move(signer).value();
    subject_ = revocation::name_text(X509_get_subject_name(signer_.certificates.front().get()));
    xmldsig::TrustSettings settings;
    settings.anchors = {pki + "/ca-chain.pem"};
    std::vector<std::string> problems;
    auto trust = xmldsig::TrustStore::load(settings, problems);
    ASSERT_TRUE(trust) << test::join(problems);
    anchors_ = trust->without_revocation();
    policy_.allowed = {std::string(xmldsig::kRsaSha256), std::string(xmldsig::kSha256)};
    auto store = store::open_sqlite(store::SqliteSettings{(dir_.path() / "s.sqlite").string()});
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(store).value();
  }

  // A signed document received at a UTC instant, archived with its input.
  void archive(const std::string& id, const std::string& at) {
    store::InputLog::Input input;
    input.entry.key = "gov:" + id;
    input.entry.source = "nqs.gov.in";
    input.entry.received_at = *parse_instant(at);
    store::EvidenceRecord record;
    record.evidence_id = store::received_evidence_id(id);
    record.day = calendar::to_string(test::almaty_calendar().local_date(*parse_instant(at)));
    record.direction = "received";
    record.outcome = "accepted";
    record.input_key = input.entry.key;
    record.message_id = id;
    record.verified_at = *parse_instant(at);
    record.body = "<signed>" + id + "</signed>";
    input.evidence.push_back(std::move(record));
    std::vector<store::InputLog::Input> inputs;
    inputs.push_back(std::move(input));
    ASSERT_TRUE(store_->record_inputs(std::move(inputs)).has_value());
  }

  std::vector<std::string> seal_at(const std::string& at) {
    auto sealed = seal_ended_days(*store_, signer_, test::almaty_calendar(), *parse_instant(at));
    if (!sealed) {
      ADD_FAILURE() << sealed.error().message;
      return {};
    }
    return sealed.value();
  }

  std::string seal_body(const std::string& day) {
    const auto found = store_->find_evidence("seal:" + day).value();
    return found.size() == 1 ? found.front().body : std::string();
  }

  test::TempDir dir_;
  notify::Signer signer_;
  std::string subject_;
  std::shared_ptr<xmldsig::TrustStore> anchors_;
  xmldsig::AlgorithmPolicy policy_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(EvidenceSeals, EachEndedDayIsSealedOnceInDayOrderWithWhatTheChainHolds) {
  // Almaty is UTC+5: 2026-03-02 local ends at 19:00 UTC.
  archive("m-1", "2026-03-02T04:00:00Z");
  archive("m-2", "2026-03-02T18:59:00Z");
  archive("m-3", "2026-03-03T05:00:00Z");
  EXPECT_THAT(seal_at("2026-03-02T19:05:00Z"), ::testing::IsEmpty()) << "within the margin";
  EXPECT_THAT(seal_at("2026-03-02T19:11:00Z"), ::testing::ElementsAre("2026-03-02"));
  EXPECT_THAT(seal_at("2026-03-02T19:12:00Z"), ::testing::IsEmpty()) << "once";

  auto read = notify::read_seal(seal_body("2026-03-02"), *anchors_, policy_, subject_);
  ASSERT_TRUE(std::holds_alternative<notify::SealFacts>(read)) << std::get<std::string>(read);
  const auto facts = std::get<notify::SealFacts>(read);
  EXPECT_EQ(facts.day, "2026-03-02");
  EXPECT_EQ(facts.records, 2);
  EXPECT_EQ(facts.first_seq, 1);
  EXPECT_EQ(facts.last_seq, 2);
  EXPECT_EQ(facts.last_sha256, store_->evidence_after(1, 1).value().front().record_sha256);
  const auto record = store_->find_evidence("seal:2026-03-02").value().front();
  EXPECT_EQ(record.seq, 4) << "a record of the chain, after the day's";
  EXPECT_EQ(record.direction, "seal");
  EXPECT_THAT(record.signer_json, HasSubstr("serial"));
  EXPECT_THAT(record.chain_pem, HasSubstr("BEGIN CERTIFICATE"));
  EXPECT_TRUE(store_->find_input("seal:2026-03-02").value().has_value());

  // Days later: the next day, and the days without records are not sealed.
  archive("m-4", "2026-03-06T05:00:00Z");
  EXPECT_THAT(seal_at("2026-03-08T00:00:00Z"), ::testing::ElementsAre("2026-03-03", "2026-03-06"));
}

TEST_F(EvidenceSeals, ASealAlteredOrSignedByAnotherIsNotRead) {
  archive("m-1", "2026-03-02T04:00:00Z");
  ASSERT_EQ(seal_at("2026-03-03T00:00:00Z").size(), 1U);
  auto body = seal_body("2026-03-02");
  const auto at = body.find("<Records>1</Records>");
  ASSERT_NE(at, std::string::npos) << body;
  auto altered = body;
  altered.replace(at, 20, "<Records>0</Records>");
  auto read = notify::read_seal(altered, *anchors_, policy_, subject_);
  ASSERT_TRUE(std::holds_alternative<std::string>(read));
  EXPECT_THAT(std::get<std::string>(read), HasSubstr("changed after signing"));

  // Signed by a key the anchors do not know: the GOST half of the test PKI.
  xmldsig::TrustSettings gost;
  gost.anchors = {std::string(NQS_TEST_PKI_DIR) + "/gost-ca-chain.pem"};
  std::vector<std::string> problems;
  auto other = xmldsig::TrustStore::load(gost, problems);
  ASSERT_TRUE(other) << test::join(problems);
  read = notify::read_seal(body, *other->without_revocation(), policy_, subject_);
  ASSERT_TRUE(std::holds_alternative<std::string>(read));
  EXPECT_THAT(std::get<std::string>(read), HasSubstr("its signer"));
  EXPECT_TRUE(std::holds_alternative<std::string>(
      notify::read_seal("<EvidenceSeal/>", *anchors_, policy_, subject_)));

  // Signed by another holder of a certificate under the same CA, with facts of its choosing.
  const std::string pki = NQS_TEST_PKI_DIR;
  auto someone = notify::load_signer(pki + "/center-head.key", pki + "/center-head.pem");
  ASSERT_TRUE(someone.has_value()) << someone.error().message;
  auto forged = notify::make_seal(
      {"2026-03-02", 0, 0, 0, "", *parse_instant("2026-03-03T00:00:00Z")}, someone.value());
  ASSERT_TRUE(forged.has_value()) << forged.error().message;
  read = notify::read_seal(forged.value(), *anchors_, policy_, subject_);
  ASSERT_TRUE(std::holds_alternative<std::string>(read));
  EXPECT_THAT(std::get<std::string>(read), HasSubstr("not by the adapter"));
}

// A seal recorded in the inbox but absent from the archive (altered outside the adapter) stops
// the sealing with an error instead of trying the same day for ever on the event loop.
TEST_F(EvidenceSeals, ADaySealedInTheInboxButNotInTheArchiveStopsWithAnError) {
  archive("m-1", "2026-03-02T04:00:00Z");
  store::InputLog::Input orphan;
  orphan.entry.key = "seal:2026-03-02";
  orphan.entry.source = "evidence";
  std::vector<store::InputLog::Input> inputs;
  inputs.push_back(std::move(orphan));
  ASSERT_TRUE(store_->record_inputs(std::move(inputs)).has_value());
  auto sealed = seal_ended_days(*store_, signer_, test::almaty_calendar(),
                                *parse_instant("2026-03-03T00:00:00Z"));
  ASSERT_FALSE(sealed.has_value());
  EXPECT_THAT(sealed.error().message, HasSubstr("run evidence verify"));
}

}  // namespace
}  // namespace nqs::workflow
