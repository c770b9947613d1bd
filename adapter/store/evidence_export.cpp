#include "store/evidence_export.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

namespace nqs::store {

std::string export_file_name(const std::string& day) {
  return fmt::format("nqs-evidence-{}.tar", day);
}
std::string export_record_name(const std::string& day, std::int64_t seq) {
  return fmt::format("{}/records/{}", day, seq);
}
std::string export_manifest_name(const std::string& day) {
  return fmt::format("{}/manifest.json", day);
}

boost::json::object manifest_entry(const EvidenceRecord& record) {
  return {{"seq", record.seq},
          {"evidenceId", record.evidence_id},
          {"day", record.day},
          {"direction", record.direction},
          {"outcome", record.outcome},
          {"reason", record.reason},
          {"inputKey", record.input_key},
          {"messageId", record.message_id},
          {"documentType", record.document_type},
          {"applicationId", record.application_id},
          {"signer", record.signer_json},
          {"certificates", record.chain_pem},
          {"revocation", record.revocation_json},
          {"verifiedAtMs", record.verified_at.time_since_epoch().count()},
          {"verifiedAt", to_utc_string(record.verified_at)},
          {"caused", boost::json::value_from(record.caused)},
          {"body", export_record_name(record.day, record.seq)},
          {"bodySha256", record.body_sha256},
          {"prevSha256", record.prev_sha256},
          {"recordSha256", record.record_sha256}};
}

Result<EvidenceRecord> record_of_manifest_entry(const boost::json::value& entry) {
  const auto* object = entry.if_object();
  if (object == nullptr) return make_error("a manifest record is not an object");
  std::string missing;
  auto text = [&](const char* key) {
    const auto* value = object->if_contains(key);
    if (value == nullptr || !value->is_string()) {
      missing = key;
      return std::string();
    }
    return std::string(value->as_string());
  };
  auto integer = [&](const char* key) -> std::int64_t {
    const auto* value = object->if_contains(key);
    if (value == nullptr || !value->is_int64()) {
      missing = key;
      return 0;
    }
    return value->as_int64();
  };
  EvidenceRecord record;
  record.seq = integer("seq");
  record.evidence_id = text("evidenceId");
  record.day = text("day");
  record.direction = text("direction");
  record.outcome = text("outcome");
  record.reason = text("reason");
  record.input_key = text("inputKey");
  record.message_id = text("messageId");
  record.document_type = text("documentType");
  record.application_id = text("applicationId");
  record.signer_json = text("signer");
  record.chain_pem = text("certificates");
  record.revocation_json = text("revocation");
  record.verified_at = Instant{std::chrono::milliseconds{integer("verifiedAtMs")}};
  record.body_sha256 = text("bodySha256");
  record.prev_sha256 = text("prevSha256");
  record.record_sha256 = text("recordSha256");
  const auto* caused = object->if_contains("caused");
  if (caused == nullptr || !caused->is_array()) {
    missing = "caused";
  } else {
    for (const auto& key : caused->as_array()) {
      if (!key.is_string()) {
        missing = "caused";
        break;
      }
      record.caused.emplace_back(key.as_string());
    }
  }
  if (!missing.empty()) {
    return make_error(fmt::format("manifest record {}: '{}' is missing or of the wrong type",
                                  record.seq, missing));
  }
  return record;
}

}  // namespace nqs::store
