#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "amqp/connection.hpp"
#include "configuration/config.hpp"

namespace nqs::daemon {

// The topology of messages.md: quorum queues that dead-letter at least once to the dead-letter
// exchange (which needs x-overflow: reject-publish), a delivery limit, one DLQ per input queue,
// and the SLA queue. Declared at every connection; containers/rabbitmq/definitions.json must
// agree (a test compares them).
amqp::Topology topology_of(const configuration::AmqpConfig& names);

// The queues operators watch (the daemon's poller and `nqs-adapter queues`), with their role.
enum class QueueRole { input, dead_letters, sla };
struct WatchedQueue {
  std::string name;
  QueueRole role = QueueRole::input;
};
std::vector<WatchedQueue> watched_queues(const configuration::AmqpConfig& names);
std::string_view role_name(QueueRole role);
}  // namespace nqs::daemon
