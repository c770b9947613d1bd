#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "common/clock.hpp"
#include "daemon/broker_link.hpp"
#include "daemon/ports.hpp"
#include "store/store.hpp"

namespace nqs::daemon {

struct RelaySettings {
  std::size_t max_in_flight = 256;
  std::chrono::milliseconds scan_interval{5000};  // how often pending rows are looked for
  std::chrono::milliseconds retry_delay{1000};    // after a refused or unroutable publish
};

// Publishes outbox rows with confirms and marks them sent once the broker confirmed them. Rows
// come from the processor as they are committed, and from the store (after a restart, a lost
// connection or a failed publish): whatever is committed and not confirmed is sent again, so
// nothing is lost and a message may be published more than once, always with the same
// message_id. The broker refuses a bad message by closing the channel, failing every message
// not yet confirmed: each of them becomes a suspect, sent again alone. A row refused kParkAfter
// times while alone (or whose stored properties cannot be read) is set aside in the store: kept,
// logged, counted, never sent again, so that one bad row cannot hold the connection in a loop of
// reconnects nor the messages behind it.
class OutboxRelay final : public OutboxPublisher {
 public:
  using Sent = std::function<void(const store::OutboxMessage&)>;
  static constexpr int kParkAfter = 3;

  OutboxRelay(boost::asio::io_context& io, store::InputLog& store, ConfirmedPublisher& link,
              const Clock& clock, RelaySettings settings, Sent on_sent);

  void start();
  void stop();
  // Rows just committed: send them now.
  void submit(std::vector<store::OutboxMessage> rows) override;
  // Looks for pending rows in the store (after a reconnect or a restart: all of them; on the
  // timer, `young_too` false: those older than a scan interval).
  void rescan(bool young_too = true);
  void pump();
  [[nodiscard]] bool idle() const { return queue_.empty() && in_flight_ == 0; }
  [[nodiscard]] std::uint64_t confirm_failures() const { return confirm_failures_; }
  [[nodiscard]] std::uint64_t parked() const { return parked_; }

 private:
  void send(store::OutboxMessage row);
  void schedule_scan();
  // Marks the rows confirmed in this turn of the event loop as sent, in one transaction.
  void mark_confirmed();
  // Sets the row aside for good (the processor settles its input as if it had been sent).
  void park(const store::OutboxMessage& row, const std::string& why);

  boost::asio::io_context& io_;
  store::InputLog& store_;
  ConfirmedPublisher& link_;
  const Clock& clock_;
  RelaySettings settings_;
  Sent on_sent_;
  std::deque<store::OutboxMessage> queue_;
  std::set<std::int64_t> known_;  // queued or in flight
  std::size_t in_flight_ = 0;
  std::uint64_t confirm_failures_ = 0;
  std::uint64_t parked_ = 0;
  std::set<std::int64_t> suspects_;       // in flight when the broker refused some message
  std::optional<std::int64_t> solo_;      // the suspect sent alone, in flight
  std::map<std::int64_t, int> refusals_;  // refused while alone, by row
  std::vector<std::int64_t> confirmed_;   // confirmed, to be marked sent
  boost::asio::steady_timer scan_timer_;
  bool stopped_ = false;
};

}  // namespace nqs::daemon
