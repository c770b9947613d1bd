#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/json.hpp>

#include "common/ids.hpp"
#include "daemon/processor.hpp"
#include "intake/ais_event_parser.hpp"

// Deciding one input of a batch: read (its properties, the AIS event, the intake's outcome),
// decided once under its inbox key, or refused under a key of its bytes.
namespace nqs::daemon {

Result<std::string> Processor::free_key(const std::string& prefix, bool redelivered) {
  for (int n = 1;; ++n) {
    auto key = prefix + std::to_string(n);
    BOOST_OUTCOME_TRY(const bool taken, view_.key_taken(key));
    if (taken) continue;
    // A redelivery (the broker delivered it before and it was not acknowledged: the process died
    // between committing and acknowledging) is the attempt already committed, not a new one.
    if (redelivered && n > 1) return prefix + std::to_string(n - 1);
    return key;
  }
}

std::string_view Processor::source_of(const amqp::Delivery& delivery) const {
  return delivery.queue == names_.ais_events ? "ais" : "gov";
}

Processor::Prepared Processor::prepare(Work work) {
  const auto& delivery = work.delivery;
  Prepared prepared;
  auto& entry = prepared.input.entry;
  entry.source = delivery.queue;
  // An accepted document's hash was taken on the worker; the others' here.
  const auto* accepted = work.intake ? std::get_if<intake::Accepted>(&*work.intake) : nullptr;
  entry.body_sha256 =
      accepted != nullptr ? accepted->evidence.body_sha256 : sha256_hex(delivery.body);
  entry.received_at = clock_.now();
  // The input read, then decided against the state the inputs before it left.
  auto rejection = read_and_decide(work, prepared);
  if (prepared.failure) {
    // Decided again later, by the failure's kind.
  } else if (rejection) {
    refuse(prepared, delivery, *rejection);
  } else {
    entry.outcome = store::InputOutcome::processed;
    // An input that closes a step after its breach is processed, and recorded as late.
    if (!prepared.late.empty())
      entry.detail = fmt::format("late: {}", fmt::join(prepared.late, ", "));
  }
  if (!prepared.failure) view_.apply(entry.key, prepared.input.changes);
  if (!prepared.failure && !rejection) archive_received(work, prepared);
  if (!prepared.failure && rejection && keep_rejected_up_to_ && source_of(delivery) == "gov") {
    archive_rejected(work, prepared);
  }
  prepared.work = std::move(work);
  return prepared;
}

// Who a certificate says signed, as the evidence archive keeps it: subject, and IIN or BIN.
static boost::json::object signer_object(const xmldsig::SignerIdentity& signer) {
  boost::json::object out{{"subject", signer.subject}};
  if (signer.iin) out["iin"] = *signer.iin;
  if (signer.bin) out["bin"] = *signer.bin;
  return out;
}

void Processor::archive_received(const Work& work, Prepared& prepared) {
  // Issue 18: a signed document accepted is kept exactly as received, with what it was accepted
  // on and what it caused (the store keeps it only if the input is not a duplicate).
  const auto* accepted = work.intake ? std::get_if<intake::Accepted>(&*work.intake) : nullptr;
  if (accepted == nullptr) return;
  const auto& entry = prepared.input.entry;
  store::EvidenceRecord record;
  record.evidence_id = store::received_evidence_id(accepted->envelope.message_id);
  record.day = calendar::to_string(workflow_->calendar().local_date(entry.received_at));
  record.direction = "received";
  record.outcome = "accepted";
  record.input_key = entry.key;
  record.message_id = accepted->envelope.message_id;
  record.document_type = accepted->document_type;
  record.application_id = prepared.subject;
  auto signer = signer_object(accepted->signer);
  signer["serial"] = accepted->evidence.serial;
  signer["issuer"] = accepted->evidence.issuer;
  record.signer_json = boost::json::serialize(signer);
  record.chain_pem = accepted->evidence.chain_pem;
  record.revocation_json = accepted->evidence.revocation_json;
  record.verified_at = accepted->evidence.verified_at;
  for (const auto& message : prepared.input.outbox)
    record.caused.push_back(message.key);
  record.body = work.delivery.body;
  record.body_sha256 = accepted->evidence.body_sha256;
  prepared.input.evidence.push_back(std::move(record));
}

void Processor::archive_rejected(const Work& work, Prepared& prepared) {
  // Forensics: what was refused, exactly (up to the size intake reads), and why. Nothing in it
  // is trusted: the message id and signer are the ones it claims.
  const auto& entry = prepared.input.entry;
  store::EvidenceRecord record;
  record.evidence_id = "rejected:" + entry.key;
  record.day = calendar::to_string(workflow_->calendar().local_date(entry.received_at));
  record.direction = "received";
  record.outcome = "rejected";
  record.reason = entry.reason;
  record.input_key = entry.key;
  record.message_id = prepared.message_id;
  record.document_type = entry.document_type;
  record.application_id = prepared.subject;
  const auto* accepted = work.intake ? std::get_if<intake::Accepted>(&*work.intake) : nullptr;
  const auto* rejected = work.intake ? std::get_if<intake::Rejected>(&*work.intake) : nullptr;
  const auto* signer = accepted != nullptr                       ? &accepted->signer
                       : rejected != nullptr && rejected->signer ? &*rejected->signer
                                                                 : nullptr;
  if (signer != nullptr) {
    record.signer_json = boost::json::serialize(signer_object(*signer));
  }
  // A document refused by the Rules after its signature verified: what it was verified on.
  if (accepted != nullptr) {
    record.chain_pem = accepted->evidence.chain_pem;
    record.revocation_json = accepted->evidence.revocation_json;
  }
  record.verified_at = entry.received_at;
  for (const auto& message : prepared.input.outbox)
    record.caused.push_back(message.key);
  if (work.delivery.body.size() <= *keep_rejected_up_to_) record.body = work.delivery.body;
  prepared.input.evidence.push_back(std::move(record));
}

std::optional<Rejection> Processor::read_and_decide(const Work& work, Prepared& prepared) {
  const auto& delivery = work.delivery;
  auto& entry = prepared.input.entry;
  const auto now = entry.received_at;
  // Properties that could not be read or carried as they came: the input is not read at all.
  if (!delivery.properties.problems.empty()) {
    prepared.message_id = delivery.properties.message_id;
    return Rejection{Reason::amqp_invalid_properties,
                     fmt::format("{}", fmt::join(delivery.properties.problems, "; "))};
  }
  if (delivery.queue == names_.ais_events) {
    auto parsed = intake::parse_ais_event(delivery.body);
    auto* event = std::get_if<domain::AisEvent>(&parsed);
    if (event == nullptr) return std::get<Rejection>(std::move(parsed));
    prepared.message_id = event->event_id;
    entry.document_type = event->type;
    return decide_once(prepared, "ais:" + event->event_id,
                       [&] { return workflow_->on_event(*event, view_, now); });
  }
  const auto& outcome = *work.intake;
  if (const auto* accepted = std::get_if<intake::Accepted>(&outcome)) {
    prepared.message_id = accepted->envelope.message_id;
    entry.document_type = accepted->document_type;
    return decide_once(prepared, "gov:" + prepared.message_id,
                       [&] { return workflow_->on_document(*accepted, view_, now); });
  }
  const auto& rejected = std::get<intake::Rejected>(outcome);
  entry.document_type = rejected.document_type.value_or("");
  if (rejected.envelope) prepared.message_id = rejected.envelope->message_id;
  return rejected.rejection;
}

std::optional<Rejection> Processor::decide_once(
    Prepared& prepared, const std::string& key,
    const std::function<Result<workflow::Decided>()>& decide) {
  prepared.input.entry.key = key;
  auto taken = view_.key_taken(key);
  if (!taken) {
    prepared.failure = taken.error();
    return std::nullopt;
  }
  // Seen before: the store will say duplicate (or conflict) without deciding it again.
  if (taken.value()) return std::nullopt;
  auto decided = decide();
  if (!decided) {
    prepared.failure = decided.error();
    return std::nullopt;
  }
  auto* effects = std::get_if<workflow::Effects>(&decided.value());
  if (effects == nullptr) return std::get<Rejection>(std::move(decided).value());
  prepared.input.outbox = std::move(effects->outbox);
  prepared.to_sign = std::move(effects->to_sign);
  prepared.input.changes = std::move(effects->changes);
  prepared.subject = std::move(effects->subject);
  prepared.stage = std::move(effects->stage);
  prepared.late = std::move(effects->late);
  return std::nullopt;
}

void Processor::refuse(Prepared& prepared, const amqp::Delivery& delivery,
                       const Rejection& rejection) {
  // A refused message is known by its bytes, never by the id it claims (a forged message must
  // not take the id of a real one that comes later), and by its attempt: sent again (a replay, a
  // fresh re-send), it is judged again; redelivered by the broker, it is the same attempt, and
  // settles as a duplicate of its dead letter.
  auto& entry = prepared.input.entry;
  auto key = free_key(fmt::format("{}:rejected:{}:", source_of(delivery), entry.body_sha256),
                      delivery.redelivered);
  if (!key) {
    prepared.failure = key.error();
    return;
  }
  entry.key = std::move(key).value();
  entry.outcome = store::InputOutcome::rejected;
  entry.reason = code(rejection.reason);
  entry.detail = rejection.detail;
  prepared.input.outbox =
      dead_letter(delivery, entry.key, rejection.reason, rejection.detail, entry.document_type);
  prepared.input.changes = {};
  prepared.to_sign.clear();
}

}  // namespace nqs::daemon
