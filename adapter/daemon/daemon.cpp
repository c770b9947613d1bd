#include "daemon/daemon.hpp"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <csignal>

#include "log/logging.hpp"
#include "version.hpp"

namespace nqs::daemon {

Daemon::Daemon(configuration::Setup setup)
    : setup_(std::move(setup)), signals_(io_, SIGINT, SIGTERM) {}

void Daemon::request_stop() {
  boost::asio::post(io_, [this] {
    signals_.cancel();
    io_.stop();
  });
}

void Daemon::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
    if (ec == boost::asio::error::operation_aborted) return;  // request_stop() got there first
    if (ec) {
      log::error("waiting for signals failed", {{"error", ec.message()}});
      return;
    }
    log::info("stopping", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
    io_.stop();
  });
}

void Daemon::warn_if_calendar_runs_out() const {
  // Deadlines are computed up to a few weeks ahead; a calendar that ends sooner would make them
  // fail, so say it while there is time to add the next year's file.
  const auto& calendar = *setup_.calendar;
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto today = calendar.local_date(now);
  const auto horizon = today + date::days{30};
  if (!calendar.covers(today) || !calendar.covers(horizon)) {
    log::warn("the working-day calendar does not cover the next 30 days",
              {{"today", calendar::to_string(today)}, {"covered", calendar.coverage()}});
  }
}

int Daemon::run() {
  log::info("nqs-adapter started", {{"version", kVersion},
                                    {"config", setup_.config.source.string()},
                                    {"calendar", setup_.calendar->coverage()},
                                    {"time_zone", setup_.config.calendar.time_zone}});
  warn_if_calendar_runs_out();
  wait_for_signal();
  // The signal wait keeps the loop alive until a stop; later parts add their own work here.
  io_.run();
  log::info("nqs-adapter stopped");
  return 0;
}

}  // namespace nqs::daemon
