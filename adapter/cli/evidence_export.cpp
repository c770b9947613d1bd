// nqs-adapter evidence export, and evidence verify --export: a sealed day of the evidence archive
// as one tar file, and that file checked again without the store.
#include "store/evidence_export.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <map>

#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "cli/dlq.hpp"
#include "cli/evidence_checks.hpp"
#include "common/files.hpp"
#include "common/ids.hpp"
#include "common/tar.hpp"

namespace nqs::cli {
namespace {

constexpr std::size_t kPage = 500;
// An exported day is read whole: its entries are bounded, each by more than any message.
constexpr std::size_t kMaxEntryBytes = 256 * 1024 * 1024;
constexpr std::size_t kMaxEntries = 10'000'000;
// A range of days to export: ten years.
constexpr int kMaxDays = 3660;

std::vector<store::EvidenceRecord> check_export(const std::string& path, RecordChecks& checks,
                                                std::vector<store::EvidenceProblem>& problems);

// Writes one sealed day to `dir`: the records' bytes, then the manifest; into a .partial file
// renamed once complete. Returns the records written; 0 when the day has none; an error when it
// is not sealed (its last record is not its seal).
Result<std::size_t> export_day(store::Store& store, const configuration::Setup& setup,
                               const std::string& day, const std::filesystem::path& dir,
                               Instant now) {
  const auto file = dir / store::export_file_name(day);
  auto partial = file;
  partial += ".partial";
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(fmt::format("cannot write {}", partial.string()));
  tar::Writer writer(out);
  const auto mtime = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  boost::json::array entries;
  std::string last_direction;
  std::int64_t after = 0;
  for (;;) {
    BOOST_OUTCOME_TRY(auto page, store.evidence_of_day(day, after, kPage));
    if (page.empty()) break;
    for (const auto& record : page) {
      BOOST_OUTCOME_TRY(
          writer.add(store::export_record_name(day, record.seq), record.body, mtime.count()));
      entries.push_back(store::manifest_entry(record));
      last_direction = record.direction;
      after = record.seq;
    }
  }
  if (entries.empty() || last_direction != "seal") {
    out.close();
    std::filesystem::remove(partial);
    if (entries.empty()) return std::size_t{0};
    return make_error(fmt::format(
        "{} is not sealed: a day is exported with its seal (the daemon seals a day after it ends; "
        "evidence seal does it by hand)",
        day));
  }
  const auto count = entries.size();
  const boost::json::object manifest{{"format", store::kEvidenceExportFormat},
                                     {"day", day},
                                     {"exportedAt", to_utc_string(now)},
                                     {"records", std::move(entries)}};
  BOOST_OUTCOME_TRY(writer.add(store::export_manifest_name(day), boost::json::serialize(manifest),
                               mtime.count()));
  BOOST_OUTCOME_TRY(writer.finish());
  out.close();
  std::error_code ec;
  std::filesystem::rename(partial, file, ec);
  if (ec) return make_error(fmt::format("cannot rename {}: {}", partial.string(), ec.message()));
  // Read back and checked as `verify --export` checks it before it counts as exported (a purge
  // needs the day exported, verified, and unchanged since).
  RecordChecks checks(setup, "9999-12-31");
  std::vector<store::EvidenceProblem> problems;
  const auto records = check_export(file.string(), checks, problems);
  checks.unsealed_days(problems);
  if (!problems.empty() || records.empty()) {
    return make_error(fmt::format("{}: written, but it does not verify (record {}: {})",
                                  file.string(), problems.empty() ? 0 : problems.front().seq,
                                  problems.empty() ? "no records" : problems.front().what));
  }
  BOOST_OUTCOME_TRY(store.record_evidence_export({day, static_cast<std::int64_t>(records.size()),
                                                  records.back().seq, records.back().record_sha256,
                                                  sha256_hex(read_file_bytes(file)), now}));
  return count;
}

// The records of one exported file with their bytes, in the manifest's order; or why the file
// cannot be read as an export.
Result<std::vector<store::EvidenceRecord>> read_export(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot be read", path));
  BOOST_OUTCOME_TRY(auto entries, tar::read(in, kMaxEntryBytes, kMaxEntries));
  std::map<std::string, std::string> bytes;
  const boost::json::value* manifest = nullptr;
  boost::json::value parsed;
  for (auto& entry : entries) {
    if (entry.name.ends_with("/manifest.json")) {
      boost::system::error_code error;
      parsed = boost::json::parse(entry.bytes, error);
      if (error) return make_error(fmt::format("{}: its manifest is not JSON", path));
      manifest = &parsed;
    } else {
      bytes[entry.name] = std::move(entry.bytes);
    }
  }
  const auto* object = manifest == nullptr ? nullptr : manifest->if_object();
  const auto* format = object == nullptr ? nullptr : object->if_contains("format");
  const auto* records = object == nullptr ? nullptr : object->if_contains("records");
  if (format == nullptr || !format->is_string() ||
      format->as_string() != store::kEvidenceExportFormat || records == nullptr ||
      !records->is_array()) {
    return make_error(
        fmt::format("{}: no manifest of the format {}", path, store::kEvidenceExportFormat));
  }
  std::vector<store::EvidenceRecord> out;
  for (const auto& entry : records->as_array()) {
    BOOST_OUTCOME_TRY(auto record, store::record_of_manifest_entry(entry));
    const auto found = bytes.find(store::export_record_name(record.day, record.seq));
    if (found != bytes.end()) record.body = std::move(found->second);
    out.push_back(std::move(record));
  }
  return out;
}

// One exported file checked into `checks` and `problems`: its records' chain from its first
// record, their documents, signatures and seal. Returns its records.
std::vector<store::EvidenceRecord> check_export(const std::string& path, RecordChecks& checks,
                                                std::vector<store::EvidenceProblem>& problems) {
  auto records = read_export(path);
  if (!records) {
    problems.push_back({0, "", records.error().message});
    return {};
  }
  if (records.value().empty()) return {};
  const auto& first = records.value().front();
  // A day's file starts where the day did: its first record's link is taken as given, and
  // every record after it must follow.
  auto found = store::check_evidence_chain(records.value(), first.seq - 1, first.prev_sha256);
  problems.insert(problems.end(), found.begin(), found.end());
  for (const auto& record : records.value())
    checks.check(record, problems);
  return std::move(records).value();
}

// Why a day cannot be purged: not exported (and verified) yet, or changed since its export.
std::optional<std::string> not_purgeable(store::Store& store, const std::string& day) {
  auto exported = store.find_evidence_export(day);
  if (!exported) return exported.error().message;
  if (!exported.value()) return fmt::format("{} has not been exported (evidence export)", day);
  const auto& facts = *exported.value();
  auto from_last = store.evidence_of_day(day, facts.last_seq - 1, 2);
  if (!from_last) return from_last.error().message;
  const auto& records = from_last.value();
  if (records.size() != 1 || records.front().seq != facts.last_seq ||
      records.front().record_sha256 != facts.last_sha256) {
    return fmt::format("{} has changed since it was exported: export it again", day);
  }
  return std::nullopt;
}

}  // namespace

int evidence_purge(const EvidenceArguments& arguments) {
  const auto before = parse_day_or_report(arguments.before);
  if (!before) return kExitUsage;
  int exit_code = kExitOk;
  auto session = open_evidence(arguments.config, exit_code);
  if (!session) return exit_code;
  const auto& setup = session->setup;
  auto& store = session->store;
  const auto now = session->now;
  // Kept at least evidence.retention: only days that ended before then.
  const auto latest = setup.calendar->local_date(now - setup.config.evidence.retention);
  if (*before > latest) {
    std::cerr << fmt::format(
        "records are kept {} days (evidence.retention): --before may be {} at the latest\n",
        std::chrono::duration_cast<std::chrono::hours>(setup.config.evidence.retention).count() /
            24,
        calendar::to_string(latest));
    return kExitProblem;
  }
  auto plan = store->plan_evidence_purge(arguments.before);
  if (!plan) {
    std::cerr << plan.error().message << '\n';
    return kExitProblem;
  }
  if (plan.value().last_seq == 0) {
    std::cout << fmt::format("nothing to purge before {}\n", arguments.before);
    return kExitOk;
  }
  for (const auto& day : plan.value().days) {
    if (auto why = not_purgeable(*store, day)) {
      std::cerr << *why << "; nothing purged\n";
      exit_code = kExitProblem;
    }
  }
  if (exit_code != kExitOk) return exit_code;
  const auto& days = plan.value().days;
  const auto what = fmt::format("records {} to {} of {} days, {} to {}", plan.value().first_seq,
                                plan.value().last_seq, days.size(), days.front(), days.back());
  if (!arguments.yes) {
    std::cerr << fmt::format("{} would be removed for good: add --yes to purge them\n", what);
    return kExitUsage;
  }
  auto purged = store->purge_evidence(
      plan.value(), {0, now, actor_name(arguments.actor), "evidence purge",
                     days.front() + ".." + days.back(), "evidence", "", "purged", what});
  if (!purged) {
    std::cerr << purged.error().message << "; nothing purged\n";
    return kExitProblem;
  }
  std::cout << fmt::format("purged {} records ({}); the chain now starts after record {}\n",
                           purged.value(), what, plan.value().last_seq);
  return kExitOk;
}

int evidence_export(const EvidenceArguments& arguments) {
  const auto from = parse_day_or_report(arguments.from);
  const auto to = parse_day_or_report(arguments.to);
  if (!from || !to) return kExitUsage;
  if (*to < *from || (*to - *from).count() > kMaxDays) {
    std::cerr << fmt::format("--from {} --to {}: not a range of at most {} days\n", arguments.from,
                             arguments.to, kMaxDays);
    return kExitUsage;
  }
  int exit_code = kExitOk;
  auto session = open_evidence(arguments.config, exit_code);
  if (!session) return exit_code;
  std::error_code ec;
  std::filesystem::create_directories(arguments.dir, ec);
  std::size_t files = 0;
  for (auto day = *from; day <= *to; day += date::days{1}) {
    const auto name = calendar::to_string(day);
    auto written = export_day(*session->store, session->setup, name, arguments.dir, session->now);
    if (!written) {
      std::cerr << written.error().message << '\n';
      exit_code = kExitProblem;
      continue;
    }
    if (written.value() == 0) continue;
    ++files;
    std::cout << fmt::format(
        "{}: {} records -> {}\n", name, written.value(),
        (std::filesystem::path(arguments.dir) / store::export_file_name(name)).string());
  }
  std::cout << fmt::format("{} days exported\n", files);
  return exit_code;
}

int verify_exports(const EvidenceArguments& arguments, const configuration::Setup& setup) {
  // Every day in a file must carry its seal.
  RecordChecks checks(setup, "9999-12-31");
  std::vector<store::EvidenceProblem> problems;
  std::size_t count = 0;
  for (const auto& path : arguments.exports)
    count += check_export(path, checks, problems).size();
  checks.unsealed_days(problems);
  print_evidence_problems(problems);
  std::cout << fmt::format(
      "{} records in {} files, {}; {} signatures checked again; {} days "
      "sealed\n",
      count, arguments.exports.size(),
      problems.empty() ? "each day's chain is unbroken" : problem_count(problems),
      checks.signatures(), checks.seals());
  return problems.empty() ? kExitOk : kExitProblem;
}

}  // namespace nqs::cli
