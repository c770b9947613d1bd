// Durable timers at scale, with the real daemon on a local broker:
//   one million pending timers in the store (990,000 due in a year, 10,000 SLA warnings due
//   already, each with its open deadline): the daemon's start-up time and peak memory, against the
//   same daemon on an empty store, and the time to fire the 10,000 that fell due while it was
//   down (each an input of its own: committed, its message published with confirms).
// Reported, not asserted. bench/timers_bench [pending] [due]
#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <iostream>

#include "bench_support.hpp"
#include "broker_support.hpp"
#include "store/sql_store.hpp"
#include "store/store.hpp"
#include "test_support.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::size_t peak_rss_kib(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) return std::stoul(line.substr(6));
  }
  return 0;
}

std::int64_t count(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, sql, -1, &statement, nullptr);
  const auto value =
      sqlite3_step(statement) == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : -1;
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return value;
}

// Seeds the store through the Store interface, 10,000 timers per transaction.
double seed(const std::filesystem::path& file, std::size_t pending, std::size_t due) {
  using namespace nqs;
  const auto started = Clock::now();
  auto store = store::open_sqlite(store::SqliteSettings{file.string()}).value();
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  constexpr std::size_t kChunk = 10000;
  for (std::size_t from = 0; from < pending; from += kChunk) {
    store::StateChanges changes;
    for (std::size_t i = from; i < std::min(pending, from + kChunk); ++i) {
      const auto subject = fmt::format("a0000000-0000-4000-8000-{:012d}", i);
      if (i < due) {
        // An SLA warning already due, with the deadline it warns about.
        const auto started_at = now - std::chrono::hours{30};
        const auto due_at = now + std::chrono::hours{10};
        changes.opened_deadlines.push_back({subject,
                                            "career_center_review",
                                            "career_center",
                                            "Rules 380 art. 8",
                                            started_at,
                                            due_at,
                                            {},
                                            {},
                                            {}});
        changes.timers.push_back(
            {"sla.warning.career_center_review", subject, now - std::chrono::minutes{1},
             fmt::format(R"({{"step":"career_center_review","responsible":"career_center",)"
                         R"("basis":"Rules 380 art. 8","started":"{}","due":"{}"}})",
                         to_utc_string(started_at), to_utc_string(due_at))});
      } else {
        changes.timers.push_back({"voucher_expiry", subject,
                                  now + std::chrono::hours{24 * 365} + std::chrono::seconds{i},
                                  ""});
      }
    }
    std::vector<store::Store::Input> inputs;
    store::InboxEntry entry;
    entry.key = fmt::format("seed:{}", from);
    entry.source = "bench";
    entry.outcome = store::InputOutcome::processed;
    entry.body_sha256 = "";
    entry.received_at = now;
    inputs.push_back({entry, {}, std::move(changes), {}});
    if (auto recorded = store->record_inputs(std::move(inputs)); !recorded) {
      std::cerr << recorded.error().message << "\n";
      std::exit(1);
    }
  }
  return std::chrono::duration<double>(Clock::now() - started).count();
}

struct Run {
  double ready_s = 0;
  double fired_s = 0;
  double published_s = 0;
  std::size_t rss_kib = 0;
};

Run run_daemon(const std::filesystem::path& config, const std::filesystem::path& store_file,
               const std::string& vhost, std::size_t due, const std::filesystem::path& log) {
  using namespace nqs::test;
  Run run;
  TestClient client(vhost);
  DaemonProcess daemon(config, log);
  const auto started = Clock::now();
  daemon.start();
  if (!eventually([&] {
        auto state = client.queue_state("nqs.gov.in");
        return state && state->second >= 1;
      })) {
    std::cerr << "the daemon did not start:\n" << daemon.log_text();
    std::exit(1);
  }
  run.ready_s = std::chrono::duration<double>(Clock::now() - started).count();
  if (due > 0) {
    eventually(
        [&] {
          return count(store_file, "SELECT count(*) FROM inbox WHERE source = 'timer'") >=
                 static_cast<std::int64_t>(due);
        },
        std::chrono::seconds{600});
    run.fired_s = std::chrono::duration<double>(Clock::now() - started).count() - run.ready_s;
    eventually(
        [&] { return count(store_file, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0; },
        std::chrono::seconds{600});
    run.published_s = std::chrono::duration<double>(Clock::now() - started).count() - run.ready_s;
  }
  run.rss_kib = peak_rss_kib(daemon.pid());
  daemon.stop();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace nqs::test;
  const std::size_t pending = argc > 1 ? std::stoul(argv[1]) : 1'000'000;
  const std::size_t due = argc > 2 ? std::stoul(argv[2]) : 10'000;
  TestVhost vhost;
  TempDir dir;
  auto config_for = [&](const std::string& name) {
    return bench_config(dir, name, vhost.url(), dir.path() / (name + ".sqlite"));
  };

  const auto empty = run_daemon(config_for("empty"), dir.path() / "empty.sqlite", vhost.name(), 0,
                                dir.path() / "empty.log");
  const auto seeding = seed(dir.path() / "timers.sqlite", pending, due);
  const auto loaded = run_daemon(config_for("timers"), dir.path() / "timers.sqlite", vhost.name(),
                                 due, dir.path() / "timers.log");

  std::cout << fmt::format(
      "store: {} pending timers ({} due at start, with their deadlines), "
      "seeded in {:.1f} s, {:.0f} MiB on disk\n",
      pending, due, seeding,
      static_cast<double>(std::filesystem::file_size(dir.path() / "timers.sqlite")) / 1048576.0);
  std::cout << fmt::format("daemon on an empty store:   ready in {:.2f} s, peak RSS {} MiB\n",
                           empty.ready_s, empty.rss_kib / 1024);
  std::cout << fmt::format("daemon on {} timers: ready in {:.2f} s, peak RSS {} MiB\n", pending,
                           loaded.ready_s, loaded.rss_kib / 1024);
  std::cout << fmt::format(
      "{} due at once: fired (committed) in {:.2f} s ({:.0f}/s), all published with confirms in "
      "{:.2f} s\n",
      due, loaded.fired_s, static_cast<double>(due) / loaded.fired_s, loaded.published_s);
  return 0;
}
