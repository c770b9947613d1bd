#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>

#include "common/clock.hpp"
#include "daemon/ports.hpp"
#include "daemon/workers.hpp"
#include "ops/metrics.hpp"
#include "store/store.hpp"
#include "workflow/state_view.hpp"
#include "workflow/workflow.hpp"

namespace nqs::daemon {

struct TimerSettings {
  std::size_t batch = 500;                   // timers fired in one transaction
  std::chrono::milliseconds recheck{60000};  // the longest sleep, even with nothing due sooner
  std::chrono::milliseconds retry{1000};     // after a store failure
};

struct TimerCounters {
  std::uint64_t fired = 0;
  std::uint64_t without_effect = 0;  // no longer applied (the voucher was used meanwhile, ...)
  std::uint64_t failures = 0;
};

// Fires the durable timers of the store (rows written with the state change that set them):
// memory holds only the next due time. Each firing is an input of its own, `timer:<kind>:
// <subject>:<due ms>` in the inbox, committed with its effects and the removal of its row, so a
// firing is at-least-once and its effects happen once. A restart fires at once what fell due
// while the daemon was down. The notifications a batch of firings composes are signed on a worker
// before the batch is committed; the next batch waits for it.
class TimerRunner {
 public:
  TimerRunner(boost::asio::io_context& io, Workers& workers, const workflow::Workflow& workflow,
              store::Store& store, OutboxPublisher& relay, const Clock& clock,
              TimerSettings settings);

  void start();
  void stop();
  // A commit set or moved timers: look at the next due time again.
  void reschedule();
  [[nodiscard]] const TimerCounters& counters() const { return counters_; }
  void set_metrics(ops::Metrics* metrics) { metrics_ = metrics; }
  void replace(const workflow::Workflow& workflow) { workflow_ = &workflow; }

 private:
  void arm(std::chrono::milliseconds delay);
  void fire();
  // Commits the firings decided (their notifications signed).
  void commit(const std::vector<store::TimerRow>& due, std::vector<store::InputLog::Input> inputs,
              const std::vector<workflow::Effects>& effects);

  Workers& workers_;
  const workflow::Workflow* workflow_;
  store::Store& store_;
  OutboxPublisher& relay_;
  const Clock& clock_;
  TimerSettings settings_;
  workflow::StateView view_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
  bool sealing_ = false;  // a batch's notifications are being signed on a worker
  TimerCounters counters_;
  ops::Metrics* metrics_ = nullptr;
};

}  // namespace nqs::daemon
