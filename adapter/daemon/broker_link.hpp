#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "amqp/connection.hpp"
#include "daemon/ports.hpp"

namespace nqs::daemon {

struct BrokerSettings {
  // The nodes of one cluster (amqp.url), each with the same credentials, vhost and TLS.
  std::vector<amqp::ConnectionSettings> nodes;
  amqp::Topology topology;
  // Queues to consume from, each with the largest body it reads (a larger one comes unread).
  struct Consumed {
    std::string queue;
    std::size_t max_body = 0;
  };
  std::vector<Consumed> consume;
  std::chrono::milliseconds reconnect_initial{500};
  std::chrono::milliseconds reconnect_max{30000};
};

// The adapter's link to the broker: one connection at a time, to one of the cluster's nodes. When
// it is lost (or a consumer is cancelled because its queue was deleted), the other nodes are tried
// at once, in a shuffled order with the lost one last; only when every node failed in a round does
// the next round wait, with exponential backoff and jitter (and so does a connection lost again
// within a second of a quick retry, so that a node that accepts and drops cannot spin the loop).
// A node that refuses every publish for 3 s is left the same way, once until a publish is
// confirmed again. One node is tried per turn of the event loop. On each connection the topology
// is declared again and the consumers resumed.
// Publishes complete exactly once: confirmed (basic.ack), or failed (basic.nack, basic.return of
// an unroutable mandatory message, or the connection lost before the confirm). A failure says
// whether it was `over_a_message`: the library could not send one, or the broker closed the
// connection or channel over one it refused (406, 501, 502, 505). Which one, the broker does not
// say: every message not yet confirmed is told so, and only one sent alone is known to be it.
class BrokerLink final : public DeliveryAcks, public ConfirmedPublisher {
 public:
  using Completion = ConfirmedPublisher::Completion;
  struct Handlers {
    std::function<void(amqp::Delivery)> on_delivery;
    std::function<void()> on_connected;
    std::function<void(const std::string& why)> on_disconnected;
  };

  BrokerLink(boost::asio::io_context& io, BrokerSettings settings, Handlers handlers);
  ~BrokerLink() override;

  void start();
  // Closes the connection; no reconnect after.
  void stop();
  // Stops consuming (graceful stop): deliveries already received are still acknowledged.
  void stop_consuming();

  void publish(const amqp::Outgoing& message, Completion done) override;
  // Acknowledges a delivery on the connection it came on; false if that connection is gone
  // (the broker redelivers it).
  bool ack(const amqp::Delivery& delivery) override;
  bool reject(const amqp::Delivery& delivery) override;

  [[nodiscard]] bool connected() const override { return connection_ && connection_->is_open(); }
  [[nodiscard]] bool blocked() const override { return blocked_; }
  // Connected and consuming (not stopped for a graceful stop).
  [[nodiscard]] bool consuming() const { return connected() && consuming_; }
  // Passive declare of a queue on the live connection (an RPC on the event loop).
  Result<amqp::QueueState> inspect(const std::string& queue);
  [[nodiscard]] std::size_t unconfirmed() const { return pending_.size(); }
  [[nodiscard]] std::uint64_t reconnects() const { return reconnects_; }
  // Connections made on another node than the one before.
  [[nodiscard]] std::uint64_t failovers() const { return failovers_; }
  // host:port of the node connected to (empty when not connected), and the broker's version.
  [[nodiscard]] std::string node() const;
  [[nodiscard]] std::string server() const;
  // Every configured node (host:port), and why the last attempt on each failed (empty: it did
  // not, or was not tried since).
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> nodes() const;
  [[nodiscard]] std::uint64_t generation() const override { return generation_; }

 private:
  struct Pending {
    std::string message_id;
    std::string returned;  // why the broker returned it, if it did
    Completion done;
  };

  void connect();
  // Tries the next node of the round; false when the round is over.
  bool try_next_node();
  // What the events of a new connection do to the link.
  amqp::Connection::Handlers connection_handlers();
  void start_round(std::optional<std::size_t> last);
  void schedule_reconnect(const std::string& why);
  void on_lost(const std::string& why);
  void on_confirm(std::uint64_t tag, bool multiple, bool acked);
  void fail_all_pending(const std::string& why, bool over_a_message);
  // Acknowledges or rejects (`how`) a delivery on the connection it came on; false if it is gone.
  bool settle(const amqp::Delivery& delivery,
              Result<void> (amqp::Connection::*how)(const amqp::Delivery&), std::string_view doing);

  boost::asio::io_context& io_;
  BrokerSettings settings_;
  Handlers handlers_;
  std::shared_ptr<amqp::Connection> connection_;
  boost::asio::steady_timer reconnect_timer_;
  std::map<std::uint64_t, Pending> pending_;
  std::uint64_t generation_ = 0;
  std::uint64_t reconnects_ = 0;
  std::uint64_t failovers_ = 0;
  int attempt_ = 0;
  std::vector<std::size_t> round_;        // the nodes still to try in this round, next first
  std::optional<std::size_t> current_;    // the node connected to, or the last one
  std::vector<std::string> node_errors_;  // by node: why its last attempt failed
  std::chrono::steady_clock::time_point connected_at_{};
  bool quick_retry_used_ = false;  // the last loss was retried at once
  // Publishes refused in a row on this connection, since when: past both limits, another node.
  static constexpr std::size_t kNackStreakLimit = 10;
  static constexpr std::chrono::seconds kNackStreakTime{3};
  std::size_t nack_streak_ = 0;
  bool nack_failover_armed_ = true;  // no move for nacks again until a publish is confirmed
  std::chrono::steady_clock::time_point nack_streak_since_{};
  bool blocked_ = false;
  bool stopped_ = false;
  bool consuming_ = true;
  std::mt19937 random_{std::random_device{}()};
};

}  // namespace nqs::daemon
