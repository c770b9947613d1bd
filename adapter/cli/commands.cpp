#include "cli/commands.hpp"

#include <fmt/format.h>

#include <iostream>

#include "cli/cli.hpp"
#include "daemon/daemon.hpp"
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
  if (!setup)
    return kExitProblem;
  std::cout << fmt::format("{}: configuration is valid (calendar {}, time zone {})\n",
                           config_file.string(), setup->calendar->coverage(),
                           setup->config.calendar.time_zone);
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

int calendar_is_working(const std::filesystem::path& config_file, const std::string& day_text) {
  auto day = parse_day_or_report(day_text);
  if (!day)
    return kExitUsage;
  auto setup = load_or_report(config_file);
  if (!setup)
    return kExitProblem;
  auto status = setup->calendar->status(*day);
  if (!status) {
    std::cerr << status.error().message << '\n';
    return kExitProblem;
  }
  const auto& value = status.value();
  std::cout << calendar::to_string(*day) << (value.working ? " working" : " non-working");
  if (!value.why.empty())
    std::cout << ' ' << value.why;
  std::cout << '\n';
  return kExitOk;
}

int calendar_add(const std::filesystem::path& config_file, const std::string& day_text, int n) {
  auto day = parse_day_or_report(day_text);
  if (!day)
    return kExitUsage;
  auto setup = load_or_report(config_file);
  if (!setup)
    return kExitProblem;
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
  if (!setup)
    return kExitProblem;
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
