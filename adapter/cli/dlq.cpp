// nqs-adapter dlq list | show | replay | purge | audit: the dead letters of the input queues.
#include "cli/dlq.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <iostream>

#include "amqp/sync_client.hpp"
#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "ops/dead_letters.hpp"
#include "store/store.hpp"
#include "yaml/reader.hpp"

namespace nqs::cli {

void put_back(amqp::SyncClient& client) {
  if (auto back = client.put_back(); !back) {
    std::cerr << "a dead letter read could not be put back as a copy (the broker returns it): "
              << back.error().message << '\n';
  }
}

std::unique_ptr<store::Store> open_audit(const configuration::Config& config, int& exit_code) {
  auto store = open_configured_store(config);
  if (!store) {
    std::cerr << store.error().message << '\n';
    exit_code = kExitProblem;
    return nullptr;
  }
  return std::move(store).value();
}

namespace {

// --since/--until: an instant, or a date (its local midnight, Asia/Almaty).
std::optional<Instant> parse_when(const std::string& text, const calendar::WorkingCalendar& zone,
                                  bool& bad) {
  if (text.empty()) return std::nullopt;
  if (auto instant = parse_instant(text)) return instant;
  if (auto day = yaml::parse_date(text)) {
    return zone.at_local_time(calendar::Date{*day}, std::chrono::minutes{0});
  }
  std::cerr << fmt::format("'{}' is not an instant (2025-09-01T10:00:00+05:00) or a date\n", text);
  bad = true;
  return std::nullopt;
}

struct Session {
  explicit Session(configuration::Setup loaded) : setup(std::move(loaded)) {}
  Session(Session&&) = default;
  Session& operator=(Session&&) = delete;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() {
    if (client) put_back(*client);
  }

  configuration::Setup setup;
  std::unique_ptr<amqp::SyncClient> client;
  std::vector<std::string> dlqs;
  std::vector<ops::DeadLetter> letters;
  std::string user;  // who the client logged in as
};

// Loads the configuration, connects, and reads the dead letters of the chosen queues.
std::optional<Session> open_session(const DlqArguments& arguments, int& exit_code) {
  auto setup = load_or_report(arguments.config, Parts::calendar);
  if (!setup) {
    exit_code = kExitProblem;
    return std::nullopt;
  }
  Session session(std::move(*setup));
  const auto& names = session.setup.config.amqp;
  for (const auto& input : {names.gov_in, names.ais_events}) {
    if (arguments.queue.empty() || arguments.queue == input || arguments.queue == input + ".dlq" ||
        (arguments.queue == "gov" && input == names.gov_in) ||
        (arguments.queue == "ais" && input == names.ais_events)) {
      session.dlqs.push_back(input + ".dlq");
    }
  }
  if (session.dlqs.empty()) {
    std::cerr << fmt::format("--queue {}: not one of gov, ais, {}, {} (or their .dlq)\n",
                             arguments.queue, names.gov_in, names.ais_events);
    exit_code = kExitUsage;
    return std::nullopt;
  }
  auto client = connect_broker(session.setup.config);
  if (!client) {
    std::cerr << client.error().message << '\n';
    exit_code = kExitProblem;
    return std::nullopt;
  }
  session.client = std::move(client).value();
  session.user = configuration::broker_nodes(names).value().front().user;
  auto letters = ops::read_all(*session.client, session.dlqs, arguments.scan);
  if (!letters) {
    std::cerr << letters.error().message << '\n';
    exit_code = kExitProblem;
    return std::nullopt;
  }
  session.letters = std::move(letters).value();
  return session;
}

std::optional<ops::Filter> filter_of(const DlqArguments& arguments,
                                     const calendar::WorkingCalendar& zone) {
  bool bad = false;
  ops::Filter filter;
  filter.ids = arguments.ids;
  filter.reason = arguments.reason;
  filter.document_type = arguments.type;
  filter.since = parse_when(arguments.since, zone, bad);
  filter.until = parse_when(arguments.until, zone, bad);
  filter.limit = arguments.limit;
  if (bad) return std::nullopt;
  return filter;
}

std::vector<const ops::DeadLetter*> selected(const Session& session, const ops::Filter& filter) {
  std::vector<const ops::DeadLetter*> out;
  for (const auto& letter : session.letters) {
    if (filter.limit != 0 && out.size() >= filter.limit) break;
    if (ops::matches(filter, letter)) out.push_back(&letter);
  }
  return out;
}

void print_table(const std::vector<const ops::DeadLetter*>& letters) {
  std::cout << fmt::format("{:<12}  {:<20}  {:<32}  {:<26}  {:<24}  {:>7}  {:>6}  {}\n", "ID",
                           "DLQ", "REASON", "TYPE", "FAILED AT", "REPLAYS", "COPIES", "MESSAGE ID");
  for (const auto* letter : letters) {
    std::cout << fmt::format("{:<12}  {:<20}  {:<32}  {:<26}  {:<24}  {:>7}  {:>6}  {}\n",
                             letter->id, letter->dlq, letter->reason, letter->document_type,
                             letter->failed_at ? to_utc_string(*letter->failed_at) : "-",
                             letter->replay_count, 1 + letter->copies.size(), letter->message_id);
  }
}

int print_settled(const std::vector<ops::Settled>& settled, bool json) {
  int failures = 0;
  for (const auto& item : settled) {
    if (item.outcome == "failed" || item.outcome == "refused") ++failures;
    if (json) {
      auto line = ops::summary_json(*item.letter);
      line["outcome"] = item.outcome;
      line["outcomeDetail"] = item.detail;
      std::cout << boost::json::serialize(line) << '\n';
    } else {
      std::cout << fmt::format("{}  {:<13} {}  {}\n", item.letter->id, item.outcome,
                               item.letter->message_id, item.detail);
    }
  }
  return failures == 0 ? kExitOk : kExitProblem;
}

// Replay and purge act on what is named: ids, or at least one filter; never "everything" by
// default.
bool says_which(const DlqArguments& arguments) {
  if (!arguments.ids.empty() || !arguments.reason.empty() || !arguments.type.empty() ||
      !arguments.since.empty() || !arguments.until.empty() || !arguments.queue.empty()) {
    return true;
  }
  std::cerr << "say which: IDs, or at least one filter (--queue, --reason, --type, --since, "
               "--until)\n";
  return false;
}

}  // namespace

std::string actor_name(const std::string& given) {
  if (!given.empty()) return given;
  for (const char* variable : {"SUDO_USER", "USER", "LOGNAME"}) {
    if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') return value;
  }
  if (const passwd* entry = ::getpwuid(::geteuid())) return entry->pw_name;
  return fmt::format("uid {}", ::geteuid());
}

int dlq_list(const DlqArguments& arguments) {
  int exit_code = kExitOk;
  auto session = open_session(arguments, exit_code);
  if (!session) return exit_code;
  auto filter = filter_of(arguments, *session->setup.calendar);
  if (!filter) return kExitUsage;
  const auto letters = selected(*session, *filter);
  if (arguments.json) {
    for (const auto* letter : letters)
      std::cout << boost::json::serialize(ops::summary_json(*letter)) << '\n';
  } else {
    print_table(letters);
    std::cout << fmt::format("{} of {} dead letters in {}\n", letters.size(),
                             session->letters.size(), fmt::join(session->dlqs, ", "));
  }
  return kExitOk;  // closing the session returns every message to its queue
}

int dlq_show(const DlqArguments& arguments) {
  int exit_code = kExitOk;
  auto session = open_session(arguments, exit_code);
  if (!session) return exit_code;
  for (const auto& letter : session->letters) {
    if (letter.id != arguments.ids.front()) continue;
    // Its body as it came, for `nqs-adapter send` or a closer look.
    if (!arguments.raw.empty() && !write_file_or_report(arguments.raw, letter.held.body))
      return kExitProblem;
    std::cout << ops::show_text(letter);
    return kExitOk;
  }
  std::cerr << fmt::format("no dead letter {} in {}\n", arguments.ids.front(),
                           fmt::join(session->dlqs, ", "));
  return kExitProblem;
}

int dlq_replay(const DlqArguments& arguments) {
  if (!says_which(arguments)) return kExitUsage;
  int exit_code = kExitOk;
  auto session = open_session(arguments, exit_code);
  if (!session) return exit_code;
  auto filter = filter_of(arguments, *session->setup.calendar);
  if (!filter) return kExitUsage;
  auto audit = open_audit(session->setup.config, exit_code);
  if (!audit) return exit_code;
  const auto& config = session->setup.config;
  ops::ReplaySettings settings;
  settings.input_queues = {config.amqp.gov_in, config.amqp.ais_events};
  settings.cap = config.ops.replay_cap;
  settings.force = arguments.force;
  settings.dry_run = arguments.dry_run;
  settings.actor = actor_name(arguments.actor);
  settings.user = session->user;
  const auto letters = selected(*session, *filter);
  if (letters.empty()) {
    std::cerr << "no dead letter matches\n";
    return kExitProblem;
  }
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return print_settled(ops::replay(*session->client, *audit, letters, settings, now),
                       arguments.json);
}

int dlq_purge(const DlqArguments& arguments) {
  if (!says_which(arguments)) return kExitUsage;
  int exit_code = kExitOk;
  auto session = open_session(arguments, exit_code);
  if (!session) return exit_code;
  auto filter = filter_of(arguments, *session->setup.calendar);
  if (!filter) return kExitUsage;
  const auto letters = selected(*session, *filter);
  if (!arguments.yes) {
    print_table(letters);
    std::cerr << fmt::format("{} dead letters would be removed for good: add --yes to purge them\n",
                             letters.size());
    return kExitUsage;
  }
  auto audit = open_audit(session->setup.config, exit_code);
  if (!audit) return exit_code;
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return print_settled(
      ops::purge(*session->client, *audit, letters, actor_name(arguments.actor), now),
      arguments.json);
}

int dlq_audit(const DlqArguments& arguments) {
  auto setup = load_or_report(arguments.config, Parts::calendar);
  if (!setup) return kExitProblem;
  int exit_code = kExitOk;
  auto audit = open_audit(setup->config, exit_code);
  if (!audit) return exit_code;
  auto rows = audit->audit_log(arguments.limit == 0 ? 100 : arguments.limit);
  if (!rows) {
    std::cerr << rows.error().message << '\n';
    return kExitProblem;
  }
  for (const auto& row : rows.value()) {
    if (arguments.json) {
      boost::json::object line;
      line["at"] = to_utc_string(row.at);
      line["actor"] = row.actor;
      line["action"] = row.action;
      line["deadLetter"] = row.dead_letter;
      line["dlq"] = row.queue;
      line["messageId"] = row.message_id;
      line["outcome"] = row.outcome;
      line["detail"] = row.detail;
      std::cout << boost::json::serialize(line) << '\n';
    } else {
      std::cout << fmt::format("{}  {:<10} {:<7} {}  {:<20} {:<9} {}  {}\n", to_utc_string(row.at),
                               row.actor, row.action, row.dead_letter, row.queue, row.outcome,
                               row.message_id, row.detail);
    }
  }
  return kExitOk;
}

}  // namespace nqs::cli
