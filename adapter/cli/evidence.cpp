// nqs-adapter evidence show | list | verify: the evidence archive read from the configured store.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <iostream>
#include <map>

#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "cli/dlq.hpp"
#include "cli/evidence_checks.hpp"
#include "common/ids.hpp"
#include "intake/intake.hpp"
#include "notify/evidence_seal.hpp"
#include "notify/outbound.hpp"
#include "revocation/x509_facts.hpp"
#include "store/evidence_export.hpp"
#include "workflow/evidence_seals.hpp"

namespace nqs::cli {
namespace {

// Records are read in pages of this many (each with its document).
constexpr std::size_t kPage = 500;

// A JSON value of a column that holds JSON text; the text itself when it is not JSON.
boost::json::value json_of(const std::string& text) {
  boost::system::error_code error;
  auto parsed = boost::json::parse(text, error);
  return error ? boost::json::value(text) : parsed;
}

// A record as `show` and `list --json` print it: its manifest entry (store/evidence_export.hpp)
// with the JSON columns as JSON and the body by its size.
boost::json::object describe(const store::EvidenceRecord& record) {
  auto out = store::manifest_entry(record);
  out["signer"] = json_of(record.signer_json);
  out["revocation"] = json_of(record.revocation_json);
  out.erase("verifiedAtMs");
  out.erase("body");
  out["bodyBytes"] = record.body.size();
  return out;
}

void print_line(const store::EvidenceRecord& record, bool json) {
  if (json) {
    std::cout << boost::json::serialize(describe(record)) << '\n';
    return;
  }
  std::cout << fmt::format("{:>8}  {}  {:<8} {:<8} {:<32} {:<36}  {}\n", record.seq, record.day,
                           record.direction, record.outcome, record.document_type,
                           record.application_id, record.evidence_id);
}

std::unique_ptr<store::Store> open_store(const std::string& config_file, int& exit_code) {
  auto setup = load_or_report(config_file, Parts::calendar);
  if (!setup) {
    exit_code = kExitProblem;
    return nullptr;
  }
  return open_audit(setup->config, exit_code);
}

// A record past the head (read again now: the daemon may have moved it) was not chained.
Result<void> records_past_head(store::Store& store, std::vector<store::EvidenceProblem>& problems) {
  BOOST_OUTCOME_TRY(auto head, store.evidence_head());
  BOOST_OUTCOME_TRY(auto beyond, store.evidence_after(head.seq, 1));
  for (const auto& record : beyond) {
    problems.push_back({record.seq, record.evidence_id,
                        fmt::format("it is past the chain's head (record {})", head.seq)});
  }
  return outcome::success();
}

}  // namespace

int evidence_show(const EvidenceArguments& arguments) {
  int exit_code = kExitOk;
  auto store = open_store(arguments.config, exit_code);
  if (!store) return exit_code;
  auto found = store->find_evidence(arguments.id);
  if (!found) {
    std::cerr << found.error().message << '\n';
    return kExitProblem;
  }
  if (found.value().empty()) {
    std::cerr << fmt::format("no evidence record is named by {}\n", arguments.id);
    return kExitProblem;
  }
  if (!arguments.raw.empty()) {
    if (found.value().size() > 1) {
      std::cerr << fmt::format(
          "{} names {} records; --raw needs one: give its evidence id ({} ...)\n", arguments.id,
          found.value().size(), found.value().front().evidence_id);
      return kExitUsage;
    }
    const auto& record = found.value().front();
    if (!write_file_or_report(arguments.raw, record.body)) return kExitProblem;
    if (sha256_hex(record.body) != record.body_sha256) {
      std::cerr << fmt::format(
          "{}: these bytes are not the ones archived (their SHA-256 is not the recorded {}); "
          "run evidence verify\n",
          record.evidence_id, record.body_sha256);
      exit_code = kExitProblem;
    }
  }
  for (const auto& record : found.value())
    std::cout << boost::json::serialize(describe(record)) << '\n';
  return exit_code;
}

int evidence_list(const EvidenceArguments& arguments) {
  int exit_code = kExitOk;
  auto store = open_store(arguments.config, exit_code);
  if (!store) return exit_code;
  std::size_t shown = 0;
  const std::size_t limit = arguments.limit == 0 ? 100 : arguments.limit;
  std::int64_t after = 0;
  while (shown < limit) {
    auto page = store->evidence_after(after, kPage);
    if (!page) {
      std::cerr << page.error().message << '\n';
      return kExitProblem;
    }
    if (page.value().empty()) break;
    for (const auto& record : page.value()) {
      after = record.seq;
      if (!arguments.day.empty() && record.day != arguments.day) continue;
      print_line(record, arguments.json);
      if (++shown == limit) break;
    }
  }
  return kExitOk;
}

int evidence_verify(const EvidenceArguments& arguments) {
  // Exported files are checked without the store; the store's records with the configuration
  // open_evidence loads (once: loading it means the CRLs, the schemas and the PKCS#12 again).
  if (!arguments.exports.empty()) {
    auto setup = load_or_report(arguments.config, Parts::all);
    return setup ? verify_exports(arguments, *setup) : kExitProblem;
  }
  int exit_code = kExitOk;
  auto session = open_evidence(arguments.config, exit_code);
  if (!session) return exit_code;
  auto& store = session->store;
  // The daemon seals a day kSealMargin after it ends, looking each minute: an hour more is left.
  RecordChecks checks(session->setup,
                      calendar::to_string(session->setup.calendar->local_date(
                          session->now - workflow::kSealMargin - std::chrono::hours{1})));
  // The head first: a record written after it was read is not a problem, one missing before is.
  auto head = store->evidence_head();
  if (!head) {
    std::cerr << head.error().message << '\n';
    return kExitProblem;
  }
  std::vector<store::EvidenceProblem> problems;
  // Where the chain starts: after the records purged (exported and verified before).
  auto start = store->evidence_purged();
  if (!start) {
    std::cerr << start.error().message << '\n';
    return kExitProblem;
  }
  std::int64_t last_seq = start.value().seq;
  std::string last_hash = start.value().record_sha256;
  std::int64_t count = 0;
  while (last_seq < head.value().seq) {
    auto page = store->evidence_after(last_seq, kPage);
    if (!page) {
      std::cerr << page.error().message << '\n';
      return kExitProblem;
    }
    if (page.value().empty()) break;
    auto& records = page.value();
    // Only as far as the head read above.
    while (!records.empty() && records.back().seq > head.value().seq)
      records.pop_back();
    if (records.empty()) break;
    auto found = store::check_evidence_chain(records, last_seq, last_hash);
    problems.insert(problems.end(), found.begin(), found.end());
    for (const auto& record : records)
      checks.check(record, problems);
    count += static_cast<std::int64_t>(records.size());
    last_seq = records.back().seq;
    last_hash = records.back().record_sha256;
  }
  checks.unsealed_days(problems);
  if (auto read = records_past_head(*store, problems); !read) {
    std::cerr << read.error().message << '\n';
    return kExitProblem;
  }
  if (last_seq != head.value().seq || last_hash != head.value().record_sha256) {
    problems.push_back(
        {last_seq, "",
         last_seq < head.value().seq
             ? fmt::format("the chain's head is record {}: the records after {} are missing",
                           head.value().seq, last_seq)
             : fmt::format("the chain's head does not name the last record ({})", last_seq)});
  }
  print_evidence_problems(problems);
  std::cout << fmt::format(
      "{} records, {}; {} signatures checked again; {} days sealed; head {}{}\n", count,
      problems.empty() ? "the chain is unbroken" : problem_count(problems), checks.signatures(),
      checks.seals(), head.value().seq,
      start.value().seq == 0
          ? ""
          : fmt::format("; it starts after record {}, purged", start.value().seq));
  return problems.empty() ? kExitOk : kExitProblem;
}

int evidence_seal(const EvidenceArguments& arguments) {
  int exit_code = kExitOk;
  auto session = open_evidence(arguments.config, exit_code);
  if (!session) return exit_code;
  auto sealed = workflow::seal_ended_days(*session->store, session->setup.notifications->signer(),
                                          *session->setup.calendar, session->now);
  if (!sealed) {
    std::cerr << sealed.error().message << '\n';
    return kExitProblem;
  }
  for (const auto& day : sealed.value())
    std::cout << fmt::format("sealed {}\n", day);
  std::cout << fmt::format("{} days sealed\n", sealed.value().size());
  return kExitOk;
}

}  // namespace nqs::cli
