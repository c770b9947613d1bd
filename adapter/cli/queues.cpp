// nqs-adapter queues: the adapter's queues and its outbox, and what an operator must see.
#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <iostream>

#include "amqp/sync_client.hpp"
#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "cli/dlq.hpp"
#include "daemon/daemon.hpp"
#include "ops/dead_letters.hpp"
#include "ops/management.hpp"
#include "store/store.hpp"

namespace nqs::cli {
namespace {

std::string age_text(std::chrono::seconds age) {
  const auto minutes = age.count() / 60;
  if (minutes < 1) return fmt::format("{}s", age.count());
  if (minutes < 60) return fmt::format("{}m", minutes);
  if (minutes < 48 * 60) return fmt::format("{}h{:02d}m", minutes / 60, minutes % 60);
  return fmt::format("{}d{:02d}h", minutes / (24 * 60), (minutes / 60) % 24);
}

// Unacknowledged messages: only the management API knows them (when configured).
std::optional<std::int64_t> unacked_messages(const configuration::Config& config,
                                             const std::string& vhost, const std::string& queue) {
  if (config.ops.management_url.empty()) return std::nullopt;
  auto managed = ops::managed_queue(config.ops.management_url, vhost, queue);
  if (managed) return managed.value().unacked;
  std::cerr << managed.error().message << '\n';
  return std::nullopt;
}

// The oldest dead letter's age, from its own record of when it failed (x-nqs-failed-at or
// the broker's x-death). It is read and returned, never taken. (Input queues are quorum
// queues, which do not expose the head message's timestamp: their age is not measured.)
std::optional<std::chrono::seconds> oldest_dead_letter_age(amqp::SyncClient& client,
                                                           const std::string& dlq, Instant now) {
  if (auto head = client.get(dlq); head && head.value()) {
    const auto letter = ops::describe(dlq, std::move(*head.value()));
    if (letter.failed_at) {
      return std::chrono::duration_cast<std::chrono::seconds>(now - *letter.failed_at);
    }
  }
  return std::nullopt;
}

void print_queue(const daemon::WatchedQueue& row, const Result<amqp::QueueState>& state,
                 std::optional<std::int64_t> unacked, std::optional<std::chrono::seconds> oldest,
                 const std::string& verdict, bool json) {
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

// Prints one watched queue; returns how many problems it shows (0 or 1).
int report_queue(amqp::SyncClient& client, const configuration::Config& config,
                 const std::string& vhost, const daemon::WatchedQueue& row, Instant now,
                 bool json) {
  const auto alert_after =
      std::chrono::duration_cast<std::chrono::seconds>(config.ops.dead_letter_alert_after);
  int problems = 0;
  auto state = client.inspect(row.name);
  std::string verdict = "ok";
  if (!state) {
    verdict = "missing: " + state.error().message;
    ++problems;
  } else if (row.role == daemon::QueueRole::input && state.value().messages > 0 &&
             state.value().consumers == 0) {
    verdict = "messages waiting with no consumer";
    ++problems;
  }
  std::optional<std::int64_t> unacked;
  if (state) unacked = unacked_messages(config, vhost, row.name);
  std::optional<std::chrono::seconds> oldest;
  if (state && row.role == daemon::QueueRole::dead_letters && state.value().messages > 0) {
    oldest = oldest_dead_letter_age(client, row.name, now);
    verdict = "dead letters waiting (nqs-adapter dlq list)";
    if (oldest && *oldest > alert_after) {
      verdict = fmt::format("dead letters waiting, the oldest for {} (over {})", age_text(*oldest),
                            age_text(alert_after));
      ++problems;
    }
  }
  print_queue(row, state, unacked, oldest, verdict, json);
  return problems;
}

void print_outbox(const Result<store::Store::OutboxStats>& outbox,
                  std::optional<std::chrono::seconds> oldest, const std::string& verdict,
                  bool json) {
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
}

// The adapter's own queue, the outbox: what is committed and not yet confirmed, and what the
// broker refused every time and was set aside (the daemon's log names each, with its outboxId).
// Returns how many problems it shows (0 or 1).
int report_outbox(const configuration::Config& config, Instant now, bool json) {
  int problems = 0;
  int exit_code = kExitOk;
  auto store = open_audit(config, exit_code);
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
    } else if (oldest && *oldest > config.ops.outbox_stuck_after) {
      verdict = "not moving: is the broker confirming?";
      ++problems;
    }
  } else {
    verdict = "the store cannot be read";
  }
  print_outbox(outbox, oldest, verdict, json);
  return problems;
}

}  // namespace

int queues(const std::string& config_file, bool json) {
  auto setup = load_or_report(config_file, Parts::calendar);
  if (!setup) return kExitProblem;
  const auto& config = setup->config;
  auto client = connect_broker(config);
  if (!client) {
    std::cerr << client.error().message << '\n';
    return kExitProblem;
  }
  const auto vhost = configuration::broker_nodes(config.amqp).value().front().vhost;
  const auto rows = daemon::watched_queues(config.amqp);
  if (!json) {
    std::cout << fmt::format("{:<24}  {:<12}  {:>8}  {:>8}  {:>9}  {:>8}  {}\n", "QUEUE", "ROLE",
                             "READY", "UNACKED", "CONSUMERS", "OLDEST", "STATE");
  }
  int problems = 0;
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  for (const auto& row : rows)
    problems += report_queue(*client.value(), config, vhost, row, now, json);
  problems += report_outbox(config, now, json);
  put_back(*client.value());
  return problems == 0 ? kExitOk : kExitProblem;
}

}  // namespace nqs::cli
