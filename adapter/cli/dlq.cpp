// nqs-adapter dlq list | show | replay | purge | audit: the dead letters of the input queues.
#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <iostream>

#include "amqp/sync_client.hpp"
#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "daemon/daemon.hpp"
#include "ops/dead_letters.hpp"
#include "ops/management.hpp"
#include "store/store.hpp"
#include "yaml/reader.hpp"

namespace nqs::cli {
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

std::string actor_name(const std::string& given) {
  if (!given.empty()) return given;
  for (const char* variable : {"SUDO_USER", "USER", "LOGNAME"}) {
    if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') return value;
  }
  if (const passwd* entry = ::getpwuid(::geteuid())) return entry->pw_name;
  return fmt::format("uid {}", ::geteuid());
}

// Every dead letter read and left: a copy back at the end of its queue, the original
// acknowledged (amqp::SyncClient::put_back); what could not be put back the broker returns.
void put_back(amqp::SyncClient& client) {
  if (auto back = client.put_back(); !back) {
    std::cerr << "a dead letter read could not be put back as a copy (the broker returns it): "
              << back.error().message << '\n';
  }
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
  auto setup = load_or_report(arguments.config);
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

std::unique_ptr<store::Store> open_audit(const configuration::Config& config, int& exit_code) {
  auto store = open_configured_store(config);
  if (!store) {
    std::cerr << store.error().message << '\n';
    exit_code = kExitProblem;
    return nullptr;
  }
  return std::move(store).value();
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

std::string age_text(std::chrono::seconds age) {
  const auto minutes = age.count() / 60;
  if (minutes < 1) return fmt::format("{}s", age.count());
  if (minutes < 60) return fmt::format("{}m", minutes);
  if (minutes < 48 * 60) return fmt::format("{}h{:02d}m", minutes / 60, minutes % 60);
  return fmt::format("{}d{:02d}h", minutes / (24 * 60), (minutes / 60) % 24);
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
    if (letter.id == arguments.ids.front()) {
      std::cout << ops::show_text(letter);
      return kExitOk;
    }
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
  auto setup = load_or_report(arguments.config);
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

int queues(const std::string& config_file, bool json) {
  auto setup = load_or_report(config_file);
  if (!setup) return kExitProblem;
  const auto& names = setup->config.amqp;
  auto client = connect_broker(setup->config);
  if (!client) {
    std::cerr << client.error().message << '\n';
    return kExitProblem;
  }
  const auto vhost = configuration::broker_nodes(names).value().front().vhost;
  const auto rows = daemon::watched_queues(names);
  if (!json) {
    std::cout << fmt::format("{:<24}  {:<12}  {:>8}  {:>8}  {:>9}  {:>8}  {}\n", "QUEUE", "ROLE",
                             "READY", "UNACKED", "CONSUMERS", "OLDEST", "STATE");
  }
  int problems = 0;
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto alert_after =
      std::chrono::duration_cast<std::chrono::seconds>(setup->config.ops.dead_letter_alert_after);
  for (const auto& row : rows) {
    auto state = client.value()->inspect(row.name);
    std::string verdict = "ok";
    if (!state) {
      verdict = "missing: " + state.error().message;
      ++problems;
    } else if (row.role == daemon::QueueRole::input && state.value().messages > 0 &&
               state.value().consumers == 0) {
      verdict = "messages waiting with no consumer";
      ++problems;
    }
    // The oldest dead letter's age, from its own record of when it failed (x-nqs-failed-at or
    // the broker's x-death). It is read and returned, never taken. (Input queues are quorum
    // queues, which do not expose the head message's timestamp: their age is not measured.)
    // Unacknowledged messages: only the management API knows them (when configured).
    std::optional<std::int64_t> unacked;
    if (state && !setup->config.ops.management_url.empty()) {
      auto managed = ops::managed_queue(setup->config.ops.management_url, vhost, row.name);
      if (managed) {
        unacked = managed.value().unacked;
      } else {
        std::cerr << managed.error().message << '\n';
      }
    }
    std::optional<std::chrono::seconds> oldest;
    if (state && row.role == daemon::QueueRole::dead_letters && state.value().messages > 0) {
      if (auto head = client.value()->get(row.name); head && head.value()) {
        const auto letter = ops::describe(row.name, std::move(*head.value()));
        if (letter.failed_at) {
          oldest = std::chrono::duration_cast<std::chrono::seconds>(now - *letter.failed_at);
        }
      }
      verdict = "dead letters waiting (nqs-adapter dlq list)";
      if (oldest && *oldest > alert_after) {
        verdict = fmt::format("dead letters waiting, the oldest for {} (over {})",
                              age_text(*oldest), age_text(alert_after));
        ++problems;
      }
    }
    if (json) {
      boost::json::object line;
      line["queue"] = row.name;
      line["role"] = daemon::role_name(row.role);
      line["ready"] = state ? boost::json::value(state.value().messages) : nullptr;
      line["consumers"] = state ? boost::json::value(state.value().consumers) : nullptr;
      line["unacked"] = unacked ? boost::json::value(*unacked) : nullptr;
      line["oldestAgeSeconds"] = oldest ? boost::json::value(oldest->count()) : nullptr;
      line["state"] = verdict;
      std::cout << boost::json::serialize(line) << '\n';
    } else {
      std::cout << fmt::format("{:<24}  {:<12}  {:>8}  {:>8}  {:>9}  {:>8}  {}\n", row.name,
                               daemon::role_name(row.role),
                               state ? std::to_string(state.value().messages) : "-",
                               unacked ? std::to_string(*unacked) : "-",
                               state ? std::to_string(state.value().consumers) : "-",
                               oldest ? age_text(*oldest) : "-", verdict);
    }
  }
  // The adapter's own queue, the outbox: what is committed and not yet confirmed, and what the
  // broker refused every time and was set aside (the daemon's log names each, with its outboxId).
  int exit_code = kExitOk;
  auto store = open_audit(setup->config, exit_code);
  auto outbox = store ? store->outbox_stats()
                      : Result<store::Store::OutboxStats>(make_error("the store cannot be opened"));
  if (!outbox) {
    if (store) std::cerr << outbox.error().message << '\n';
    ++problems;
  }
  std::string verdict = "ok";
  std::optional<std::chrono::seconds> oldest;
  if (outbox) {
    if (outbox.value().oldest) {
      oldest = std::chrono::duration_cast<std::chrono::seconds>(now - *outbox.value().oldest);
    }
    if (outbox.value().parked > 0) {
      verdict = fmt::format("{} set aside: the broker refused them every time (see the log)",
                            outbox.value().parked);
      ++problems;
    } else if (oldest && *oldest > setup->config.ops.outbox_stuck_after) {
      verdict = "not moving: is the broker confirming?";
      ++problems;
    }
  } else {
    verdict = "the store cannot be read";
  }
  if (json) {
    boost::json::object line;
    line["queue"] = "outbox";
    line["role"] = "outbox";
    line["ready"] = outbox ? boost::json::value(outbox.value().pending) : nullptr;
    line["parked"] = outbox ? boost::json::value(outbox.value().parked) : nullptr;
    line["oldestAgeSeconds"] = oldest ? boost::json::value(oldest->count()) : nullptr;
    line["state"] = verdict;
    std::cout << boost::json::serialize(line) << '\n';
  } else {
    std::cout << fmt::format("{:<24}  {:<12}  {:>8}  {:>8}  {:>9}  {:>8}  {}\n", "outbox", "outbox",
                             outbox ? std::to_string(outbox.value().pending) : "-", "-", "-",
                             oldest ? age_text(*oldest) : "-", verdict);
  }
  put_back(*client.value());
  return problems == 0 ? kExitOk : kExitProblem;
}

}  // namespace nqs::cli
