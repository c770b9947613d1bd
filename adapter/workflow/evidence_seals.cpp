#include "workflow/evidence_seals.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "common/ids.hpp"
#include "notify/evidence_seal.hpp"
#include "revocation/x509_facts.hpp"

namespace nqs::workflow {
namespace {

// The record that archives a day's seal.
store::EvidenceRecord seal_record(const std::string& day, std::string body,
                                  const notify::Signer& signer, Instant now) {
  store::EvidenceRecord record;
  record.evidence_id = "seal:" + day;
  record.day = day;
  record.direction = "seal";
  record.outcome = "sealed";
  record.input_key = record.evidence_id;
  record.document_type = "EvidenceSeal";
  X509* certificate = signer.certificates.front().get();
  record.signer_json = boost::json::serialize(
      boost::json::object{{"subject", revocation::name_text(X509_get_subject_name(certificate))},
                          {"serial", revocation::serial_hex(certificate)},
                          {"issuer", revocation::name_text(X509_get_issuer_name(certificate))}});
  for (const auto& each : signer.certificates)
    record.chain_pem += revocation::pem_certificate(revocation::certificate_der(each.get()));
  record.verified_at = now;
  record.body = std::move(body);
  return record;
}

}  // namespace

Result<std::vector<std::string>> seal_ended_days(store::Store& store, const notify::Signer& signer,
                                                 const calendar::WorkingCalendar& calendar,
                                                 Instant now) {
  const std::string before = calendar::to_string(calendar.local_date(now - kSealMargin));
  std::vector<std::string> sealed;
  std::string tried;
  for (;;) {
    BOOST_OUTCOME_TRY(auto day, store.next_unsealed_day(before));
    if (!day) return sealed;
    // Each turn seals a later day, or stops: a seal that is there for its inbox entry but not as
    // a seal record (altered outside the adapter) must not keep the event loop here.
    if (*day <= tried) {
      return make_error(fmt::format(
          "the evidence seal of {} is recorded in the inbox but not as a seal in the archive: "
          "run evidence verify",
          *day));
    }
    tried = *day;
    BOOST_OUTCOME_TRY(auto facts, store.evidence_day(*day));
    BOOST_OUTCOME_TRY(auto body, notify::make_seal({*day, facts.records, facts.first_seq,
                                                    facts.last_seq, facts.last_sha256, now},
                                                   signer));
    store::InboxEntry entry;
    entry.key = "seal:" + *day;
    entry.source = "evidence";
    entry.document_type = "EvidenceSeal";
    entry.body_sha256 = sha256_hex(body);
    entry.received_at = now;
    std::vector<store::InputLog::Input> inputs(1);
    inputs.front().entry = std::move(entry);
    inputs.front().evidence.push_back(seal_record(*day, std::move(body), signer, now));
    BOOST_OUTCOME_TRY(auto recorded, store.record_inputs(std::move(inputs)));
    // Another instance sealed it first: its seal stands, and the next day is looked for anew.
    if (recorded.empty() || recorded.front().duplicate) continue;
    sealed.push_back(*day);
  }
}

}  // namespace nqs::workflow
