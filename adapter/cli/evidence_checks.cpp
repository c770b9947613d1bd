#include "cli/evidence_checks.hpp"

#include <fmt/format.h>

#include <iostream>

#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "cli/dlq.hpp"
#include "common/ids.hpp"
#include "notify/evidence_seal.hpp"
#include "notify/outbound.hpp"
#include "revocation/x509_facts.hpp"

namespace nqs::cli {
namespace {

// A signed document received and accepted, checked again as it was judged: its signature by the
// certificates recorded with it, chained to the trust anchors at the recorded instant (the
// signature's problem, none when it holds). A document whose bytes no longer have their recorded
// hash is already named by the chain's check.
std::optional<std::string> signature_problem(const store::EvidenceRecord& record,
                                             const intake::Intake& intake,
                                             const xmldsig::TrustStore& anchors) {
  if (record.direction != "received" || record.outcome != "accepted") return std::nullopt;
  if (sha256_hex(record.body) != record.body_sha256) return std::nullopt;
  auto problem = intake.check_archived(record.body, record.chain_pem, record.verified_at, anchors);
  if (!problem) return std::nullopt;
  return fmt::format("its signature does not verify again as judged at {}: {}: {}",
                     to_utc_string(record.verified_at), code(problem->reason), problem->detail);
}

// What the chain read so far says of a seal record: its signature, and that it states the
// records of its day the chain holds before it.
std::optional<std::string> seal_problem(const store::EvidenceRecord& record,
                                        std::map<std::string, DayTally>& days,
                                        const xmldsig::TrustStore& anchors,
                                        const xmldsig::AlgorithmPolicy& policy,
                                        const std::string& adapter_subject) {
  auto& tally = days[record.day];
  tally.sealed = true;
  auto read = notify::read_seal(record.body, anchors, policy, adapter_subject);
  if (auto* problem = std::get_if<std::string>(&read)) {
    return "the day's seal does not verify: " + *problem;
  }
  const auto& facts = std::get<notify::SealFacts>(read);
  if (facts.day != record.day || facts.records != tally.records ||
      facts.first_seq != tally.first_seq || facts.last_seq != tally.last_seq ||
      facts.last_sha256 != tally.last_sha256) {
    return fmt::format(
        "the seal of {} states {} records, {} to {}, the last with hash {}; the chain holds {} "
        "records of {} before it, {} to {}, the last with hash {}",
        facts.day, facts.records, facts.first_seq, facts.last_seq, facts.last_sha256, tally.records,
        record.day, tally.first_seq, tally.last_seq, tally.last_sha256);
  }
  return std::nullopt;
}

// A record that is not a seal counted into its day; a problem if that day was sealed before it.
std::optional<std::string> count_into_day(const store::EvidenceRecord& record,
                                          std::map<std::string, DayTally>& days) {
  auto& tally = days[record.day];
  if (tally.records == 0) tally.first_seq = record.seq;
  ++tally.records;
  tally.last_seq = record.seq;
  tally.last_sha256 = record.record_sha256;
  if (!tally.sealed) return std::nullopt;
  return fmt::format("it is of {}, whose seal comes before it", record.day);
}

}  // namespace

RecordChecks::RecordChecks(const configuration::Setup& setup, std::string sealed_before)
    : intake_(*setup.intake),
      anchors_(setup.intake->trust()->without_revocation()),
      adapter_subject_(revocation::name_text(
          X509_get_subject_name(setup.notifications->signer().certificates.front().get()))),
      sealed_before_(std::move(sealed_before)) {
  policy_.allowed.insert(setup.config.trust.allowed_algorithms.begin(),
                         setup.config.trust.allowed_algorithms.end());
}

void RecordChecks::unsealed_days(std::vector<store::EvidenceProblem>& problems) const {
  for (const auto& [day, tally] : days_) {
    if (tally.sealed || tally.records == 0 || day >= sealed_before_) continue;
    problems.push_back(
        {tally.last_seq, "",
         fmt::format("{} has ended and its {} records have no seal", day, tally.records)});
  }
}

void RecordChecks::check(const store::EvidenceRecord& record,
                         std::vector<store::EvidenceProblem>& problems) {
  auto problem = [&](std::string what) {
    problems.push_back({record.seq, record.evidence_id, std::move(what)});
  };
  if (record.direction == "seal") {
    ++seals_;
    if (auto wrong = seal_problem(record, days_, *anchors_, policy_, adapter_subject_))
      problem(std::move(*wrong));
    return;
  }
  if (auto wrong = count_into_day(record, days_)) problem(std::move(*wrong));
  if (record.direction == "received" && record.outcome == "accepted") ++signatures_;
  if (auto wrong = signature_problem(record, intake_, *anchors_)) problem(std::move(*wrong));
}

void print_evidence_problems(const std::vector<store::EvidenceProblem>& problems) {
  for (const auto& problem : problems) {
    std::cout << fmt::format("record {}{}: {}\n", problem.seq,
                             problem.evidence_id.empty() ? "" : " (" + problem.evidence_id + ")",
                             problem.what);
  }
}

std::string problem_count(const std::vector<store::EvidenceProblem>& problems) {
  return problems.size() == 1 ? "1 problem" : fmt::format("{} problems", problems.size());
}

std::optional<EvidenceSession> open_evidence(const std::string& config_file, int& exit_code) {
  auto setup = load_or_report(config_file, Parts::all);
  exit_code = kExitProblem;
  if (!setup) return std::nullopt;
  auto store = open_audit(setup->config, exit_code);
  if (!store) return std::nullopt;
  auto now = configured_now(setup->config);
  if (!now) {
    std::cerr << now.error().message << '\n';
    exit_code = kExitProblem;
    return std::nullopt;
  }
  exit_code = kExitOk;
  return EvidenceSession{std::move(*setup), std::move(store), now.value()};
}

}  // namespace nqs::cli
