#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "amqp/connection.hpp"
#include "common/result.hpp"

struct amqp_connection_state_t_;

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
// channel 1 reads and settles, channel 2 publishes with confirms. Closing it (or the process
// dying) returns every message read and not acknowledged to its queue: the broker loses nothing.
class SyncClient {
 public:
  static Result<std::unique_ptr<SyncClient>> connect(const ConnectionSettings& settings);
  ~SyncClient();
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;

  // Passive declare: ready messages and consumers; an error if the queue does not exist.
  Result<QueueState> inspect(const std::string& queue);
  // The next message of a queue not read yet by this client (basic.get, not acknowledged), or
  // nothing when none is left.
  Result<std::optional<Held>> get(const std::string& queue);
  Result<void> ack(std::uint64_t delivery_tag);
  // Publishes and waits for the broker's confirm; refused (basic.nack) or unroutable (mandatory,
  // basic.return) is an error.
  Result<void> publish(const Outgoing& message);

 private:
  explicit SyncClient(amqp_connection_state_t_* state) : state_(state) {}
  Result<void> check(const char* doing);
  Result<void> reopen_channel(int channel);

  amqp_connection_state_t_* state_;
};

}  // namespace nqs::amqp
