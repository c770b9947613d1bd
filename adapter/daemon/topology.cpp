#include "daemon/topology.hpp"

namespace nqs::daemon {

amqp::Topology topology_of(const configuration::AmqpConfig& names) {
  amqp::Topology topology;
  topology.exchanges = {{names.ais_commands, "topic"},
                        {names.gov_outbound, "topic"},
                        {names.notifications, "topic"},
                        {names.dead_letters, "direct"}};
  for (const auto& queue : {names.gov_in, names.ais_events}) {
    boost::json::object arguments;
    arguments["x-queue-type"] = "quorum";
    arguments["x-dead-letter-exchange"] = names.dead_letters;
    arguments["x-dead-letter-routing-key"] = queue;
    arguments["x-dead-letter-strategy"] = "at-least-once";
    arguments["x-overflow"] = "reject-publish";
    arguments["x-delivery-limit"] = names.delivery_limit;
    topology.queues.push_back({queue, arguments});
    boost::json::object dlq;
    dlq["x-queue-type"] = "quorum";
    topology.queues.push_back({queue + ".dlq", dlq});
    topology.bindings.push_back({queue + ".dlq", names.dead_letters, queue});
  }
  // SLA warnings and breaches are kept for operations even when nothing else listens.
  boost::json::object sla;
  sla["x-queue-type"] = "quorum";
  topology.queues.push_back({names.sla_queue, sla});
  topology.bindings.push_back({names.sla_queue, names.notifications, "sla.#"});
  return topology;
}

std::vector<WatchedQueue> watched_queues(const configuration::AmqpConfig& names) {
  return {{names.gov_in, QueueRole::input},
          {names.ais_events, QueueRole::input},
          {names.gov_in + ".dlq", QueueRole::dead_letters},
          {names.ais_events + ".dlq", QueueRole::dead_letters},
          {names.sla_queue, QueueRole::sla}};
}

std::string_view role_name(QueueRole role) {
  switch (role) {
    case QueueRole::input:
      return "input";
    case QueueRole::dead_letters:
      return "dead letters";
    case QueueRole::sla:
      return "SLA messages";
  }
  return "unknown";
}

}  // namespace nqs::daemon
