#include "daemon/daemon.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>

#include "common/redact.hpp"
#include "daemon/broker_link.hpp"
#include "daemon/outbox_relay.hpp"
#include "daemon/processor.hpp"
#include "daemon/timer_runner.hpp"
#include "daemon/trust_keeper.hpp"
#include "intake/intake.hpp"
#include "log/logging.hpp"
#include "ops/http_server.hpp"
#include "ops/metrics.hpp"
#include "store/store.hpp"
#include "version.hpp"
#include "workflow/evidence_seals.hpp"

namespace nqs::daemon {

Daemon::Daemon(configuration::Setup setup)
    : setup_(std::move(setup)),
      clock_(setup_.config.clock.offset),
      signals_(io_, SIGINT, SIGTERM),
      reload_signal_(io_, SIGHUP),
      stop_timer_(io_),
      clock_control_timer_(io_) {}

Daemon::~Daemon() = default;

void Daemon::request_stop() {
  boost::asio::post(io_, [this] { begin_stop("requested"); });
}

void Daemon::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      log::error("waiting for signals failed", {{"error", ec.message()}});
      return;
    }
    if (stopping_) {
      log::warn("second signal: stopping now", {{"signal", signal_number}});
      io_.stop();
      return;
    }
    begin_stop(signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    wait_for_signal();
  });
}

void Daemon::begin_stop(const std::string& why) {
  if (stopping_) return;
  stopping_ = true;
  stop_deadline_ = std::chrono::steady_clock::now() + setup_.config.processing.grace_period;
  log::info("stopping",
            {{"signal", why}, {"gracePeriodMs", setup_.config.processing.grace_period.count()}});
  if (parts_) parts_->link().stop_consuming();
  check_stopped();
}

void Daemon::check_stopped() {
  const bool drained =
      !parts_ || (parts_->processor().in_progress() == 0 && parts_->relay().idle());
  const bool out_of_time = std::chrono::steady_clock::now() >= stop_deadline_;
  if (drained || out_of_time) {
    if (!drained) {
      log::warn("grace period over: stopping with work in flight (safe in the store and queues)",
                {{"inProgress", parts_->processor().in_progress()}});
    }
    if (parts_) parts_->timers().stop();
    if (parts_) parts_->trust().stop();
    expiry_timer_.cancel();
    seal_timer_.cancel();
    if (http_) http_->stop();
    poll_timer_.cancel();
    clock_control_timer_.cancel();
    if (parts_) parts_->relay().stop();
    if (parts_) parts_->link().stop();
    signals_.cancel();
    reload_signal_.cancel();
    io_.stop();
    return;
  }
  stop_timer_.expires_after(std::chrono::milliseconds{50});
  stop_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) check_stopped();
  });
}

void Daemon::warn_about_years() const {
  const auto coverage = year_coverage();
  if (auto warning = coverage.warning()) {
    log::warn(coverage.ready() ? "the coming year is not configured yet"
                               : "this year is not configured: not ready",
              {{"years", *warning}, {"calendar", setup_.calendar->coverage()}});
  }
}

configuration::YearCoverage Daemon::year_coverage() const {
  return configuration::year_coverage(*setup_.calendar, setup_.config.domain.mci,
                                      setup_.calendar->local_date(clock_.now()));
}

void Daemon::warn_expiring() {
  if (stopping_) return;
  parts_->trust().warn_expiring(clock_.now());
  warn_about_years();
  expiry_timer_.expires_after(std::chrono::hours{24});
  expiry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) warn_expiring();
  });
}

void Daemon::seal_evidence() {
  if (stopping_) return;
  seal_ended_days();
  seal_timer_.expires_after(std::chrono::minutes{1});
  seal_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) seal_evidence();
  });
}

void Daemon::seal_ended_days() {
  auto sealed = workflow::seal_ended_days(parts_->store(), setup_.notifications->signer(),
                                          *setup_.calendar, clock_.now());
  if (!sealed) {
    log::warn("the evidence archive's ended days could not be sealed now; tried again in a minute",
              {{"error", sealed.error().message}});
    return;
  }
  for (const auto& day : sealed.value())
    log::info("the evidence archive's day is sealed", {{"day", day}});
}

void Daemon::watch_clock_control() {
  const auto& file = setup_.config.clock.control_file;
  if (file.empty() || stopping_) return;
  auto extra = configuration::read_clock_control(file);
  if (!extra) {
    if (extra.error().message != clock_control_problem_) {
      clock_control_problem_ = extra.error().message;
      log::warn("clock.control_file is ignored", {{"error", clock_control_problem_}});
    }
  } else if (setup_.config.clock.offset + extra.value() != clock_.offset()) {
    clock_.set_offset(setup_.config.clock.offset + extra.value());
    log::warn("the clock was moved by its control file",
              {{"offsetMs", clock_.offset().count()}, {"now", to_utc_string(clock_.now())}});
    if (parts_) parts_->timers().reschedule();
    if (parts_) seal_ended_days();
  }
  clock_control_timer_.expires_after(std::chrono::milliseconds{200});
  clock_control_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) watch_clock_control();
  });
}

void Daemon::wait_for_reload() {
  reload_signal_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    reload();
    wait_for_reload();
  });
}

void Daemon::reload() {
  // Runs on the event loop between batches: no input is half-processed with two sets.
  const auto& file = setup_.config.source;
  log::info("SIGHUP: reloading trust, calendars, mappings and deadlines",
            {{"config", file.string()}});
  yaml::Diagnostics diagnostics;
  auto fresh = configuration::load_setup(file, diagnostics);
  if (!fresh || !diagnostics.empty()) {
    for (const auto& problem : diagnostics.problems())
      log::error("reload refused: the current set stays", {{"problem", problem}});
    if (diagnostics.empty()) log::error("reload refused: the current set stays");
    return;
  }
  // The exchanges are those of the running connection (broker settings need a restart).
  parts_->reload(*fresh, setup_.config.amqp);
  const auto waiting = setup_.take_reloadable(*fresh);
  if (!waiting.empty()) {
    log::warn("these settings take effect only after a restart",
              {{"settings", fmt::format("{}", fmt::join(waiting, ", "))}});
  }
  log::info("reloaded", {{"calendar", setup_.calendar->coverage()},
                         {"mappings", setup_.intake->mappings().size()},
                         {"anchors", setup_.intake->trust()->anchor_count()},
                         {"crls", setup_.intake->trust()->crl_count()},
                         {"deadlines", setup_.config.deadlines.rules.size()}});
  warn_about_years();
}

int Daemon::run() {
  const auto& config = setup_.config;
  log::info("nqs-adapter started", {{"version", kVersion},
                                    {"config", config.source.string()},
                                    {"calendar", setup_.calendar->coverage()},
                                    {"time_zone", config.calendar.time_zone},
                                    {"store", redact_password(config.store.url)}});
  if (clock_.offset().count() != 0 || !config.clock.control_file.empty()) {
    log::warn("the clock is shifted (tests and rehearsals only)",
              {{"offsetMs", clock_.offset().count()},
               {"controlFile", config.clock.control_file.string()},
               {"now", to_utc_string(clock_.now())}});
  }
  auto built = Components::build(io_, setup_, clock_);
  if (!built) {
    log::error("the daemon cannot start", {{"error", built.error().message}});
    return 1;
  }
  parts_ = std::move(built).value();

  wait_for_signal();
  wait_for_reload();
  boost::asio::post(io_, [this] {
    parts_->start();
    watch_clock_control();
    parts_->trust().start();
    warn_expiring();
    seal_evidence();
    start_ops();
  });
  io_.run();
  // What the workers are doing ends here; results they hand back are dropped with the loop (the
  // broker redelivers every input not acknowledged).
  parts_->stop_workers();
  const auto& counters = parts_->processor().counters();
  log::info("nqs-adapter stopped", {{"processed", counters.processed},
                                    {"rejected", counters.rejected},
                                    {"duplicates", counters.duplicates}});
  return 0;
}

}  // namespace nqs::daemon
