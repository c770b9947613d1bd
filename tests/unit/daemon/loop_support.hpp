#pragma once

// What the daemon's unit tests share: a clock that stands still, a publisher that keeps what it
// is handed, and the event loop run until something holds.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <vector>

#include "common/clock.hpp"
#include "daemon/ports.hpp"

namespace nqs::test {

class FixedClock final : public Clock {
 public:
  explicit FixedClock(Instant now) : now_(now) {}
  [[nodiscard]] Instant now() const override { return now_; }

 private:
  Instant now_;
};

// Outbox rows handed over to be published, kept in order.
class KeptRows final : public daemon::OutboxPublisher {
 public:
  void submit(std::vector<store::OutboxMessage> rows) override {
    for (auto& row : rows)
      submitted.push_back(std::move(row));
  }
  std::vector<store::OutboxMessage> submitted;
};

// Runs the loop until `done` holds, or gives up after many turns (a backoff's timer waits).
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  for (int turn = 0; turn < 5000 && !done(); ++turn) {
    io.restart();
    io.run_one_for(std::chrono::milliseconds{20});
  }
  return done();
}

// Runs everything that is ready now.
inline void drain(boost::asio::io_context& io) {
  io.restart();
  while (io.poll() > 0) {
  }
}

}  // namespace nqs::test
