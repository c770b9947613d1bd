#include "cli/commands.hpp"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <fstream>
#include <iostream>

#include "cli/cli.hpp"
#include "configuration/year_coverage.hpp"
#include "daemon/daemon.hpp"
#include "daemon/trust_keeper.hpp"
#include "intake/intake.hpp"
#include "log/logging.hpp"
#include "store/sql_store.hpp"
#include "store/store.hpp"

namespace nqs::cli {

std::optional<calendar::Date> parse_day_or_report(const std::string& text) {
  auto day = yaml::parse_date(text);
  if (!day) {
    std::cerr << fmt::format("'{}' is not a date written YYYY-MM-DD\n", text);
    return std::nullopt;
  }
  return calendar::Date{*day};
}

namespace {

void print_problems(const yaml::Diagnostics& diagnostics) {
  for (const auto& problem : diagnostics.problems())
    std::cerr << problem << '\n';
  const auto count = diagnostics.problems().size();
  std::cerr << fmt::format("{} problem{} found\n", count, count == 1 ? "" : "s");
}

}  // namespace

Result<std::unique_ptr<store::Store>> open_configured_store(const configuration::Config& config) {
  BOOST_OUTCOME_TRY(
      auto opened,
      store::open_store(
          config.store.url,
          store::SqliteSettings{config.store.sqlite_path, config.store.busy_timeout,
                                config.store.sqlite_cache_mib},
          configuration::postgres_settings(config.store, [](const std::string& notice) {
            std::cerr << "PostgreSQL: " << notice << '\n';
          })));
  return std::unique_ptr<store::Store>(std::move(opened));
}

Result<std::unique_ptr<amqp::SyncClient>> connect_broker(const configuration::Config& config) {
  BOOST_OUTCOME_TRY(auto nodes, configuration::broker_nodes(config.amqp));
  return amqp::SyncClient::connect(nodes);
}

std::optional<configuration::Setup> load_or_report(const std::filesystem::path& config_file,
                                                   configuration::Parts parts, bool offline) {
  yaml::Diagnostics diagnostics;
  auto setup = configuration::load_setup(config_file, diagnostics, offline, parts);
  if (!diagnostics.empty()) {
    print_problems(diagnostics);
    return std::nullopt;
  }
  return setup;
}

int check_config(const std::filesystem::path& config_file) {
  auto setup = load_or_report(config_file, Parts::all);
  if (!setup) return kExitProblem;
  std::cout << fmt::format(
      "{}: configuration is valid (calendar {}, time zone {}, {} document mappings, {} trust "
      "anchors, {} CRLs)\n",
      config_file.string(), setup->calendar->coverage(), setup->config.calendar.time_zone,
      setup->intake->mappings().size(), setup->intake->trust()->anchor_count(),
      setup->intake->trust()->crl_count());
  for (const auto& note : domain::due_dates_not_sent(setup->config.deadlines))
    std::cerr << "note: " << note << "\n";
  // Today as the daemon of this configuration sees it (clock.offset, clock.control_file).
  if (auto now = configured_now(setup->config)) {
    const auto years = configuration::year_coverage(*setup->calendar, setup->config.domain.mci,
                                                    setup->calendar->local_date(now.value()));
    if (auto warning = years.warning()) std::cerr << "warning: " << *warning << "\n";
  }
  return kExitOk;
}

int run_daemon(const std::filesystem::path& config_file) {
  auto setup = load_or_report(config_file, Parts::all);
  if (!setup) {
    std::cerr << "nqs-adapter: not started because of the configuration problems above\n";
    return kExitConfig;
  }
  log::configure(setup->config.log);
  for (const auto& note : domain::due_dates_not_sent(setup->config.deadlines))
    log::warn("a command will tell the AIS no due date", {{"note", note}});
  daemon::Daemon daemon(std::move(*setup));
  return daemon.run();
}

std::optional<std::vector<std::string>> read_files_or_report(const std::vector<std::string>& files,
                                                             bool regular_only) {
  std::vector<std::string> contents;
  for (const auto& file : files) {
    // Checked before opening: opening a FIFO waits for a writer.
    std::error_code ec;
    const bool allowed = !regular_only || std::filesystem::is_regular_file(file, ec);
    std::ifstream in;
    if (allowed) in.open(file, std::ios::binary);
    if (!allowed || !in) {
      std::cerr << fmt::format("{}: cannot be read{}\n", file,
                               regular_only ? " (or not a regular file)" : "");
      return std::nullopt;
    }
    contents.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return contents;
}

bool write_file_or_report(const std::string& file, std::string_view bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) {
    std::cerr << fmt::format("cannot write {}\n", file);
    return false;
  }
  return true;
}

int inspect(const std::filesystem::path& config_file, const std::vector<std::string>& files,
            const std::string& at, bool offline) {
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
  auto read = read_files_or_report(files);
  if (!read) return kExitUsage;
  const auto& contents = *read;
  auto setup = load_or_report(config_file, Parts::intake, offline);
  if (!setup) return kExitProblem;
  // The CRLs fetched now, as the daemon keeps them (what fails is logged on stderr).
  log::configure(setup->config.log);
  std::unique_ptr<daemon::TrustKeeper> keeper;
  SystemClock clock;
  if (!offline) {
    keeper = std::make_unique<daemon::TrustKeeper>(*setup, clock);
    keeper->refresh_now();
  }
  bool all_accepted = true;
  for (std::size_t i = 0; i < files.size(); ++i) {
    auto outcome = setup->intake->process(contents[i], now);
    // A CRL learnt from this file's verified certificate: fetched, and the file read again.
    if (keeper && std::holds_alternative<intake::Rejected>(outcome) && keeper->refresh_now()) {
      outcome = setup->intake->process(contents[i], now);
    }
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
  auto setup = load_or_report(config_file, Parts::calendar);
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
  auto setup = load_or_report(config_file, Parts::calendar);
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
  auto setup = load_or_report(config_file, Parts::calendar);
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

Result<Instant> configured_now(const configuration::Config& config) {
  auto extra = std::chrono::milliseconds{0};
  if (!config.clock.control_file.empty()) {
    BOOST_OUTCOME_TRY(extra, configuration::read_clock_control(config.clock.control_file));
  }
  return OffsetClock(config.clock.offset + extra).now();
}

namespace {

std::string overdue_text(std::chrono::milliseconds late) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(late).count();
  if (minutes < 60) return fmt::format("{}m", minutes);
  if (minutes < 48 * 60) return fmt::format("{}h{:02d}m", minutes / 60, minutes % 60);
  return fmt::format("{}d{:02d}h", minutes / (24 * 60), (minutes / 60) % 24);
}

}  // namespace

int sla_list(const std::filesystem::path& config_file, bool overdue_only, bool json) {
  auto setup = load_or_report(config_file, Parts::calendar);
  if (!setup) return kExitProblem;
  auto now = configured_now(setup->config);
  if (!now) {
    std::cerr << now.error().message << '\n';
    return kExitProblem;
  }
  auto store = open_configured_store(setup->config);
  if (!store) {
    std::cerr << store.error().message << '\n';
    return kExitProblem;
  }
  auto rows = store.value()->open_deadlines(
      overdue_only ? std::optional<Instant>(now.value()) : std::nullopt, 100000);
  if (!rows) {
    std::cerr << rows.error().message << '\n';
    return kExitProblem;
  }
  const auto& zone = *setup->calendar;
  auto local = [&](Instant instant) { return zone.local_string(instant); };
  if (!json) {
    std::cout << fmt::format("{:<36}  {:<22}  {:<18}  {:<25}  {:<25}  {}\n", "APPLICATION", "STEP",
                             "RESPONSIBLE", "STARTED", "DUE", "STATE");
  }
  for (const auto& row : rows.value()) {
    const bool overdue = row.due < now.value();
    const std::string state = row.breached ? "breached"
                              : overdue    ? "overdue"
                              : row.warned ? "warned"
                                           : "open";
    if (json) {
      boost::json::object line;
      line["applicationId"] = row.application_id;
      line["step"] = row.step;
      line["responsible"] = row.responsible;
      line["basis"] = row.basis;
      line["started"] = local(row.started);
      line["due"] = local(row.due);
      line["state"] = state;
      if (overdue) {
        line["overdueMs"] =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.value() - row.due).count();
      }
      std::cout << boost::json::serialize(line) << '\n';
      continue;
    }
    std::cout << fmt::format(
        "{:<36}  {:<22}  {:<18}  {:<25}  {:<25}  {}\n", row.application_id, row.step,
        row.responsible, local(row.started), local(row.due),
        overdue ? fmt::format("{} by {}", state, overdue_text(now.value() - row.due)) : state);
  }
  if (!json) {
    std::cout << fmt::format("{} open deadline{}{} at {}\n", rows.value().size(),
                             rows.value().size() == 1 ? "" : "s", overdue_only ? " overdue" : "",
                             local(now.value()));
  }
  return kExitOk;
}

int clock_show(const std::filesystem::path& config_file) {
  auto setup = load_or_report(config_file, Parts::calendar);
  if (!setup) return kExitProblem;
  auto now = configured_now(setup->config);
  if (!now) {
    std::cerr << now.error().message << '\n';
    return kExitProblem;
  }
  std::cout << fmt::format("{} (offset {} ms)\n", setup->calendar->local_string(now.value()),
                           (now.value() - SystemClock().now()).count());
  return kExitOk;
}

int clock_advance(const std::filesystem::path& config_file, const std::string& by_text) {
  auto setup = load_or_report(config_file, Parts::calendar);
  if (!setup) return kExitProblem;
  const auto by = yaml::parse_duration(by_text);
  if (!by) {
    std::cerr << fmt::format("'{}' is not a duration (such as 90m, 36h or 70d)\n", by_text);
    return kExitUsage;
  }
  if (setup->config.clock.control_file.empty()) {
    std::cerr << "clock.control_file is not set in the configuration: the clock of a running "
                 "daemon can only be moved through it (tests and rehearsals only)\n";
    return kExitProblem;
  }
  auto moved = configuration::advance_clock_control(setup->config.clock.control_file, *by);
  if (!moved) {
    std::cerr << moved.error().message << '\n';
    return kExitProblem;
  }
  std::cout << fmt::format("the clock of {} is now {} ahead of the system clock\n",
                           config_file.string(),
                           overdue_text(setup->config.clock.offset + moved.value()));
  return kExitOk;
}

}  // namespace nqs::cli
