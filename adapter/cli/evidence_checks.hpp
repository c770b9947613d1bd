#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "configuration/config.hpp"
#include "intake/intake.hpp"
#include "store/evidence.hpp"
#include "xmldsig/trust_store.hpp"

// What `evidence verify` checks of each record beyond its place in the chain, for the store and
// for exported day files alike.
namespace nqs::cli {

// A day's records as the chain holds them, and whether its seal has been read.
struct DayTally {
  std::int64_t records = 0;
  std::int64_t first_seq = 0;
  std::int64_t last_seq = 0;
  std::string last_sha256;
  bool sealed = false;
};

// What is checked of each record beyond its place in the chain: an accepted document's signature
// again, and each day's seal against the records of its day before it.
class RecordChecks {
 public:
  // The anchors of today's configuration, without revocation: a record names the CRLs its
  // document was judged on, and those are not current any more.
  // Days before `sealed_before` must have their seal.
  RecordChecks(const configuration::Setup& setup, std::string sealed_before);

  // Once every record is checked: each ended day with records and no seal (its seal removed, or
  // relabelled, with every hash after it recomputed: the chain alone would hold).
  void unsealed_days(std::vector<store::EvidenceProblem>& problems) const;

  void check(const store::EvidenceRecord& record, std::vector<store::EvidenceProblem>& problems);
  [[nodiscard]] std::int64_t signatures() const { return signatures_; }
  [[nodiscard]] std::int64_t seals() const { return seals_; }

 private:
  const intake::Intake& intake_;
  std::shared_ptr<xmldsig::TrustStore> anchors_;
  std::string adapter_subject_;
  std::string sealed_before_;
  xmldsig::AlgorithmPolicy policy_;
  std::map<std::string, DayTally> days_;
  std::int64_t signatures_ = 0;
  std::int64_t seals_ = 0;
};

// Each problem on its own line: `record N (evidence id): what`.
void print_evidence_problems(const std::vector<store::EvidenceProblem>& problems);
// "1 problem", "N problems".
std::string problem_count(const std::vector<store::EvidenceProblem>& problems);

// What an evidence command works on: the configuration, its store, and now as the daemon of that
// configuration sees it (clock.offset, clock.control_file).
struct EvidenceSession {
  configuration::Setup setup;
  std::unique_ptr<store::Store> store;
  Instant now{};
};
// The session, or nothing with the problem said on stderr and `exit_code` set.
std::optional<EvidenceSession> open_evidence(const std::string& config_file, int& exit_code);

struct EvidenceArguments;
// evidence verify --export FILE...: the exported day files checked without the store
// (cli/evidence_export.cpp).
int verify_exports(const EvidenceArguments& arguments, const configuration::Setup& setup);

}  // namespace nqs::cli
