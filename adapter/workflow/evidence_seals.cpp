#include "workflow/evidence_seals.hpp"

#include <fmt/format.h>

#include "common/ids.hpp"
#include "notify/evidence_seal.hpp"

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
  auto by = notify::signer_evidence(signer);
  record.signer_json = std::move(by.signer_json);
  record.chain_pem = std::move(by.chain_pem);
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
