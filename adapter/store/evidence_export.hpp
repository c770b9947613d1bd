#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "common/result.hpp"
#include "store/evidence.hpp"

// One local day of the evidence archive as a file a person can open with standard tools
// (issue 18): a ustar archive `nqs-evidence-<day>.tar` holding `<day>/records/<seq>`, each
// record's exact bytes, then `<day>/manifest.json`: the format, the day, and each record's fields
// exactly as kept (what its hash covers), in chain order.
namespace nqs::store {

inline constexpr std::string_view kEvidenceExportFormat = "nqs-evidence-export/1";

std::string export_file_name(const std::string& day);
std::string export_record_name(const std::string& day, std::int64_t seq);
std::string export_manifest_name(const std::string& day);

// A record's fields for the manifest (its body by name and hash).
boost::json::object manifest_entry(const EvidenceRecord& record);
// A record read back from its manifest entry (without its body), or what is missing.
Result<EvidenceRecord> record_of_manifest_entry(const boost::json::value& entry);

}  // namespace nqs::store
