#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "common/clock.hpp"
#include "configuration/config.hpp"
#include "configuration/year_coverage.hpp"
#include "daemon/components.hpp"
#include "daemon/topology.hpp"
#include "store/store.hpp"

namespace nqs::ops {
class HttpServer;
struct HttpResponse;
}  // namespace nqs::ops

namespace nqs::daemon {

// The long-running process: one event loop that the broker link, the processor and the outbox
// relay run on.
//
// What runs on the loop, and what may hold it (each bounded, so that one slow part delays the
// others by at most its bound, never for good):
// - the broker: frames read and written without blocking; a connection attempt, the topology's
//   declarations and the passive declares of the queue poller and readiness are synchronous
//   RPCs, each bounded by amqp.connect_timeout (one node per turn of the loop);
// - the store: every call is synchronous. SQLite waits at most store.busy_timeout for its lock
//   and a commit waits for its fsync (group commit: one per batch); PostgreSQL statements are
//   cancelled by the server at store.statement_timeout and given up by the client 5 s later;
// - deciding a batch (the workflow against the store) and committing it; the timer runner's
//   firings; marking confirmed outbox rows sent;
// - the HTTP handlers (/healthz, /readyz, /metrics): store queries and, for readiness, the queue
//   depths last polled;
// - SIGHUP's reload: the trust anchors, CRL files, calendars, mappings and deadline table read
//   and checked before they replace the running set (milliseconds for the shipped set);
// - the clock file (tests and rehearsals), read every 200 ms.
// What never runs on the loop: the intake of a signed document (parsing, schema, signature,
// certificate path, OCSP) and the signing of notifications, on the worker threads (Workers); CRL
// fetching and its name resolution, on the refresher's thread. Their results come back to the
// loop as posted work. SIGTERM or SIGINT stops it gracefully: consumers are cancelled, inputs in
// flight finish (committed, confirmed, acknowledged) and the outbox is flushed, within the grace
// period; what is left is safe in the store and the queues.
class Daemon {
 public:
  explicit Daemon(configuration::Setup setup);
  ~Daemon();

  // Runs until stopped; returns the process exit code.
  int run();
  // Asks the daemon to stop gracefully, from any thread.
  void request_stop();

 private:
  void wait_for_signal();
  void begin_stop(const std::string& why);
  void check_stopped();
  // Today's year and, from 1 November, the coming one: their calendar and MCI (logged at start,
  // daily and after a reload; /readyz and /metrics).
  void warn_about_years() const;
  [[nodiscard]] configuration::YearCoverage year_coverage() const;
  // Daily: the certificates the adapter trusts or signs with that end soon.
  void warn_expiring();
  // Reads clock.control_file (tests and rehearsals): the running clock moves forward.
  void watch_clock_control();
  // Each minute, and when the clock moves: the evidence archive's ended days sealed.
  void seal_evidence();
  void seal_ended_days();
  // Operations: the HTTP endpoints and the queue poller.
  void start_ops();
  // SIGHUP: trust anchors, CRLs, calendars, mappings and the deadline table read again; a set
  // with any problem is refused and the old one stays.
  void wait_for_reload();
  void reload();
  void poll_queues();
  ops::HttpResponse answer(const std::string& path);
  ops::HttpResponse readiness(const Result<store::Store::OutboxStats>& outbox);

  configuration::Setup setup_;
  OffsetClock clock_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  boost::asio::signal_set reload_signal_;
  boost::asio::steady_timer stop_timer_;
  boost::asio::steady_timer clock_control_timer_;
  std::string clock_control_problem_;  // said once, not every 200 ms
  std::unique_ptr<Components> parts_;
  boost::asio::steady_timer expiry_timer_{io_};
  std::unique_ptr<ops::HttpServer> http_;
  boost::asio::steady_timer poll_timer_{io_};
  boost::asio::steady_timer seal_timer_{io_};
  struct Polled {
    std::string queue;
    QueueRole role = QueueRole::input;
    std::int64_t messages = -1;  // -1: not read
    std::int64_t consumers = 0;
  };
  std::vector<Polled> polled_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_;
};

}  // namespace nqs::daemon
