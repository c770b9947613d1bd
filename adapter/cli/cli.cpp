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
  bool offline = false;
  std::string duration;
};

void add_config_option(CLI::App& command, Arguments& arguments) {
  command.add_option("--config,-c", arguments.config,
                     "configuration file; default $NQS_ADAPTER_CONFIG, else config/adapter.yaml "
                     "(relative paths inside it are relative to its folder)");
}

// run, check-config and inspect: the daemon and what reads its configuration as it would.
void add_daemon_commands(CLI::App& app, Arguments& arguments, int& exit_code) {
  auto* run = app.add_subcommand("run", "run the daemon until SIGTERM or SIGINT");
  add_config_option(*run, arguments);
  run->callback([&] { exit_code = run_daemon(arguments.config); });

  auto* check = app.add_subcommand(
      "check-config", "validate the configuration and every file it names; list every problem");
  add_config_option(*check, arguments);
  check->callback([&] { exit_code = check_config(arguments.config); });

  auto* inspect_command = app.add_subcommand(
      "inspect",
      "run intake on files as the daemon would (CRLs fetched and OCSP asked by trust.revocation): "
      "one JSON object per line (file, outcome, reason, detail, documentType, signer, command); "
      "exit 0 if all accepted, 1 if any rejected");
  add_config_option(*inspect_command, arguments);
  inspect_command->add_option("FILE", arguments.files, "a message as received from the bus")
      ->required();
  inspect_command->add_option("--at", arguments.at,
                              "check certificates as at this instant (default: now)");
  inspect_command->add_flag("--offline", arguments.offline,
                            "no network: revocation from trust.crls and the cached CRLs only");
  inspect_command->callback([&] {
    exit_code = inspect(arguments.config, arguments.files, arguments.at, arguments.offline);
  });
}

// calendar is-working, add, year.
void add_calendar_commands(CLI::App& app, Arguments& arguments, int& exit_code) {
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
}

// sla list, clock show and advance, queues: what operators look at.
void add_operations_commands(CLI::App& app, Arguments& arguments, int& exit_code) {
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

  auto* queues_command = app.add_subcommand(
      "queues", "the adapter's queues: ready, consumers, state (exit 1 if one needs attention)");
  add_config_option(*queues_command, arguments);
  queues_command->add_flag("--json", arguments.json, "one JSON object per line");
  queues_command->callback([&] { exit_code = queues(arguments.config, arguments.json); });
}

// send --queue gov|ais FILE...
void add_send_command(CLI::App& app, SendArguments& arguments, int& exit_code) {
  auto* command = app.add_subcommand(
      "send",
      "publish saved messages to an input queue with confirms (a SOAP file, a JSON event, a dead "
      "letter's body from dlq show --raw); under the production profile only with --yes");
  command->add_option("--config,-c", arguments.config, "configuration file (as for run)");
  command->add_option("--queue", arguments.queue, "gov or ais (or an input queue's name)")
      ->required();
  command->add_option("--message-id", arguments.message_id,
                      "the AMQP message id (one FILE; default: the message's own messageId or "
                      "eventId, else a new UUID)");
  command->add_flag("--yes", arguments.yes, "send under the production profile");
  command->add_option("FILE", arguments.files, "the messages, sent in order")->required();
  command->callback([&] { exit_code = send(arguments); });
}

// demo [--step]
void add_demo_command(CLI::App& app, DemoArguments& arguments, int& exit_code) {
  auto* command = app.add_subcommand(
      "demo",
      "play one voucher from application to payment and one refusal against the running local "
      "daemon, printing each step (not under the production profile)");
  command->add_option("--config,-c", arguments.config, "configuration file (as for run)");
  command->add_option("--pki", arguments.pki,
                      "the local test PKI (default: trust/local next to the configuration file)");
  command->add_flag("--step", arguments.step, "wait for Enter between steps");
  command->callback([&] { exit_code = play_demo(arguments); });
}

// dlq list, show, replay, purge, audit.
void add_dlq_commands(CLI::App& app, DlqArguments& dlq_arguments, int& exit_code) {
  auto* dlq = app.add_subcommand("dlq", "the dead letters: list, show, replay, purge, audit");
  dlq->require_subcommand(1);
  auto add_filters = [&](CLI::App& command) {
    command.add_option("--config,-c", dlq_arguments.config, "configuration file (as for run)");
    command.add_option("--queue", dlq_arguments.queue,
                       "gov, ais, or the name of an input queue or its .dlq (default: both)");
    command.add_option("--reason", dlq_arguments.reason,
                       "a reason code (signature.invalid), or a prefix ending in '.' (signature.)");
    command.add_option("--type", dlq_arguments.type, "document type (VoucherApplication, ...)");
    command.add_option("--since", dlq_arguments.since, "failed at or after (instant or date)");
    command.add_option("--until", dlq_arguments.until, "failed before (instant or date)");
    command.add_option("--limit", dlq_arguments.limit, "at most this many");
    command.add_option("--scan", dlq_arguments.scan, "read at most this many per queue")
        ->capture_default_str();
    command.add_flag("--json", dlq_arguments.json, "one JSON object per line");
  };
  auto* dlq_list_command = dlq->add_subcommand("list", "the dead letters matching the filters");
  add_filters(*dlq_list_command);
  dlq_list_command->callback([&] { exit_code = dlq_list(dlq_arguments); });
  auto* dlq_show_command =
      dlq->add_subcommand("show", "one dead letter: properties, headers, body pretty-printed");
  add_filters(*dlq_show_command);
  dlq_show_command->add_option("ID", dlq_arguments.ids, "its id in dlq list")->required();
  dlq_show_command->add_option("--raw", dlq_arguments.raw,
                               "also write its body's exact bytes to FILE (for send)");
  dlq_show_command->callback([&] { exit_code = dlq_show(dlq_arguments); });
  auto* dlq_replay_command = dlq->add_subcommand(
      "replay", "publish dead letters back to their queue (with confirms), then remove them");
  add_filters(*dlq_replay_command);
  dlq_replay_command->add_option("ID", dlq_arguments.ids, "ids from dlq list");
  dlq_replay_command->add_flag("--dry-run", dlq_arguments.dry_run, "say what would be replayed");
  dlq_replay_command->add_flag("--force", dlq_arguments.force, "beyond ops.replay_cap");
  dlq_replay_command->add_option("--actor", dlq_arguments.actor, "who, for the audit");
  dlq_replay_command->callback([&] { exit_code = dlq_replay(dlq_arguments); });
  auto* dlq_purge_command = dlq->add_subcommand("purge", "remove dead letters for good (--yes)");
  add_filters(*dlq_purge_command);
  dlq_purge_command->add_option("ID", dlq_arguments.ids, "ids from dlq list");
  dlq_purge_command->add_flag("--yes", dlq_arguments.yes, "really remove them");
  dlq_purge_command->add_option("--actor", dlq_arguments.actor, "who, for the audit");
  dlq_purge_command->callback([&] { exit_code = dlq_purge(dlq_arguments); });
  auto* dlq_audit_command =
      dlq->add_subcommand("audit", "every replay and purge: who, when, which, outcome");
  dlq_audit_command->add_option("--config,-c", dlq_arguments.config, "configuration file");
  dlq_audit_command->add_option("--limit", dlq_arguments.limit, "the newest this many (100)");
  dlq_audit_command->add_flag("--json", dlq_arguments.json, "one JSON object per line");
  dlq_audit_command->callback([&] { exit_code = dlq_audit(dlq_arguments); });
}

// evidence show, list, verify.
void add_evidence_commands(CLI::App& app, EvidenceArguments& arguments, int& exit_code) {
  auto* evidence = app.add_subcommand(
      "evidence", "the evidence archive: every signed message kept as received or sent");
  evidence->require_subcommand(1);
  auto add_config = [&](CLI::App& command) {
    command.add_option("--config,-c", arguments.config, "configuration file (as for run)");
  };
  auto* show = evidence->add_subcommand(
      "show", "the records an evidence id, message id or application id names (JSON lines)");
  add_config(*show);
  show->add_option("ID", arguments.id, "an evidence id, message id or application id")->required();
  show->add_option("--raw", arguments.raw, "write the exact signed bytes of the record to FILE");
  show->callback([&] { exit_code = evidence_show(arguments); });
  auto* list = evidence->add_subcommand("list", "the records in chain order");
  add_config(*list);
  list->add_option("--day", arguments.day, "only the records of this day (YYYY-MM-DD)");
  list->add_option("--limit", arguments.limit, "at most this many (default 100)");
  list->add_flag("--json", arguments.json, "one JSON object per line");
  list->callback([&] { exit_code = evidence_list(arguments); });
  auto* verify = evidence->add_subcommand(
      "verify",
      "check the whole chain: each document against its hash, each record against its own, each "
      "link, the head, each accepted document's signature at its instant, each day's seal; exit "
      "0 if unbroken, 1 with each problem named");
  add_config(*verify);
  verify->add_option("--export", arguments.exports,
                     "check these exported day files instead of the store (the store is not "
                     "opened: another machine with the trust anchors will do)");
  verify->callback([&] { exit_code = evidence_verify(arguments); });
  auto* export_days = evidence->add_subcommand(
      "export",
      "write one tar file a sealed day (its records, their exact bytes, its seal, a "
      "JSON manifest) into DIR");
  add_config(*export_days);
  export_days->add_option("--from", arguments.from, "the first day (YYYY-MM-DD)")->required();
  export_days->add_option("--to", arguments.to, "the last day (YYYY-MM-DD)")->required();
  export_days->add_option("DIR", arguments.dir, "the folder to write into")->required();
  export_days->callback([&] { exit_code = evidence_export(arguments); });
  auto* purge = evidence->add_subcommand(
      "purge",
      "remove the records of the days before D, each exported, verified and older than "
      "evidence.retention (audited; needs --yes)");
  add_config(*purge);
  purge->add_option("--before", arguments.before, "the first day kept (YYYY-MM-DD)")->required();
  purge->add_flag("--yes", arguments.yes, "remove them (without it: what would be removed)");
  purge->add_option("--actor", arguments.actor, "who, for the audit (default: the OS user)");
  purge->callback([&] { exit_code = evidence_purge(arguments); });
  auto* seal = evidence->add_subcommand(
      "seal",
      "seal each ended day not sealed yet with the adapter's signing key, as the running daemon "
      "does each minute (a day is sealed 10 minutes after it ends)");
  add_config(*seal);
  seal->callback([&] { exit_code = evidence_seal(arguments); });
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
  add_daemon_commands(app, arguments, exit_code);
  add_calendar_commands(app, arguments, exit_code);
  add_operations_commands(app, arguments, exit_code);
  DlqArguments dlq_arguments;
  add_dlq_commands(app, dlq_arguments, exit_code);
  EvidenceArguments evidence_arguments;
  evidence_arguments.config = arguments.config;
  add_evidence_commands(app, evidence_arguments, exit_code);
  SendArguments send_arguments;
  send_arguments.config = arguments.config;
  add_send_command(app, send_arguments, exit_code);
  DemoArguments demo_arguments;
  demo_arguments.config = arguments.config;
  add_demo_command(app, demo_arguments, exit_code);

  try {
    dlq_arguments.config = arguments.config;
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
