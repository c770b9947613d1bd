#pragma once

// The messages the adapter reads from the broker and sends to it, apart from the connections that
// carry them (amqp/connection.hpp for the daemon, amqp/sync_client.hpp for the command line).
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nqs::amqp {

// Message properties, all of AMQP 0-9-1's, so that a message is carried as it came. Headers are
// JSON without loss (amqp/fields.hpp): every field kind keeps its kind. An empty text property is
// an absent one.
struct Properties {
  std::string content_type;
  std::string content_encoding;
  std::string message_id;
  std::string correlation_id;
  std::string reply_to;
  std::string expiration;
  std::string type;
  std::string user_id;
  std::string app_id;
  std::string cluster_id;
  std::optional<std::int64_t> timestamp;  // seconds since the epoch
  std::optional<std::uint8_t> priority;
  bool persistent = true;  // delivery mode 2
  boost::json::object headers;
  // What could not be read or carried as it came, left out (read_properties): set only on
  // reading a delivery, never stored.
  std::vector<std::string> problems;
};

struct Delivery {
  std::uint64_t delivery_tag = 0;
  std::uint64_t generation = 0;  // which connection it came on: acks go back on the same one
  std::uint16_t channel = 0;     // and which of its channels (one a queue consumed)
  std::string exchange;
  std::string routing_key;
  std::string queue;  // the queue it was consumed from
  bool redelivered = false;
  Properties properties;
  std::string body;
  // Over the consumer's limit: the body's size, and `body` left empty (its frames were dropped as
  // they came; the broker still has the message).
  std::uint64_t unread_body_bytes = 0;
  std::chrono::steady_clock::time_point received{};  // for the end-to-end latency
};

struct Outgoing {
  std::string exchange;
  std::string routing_key;
  Properties properties;
  std::string body;
  bool mandatory = true;  // unroutable is a failure, not a silent drop
};

}  // namespace nqs::amqp
