#include "cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/commands.hpp"
#include "version.hpp"

namespace nqs::cli {
namespace {

struct Arguments {
  std::string config = "config/adapter.yaml";
  std::string day;
  int count = 0;
  int year = 0;
  std::vector<std::string> files;
  std::string at;
  bool overdue = false;
  bool json = false;
  std::string duration;
};

void add_config_option(CLI::App& command, Arguments& arguments) {
  command.add_option("--config,-c", arguments.config,
                     "configuration file; default $NQS_ADAPTER_CONFIG, else config/adapter.yaml "
                     "(relative paths inside it are relative to its folder)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "nqs-adapter: verifies EDS-signed voucher applications from the government bus, keeps the "
      "statutory deadlines of Rules 380 in working days, and exchanges commands and events with "
      "the labour-market AIS over RabbitMQ.",
      "nqs-adapter"};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 a problem with what was asked, 2 usage error, 78 run refused "
      "to start on a configuration problem.");

  Arguments arguments;
  // The environment gives the default and --config overrides it. (CLI11's envname would apply the
  // variable to every subcommand's option, overwriting a --config given to another one.)
  if (const char* from_environment = std::getenv("NQS_ADAPTER_CONFIG");
      from_environment != nullptr && *from_environment != '\0') {
    arguments.config = from_environment;
  }
  int exit_code = kExitOk;

  auto* run = app.add_subcommand("run", "run the daemon until SIGTERM or SIGINT");
  add_config_option(*run, arguments);
  run->callback([&] { exit_code = run_daemon(arguments.config); });

  auto* check = app.add_subcommand(
      "check-config", "validate the configuration and every file it names; list every problem");
  add_config_option(*check, arguments);
  check->callback([&] { exit_code = check_config(arguments.config); });

  auto* inspect_command = app.add_subcommand(
      "inspect",
      "run intake on files offline: one JSON object per line (file, outcome, reason, detail, "
      "documentType, signer, command); exit 0 if all accepted, 1 if any rejected");
  add_config_option(*inspect_command, arguments);
  inspect_command->add_option("FILE", arguments.files, "a message as received from the bus")
      ->required();
  inspect_command->add_option("--at", arguments.at,
                              "check certificates as at this instant (default: now)");
  inspect_command->callback(
      [&] { exit_code = inspect(arguments.config, arguments.files, arguments.at); });

  auto* calendar = app.add_subcommand("calendar", "ask the working-day calendar");
  calendar->require_subcommand(1);
  add_config_option(*calendar, arguments);

  auto* is_working =
      calendar->add_subcommand("is-working", "print 'DATE working' or 'DATE non-working <why>'");
  is_working->add_option("DATE", arguments.day, "a date, YYYY-MM-DD")->required();
  is_working->fallthrough();
  is_working->callback([&] { exit_code = calendar_is_working(arguments.config, arguments.day); });

  auto* add = calendar->add_subcommand(
      "add", "print the date N working days after DATE (DATE itself not counted)");
  add->add_option("DATE", arguments.day, "a date, YYYY-MM-DD")->required();
  add->add_option("N", arguments.count, "working days, 0 or more")
      ->required()
      ->check(CLI::NonNegativeNumber);
  add->fallthrough();
  add->callback(
      [&] { exit_code = calendar_add(arguments.config, arguments.day, arguments.count); });

  auto* year = calendar->add_subcommand(
      "year", "print every non-working weekday and every working weekend day of a year");
  year->add_option("YYYY", arguments.year, "the year")->required()->check(CLI::Range(1, 9999));
  year->fallthrough();
  year->callback([&] { exit_code = calendar_year(arguments.config, arguments.year); });

  auto* sla = app.add_subcommand("sla", "the statutory deadlines being tracked");
  sla->require_subcommand(1);
  auto* sla_list_command =
      sla->add_subcommand("list", "open deadlines, earliest due first: due when, whose");
  add_config_option(*sla_list_command, arguments);
  sla_list_command->add_flag("--overdue", arguments.overdue, "only those past their due time");
  sla_list_command->add_flag("--json", arguments.json, "one JSON object per line");
  sla_list_command->callback(
      [&] { exit_code = sla_list(arguments.config, arguments.overdue, arguments.json); });

  auto* clock = app.add_subcommand(
      "clock", "the daemon's clock, for tests and rehearsals (clock.offset, clock.control_file)");
  clock->require_subcommand(1);
  auto* show = clock->add_subcommand("show", "print now as the configured daemon sees it");
  add_config_option(*show, arguments);
  show->callback([&] { exit_code = clock_show(arguments.config); });
  auto* advance = clock->add_subcommand(
      "advance", "move the running daemon's clock forward through clock.control_file");
  add_config_option(*advance, arguments);
  advance->add_option("DURATION", arguments.duration, "such as 90m, 36h or 70d")->required();
  advance->callback([&] { exit_code = clock_advance(arguments.config, arguments.duration); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace nqs::cli
