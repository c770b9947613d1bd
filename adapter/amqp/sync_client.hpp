#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "amqp/connection.hpp"
#include "amqp/url.hpp"
#include "common/result.hpp"

struct amqp_connection_state_t_;
struct amqp_rpc_reply_t_;

namespace nqs::amqp {

// A message read from a queue and not yet settled: acknowledged (removed), or left to return to
// the queue when the client closes.
struct Held {
  std::uint64_t delivery_tag = 0;
  std::string exchange;
  std::string routing_key;
  bool redelivered = false;
  Properties properties;
  std::string body;
};

// A blocking AMQP client for the command line (dead letters, queue health): one connection,
// channel 1 reads and settles, channel 2 publishes with confirms.
//
// Reading a message never returns it to its queue: a quorum queue counts each return, and past
// its delivery limit (RabbitMQ 4.x sets 20 by default, and 3.10 drops at once with a limit of -1)
// a dead letter would be dropped after enough looks. Instead, put_back (also run when the client
// is destroyed) publishes a copy of every message read and not acknowledged to the end of its
// queue, confirmed, and then acknowledges the original: a full read keeps the queue's order, and
// the broker's delivery count stays 0 on every release. A message whose properties could not be
// read as they came, or whose copy the broker refuses, is left to the broker to return as it is;
// so is every message when the process dies first.
class SyncClient {
 public:
  static Result<std::unique_ptr<SyncClient>> connect(const ConnectionSettings& settings);
  // The first of the cluster's nodes that answers, in the order given; the error lists every
  // node's failure.
  static Result<std::unique_ptr<SyncClient>> connect(const std::vector<ConnectionSettings>& nodes);
  // The broker's product and version, e.g. "RabbitMQ 3.10.8".
  [[nodiscard]] const ServerVersion& server() const { return server_; }
  ~SyncClient();
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;

  // Passive declare: ready messages and consumers; an error if the queue does not exist.
  Result<QueueState> inspect(const std::string& queue);
  // The next message of a queue not read yet by this client (basic.get, not acknowledged), or
  // nothing when none is left.
  Result<std::optional<Held>> get(const std::string& queue);
  Result<void> ack(std::uint64_t delivery_tag);
  // Every message read and not acknowledged: copied to the end of its queue, then acknowledged.
  Result<void> put_back();
  // Publishes and waits for the broker's confirm; refused (basic.nack) or unroutable (mandatory,
  // basic.return) is an error.
  Result<void> publish(const Outgoing& message);
  // A queue of this client's own (named by the broker, exclusive: gone when the client closes)
  // bound to each exchange with its binding key: a copy of what they route, to watch with get.
  Result<std::string> declare_watch_queue(
      const std::vector<std::pair<std::string, std::string>>& bindings);

 private:
  explicit SyncClient(amqp_connection_state_t_* state) : state_(state) {}
  Result<void> check(const char* doing);
  Result<void> reopen_channel(int channel);
  void reopen_closed_read_channel(const amqp_rpc_reply_t_& reply);

  amqp_connection_state_t_* state_;
  ServerVersion server_;
  std::string user_;
  std::map<std::uint64_t, std::pair<std::string, Held>> unsettled_;  // by delivery tag: queue
};

}  // namespace nqs::amqp
