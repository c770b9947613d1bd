#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "amqp/connection.hpp"
#include "store/store.hpp"

namespace nqs::daemon {

// What the processor needs of the broker, and no more, so that its ack contract can be driven by
// a test without one.

// Deliveries are acknowledged on the connection they came on.
class DeliveryAcks {
 public:
  virtual ~DeliveryAcks() = default;
  // Which connection is live: a delivery of an older one is the broker's to redeliver.
  [[nodiscard]] virtual std::uint64_t generation() const = 0;
  // False when the delivery's connection is gone (the broker redelivers it).
  virtual bool ack(const amqp::Delivery& delivery) = 0;
  // Rejected without requeue: the queue's dead-letter exchange takes the message as the broker
  // has it. False when the delivery's connection is gone.
  virtual bool reject(const amqp::Delivery& delivery) = 0;
};

// Outbox rows just committed, to be published with confirms; each confirm comes back to the
// processor as Processor::on_sent.
class OutboxPublisher {
 public:
  virtual ~OutboxPublisher() = default;
  virtual void submit(std::vector<store::OutboxMessage> rows) = 0;
};

// Publishing with confirms, as the outbox relay needs it of the broker link: each publish
// completes once, confirmed or not; `over_a_message` when the broker refused it (or one sent
// with it) rather than losing the connection.
class ConfirmedPublisher {
 public:
  using Completion =
      std::function<void(bool confirmed, const std::string& why, bool over_a_message)>;
  virtual ~ConfirmedPublisher() = default;
  [[nodiscard]] virtual bool connected() const = 0;
  // The broker asked publishers to wait (connection.blocked).
  [[nodiscard]] virtual bool blocked() const = 0;
  virtual void publish(const amqp::Outgoing& message, Completion done) = 0;
};

}  // namespace nqs::daemon
