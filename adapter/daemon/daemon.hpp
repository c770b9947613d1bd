#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "configuration/config.hpp"

namespace nqs::daemon {

// The long-running process: one event loop that the parts of the adapter run on, stopped
// gracefully by SIGTERM or SIGINT.
class Daemon {
 public:
  explicit Daemon(configuration::Setup setup);

  // Runs until a stop is requested; returns the process exit code.
  int run();
  // Asks the daemon to stop, from any thread.
  void request_stop();

 private:
  void wait_for_signal();
  void warn_if_calendar_runs_out() const;

  configuration::Setup setup_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
};

}  // namespace nqs::daemon
