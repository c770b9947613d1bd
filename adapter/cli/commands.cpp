#include "cli/commands.hpp"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <fstream>
#include <iostream>

#include "cli/cli.hpp"
#include "daemon/daemon.hpp"
#include "intake/intake.hpp"
#include "log/logging.hpp"

namespace nqs::cli {
namespace {

std::optional<calendar::Date> parse_day_or_report(const std::string& text) {
  auto day = configuration::parse_date(text);
  if (!day) {
    std::cerr << fmt::format("'{}' is not a date written YYYY-MM-DD\n", text);
    return std::nullopt;
  }
  return calendar::Date{*day};
}

void print_problems(const configuration::Diagnostics& diagnostics) {
  for (const auto& problem : diagnostics.problems())
    std::cerr << problem << '\n';
  const auto count = diagnostics.problems().size();
  std::cerr << fmt::format("{} problem{} found\n", count, count == 1 ? "" : "s");
}

}  // namespace

std::optional<configuration::Setup> load_or_report(const std::filesystem::path& config_file) {
  configuration::Diagnostics diagnostics;
  auto setup = configuration::load_setup(config_file, diagnostics);
  if (!diagnostics.empty()) {
    print_problems(diagnostics);
    return std::nullopt;
  }
  return setup;
}

int check_config(const std::filesystem::path& config_file) {
  auto setup = load_or_report(config_file);
  if (!setup) return kExitProblem;
  std::cout << fmt::format(
      "{}: configuration is valid (calendar {}, time zone {}, {} document mappings, {} trust "
      "anchors, {} CRLs)\n",
      config_file.string(), setup->calendar->coverage(), setup->config.calendar.time_zone,
      setup->intake->mappings().size(), setup->intake->trust().anchor_count(),
      setup->intake->trust().crl_count());
  return kExitOk;
}

int run_daemon(const std::filesystem::path& config_file) {
  auto setup = load_or_report(config_file);
  if (!setup) {
    std::cerr << "nqs-adapter: not started because of the configuration problems above\n";
    return kExitConfig;
  }
  log::configure(setup->config.log);
  daemon::Daemon daemon(std::move(*setup));
  return daemon.run();
}

int inspect(const std::filesystem::path& config_file, const std::vector<std::string>& files,
            const std::string& at) {
  Instant now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  if (!at.empty()) {
    auto parsed = parse_instant(at);
    if (!parsed) {
      std::cerr << fmt::format("--at '{}' is not an instant such as 2025-09-01T10:00:00+05:00\n",
                               at);
      return kExitUsage;
    }
    now = *parsed;
  }
  // Every file must be readable before any is inspected: a typo is a usage error, not a verdict.
  std::vector<std::string> contents;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << fmt::format("{}: cannot be read\n", file);
      return kExitUsage;
    }
    contents.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto setup = load_or_report(config_file);
  if (!setup) return kExitProblem;
  bool all_accepted = true;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto outcome = setup->intake->process(contents[i], now);
    all_accepted = all_accepted && std::holds_alternative<intake::Accepted>(outcome);
    boost::json::object line;
    line["file"] = files[i];
    for (auto& field : intake::describe(outcome))
      line[field.key()] = field.value();
    std::cout << boost::json::serialize(line) << '\n';
  }
  return all_accepted ? kExitOk : kExitProblem;
}

int calendar_is_working(const std::filesystem::path& config_file, const std::string& day_text) {
  auto day = parse_day_or_report(day_text);
  if (!day) return kExitUsage;
  auto setup = load_or_report(config_file);
  if (!setup) return kExitProblem;
  auto status = setup->calendar->status(*day);
  if (!status) {
    std::cerr << status.error().message << '\n';
    return kExitProblem;
  }
  const auto& value = status.value();
  std::cout << calendar::to_string(*day) << (value.working ? " working" : " non-working");
  if (!value.why.empty()) std::cout << ' ' << value.why;
  std::cout << '\n';
  return kExitOk;
}

int calendar_add(const std::filesystem::path& config_file, const std::string& day_text, int n) {
  auto day = parse_day_or_report(day_text);
  if (!day) return kExitUsage;
  auto setup = load_or_report(config_file);
  if (!setup) return kExitProblem;
  auto due = setup->calendar->working_days_after(*day, n);
  if (!due) {
    std::cerr << due.error().message << '\n';
    return kExitProblem;
  }
  std::cout << calendar::to_string(due.value()) << '\n';
  return kExitOk;
}

int calendar_year(const std::filesystem::path& config_file, int year) {
  auto setup = load_or_report(config_file);
  if (!setup) return kExitProblem;
  auto days = setup->calendar->exceptions(year);
  if (!days) {
    std::cerr << days.error().message << '\n';
    return kExitProblem;
  }
  for (const auto& [day, status] : days.value()) {
    std::cout << fmt::format("{} {} {}\n", calendar::to_string(day),
                             status.working ? "working" : "non-working", status.why);
  }
  return kExitOk;
}

}  // namespace nqs::cli
