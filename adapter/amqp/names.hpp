#pragma once

#include <string>

namespace nqs::amqp {

// The queues and exchanges of messages.md ("Queues"), with their default names; `amqp.*` in the
// configuration may name others. One struct for everything that publishes or consumes.
struct Names {
  std::string gov_in = "nqs.gov.in";                // signed documents from the government bus
  std::string ais_events = "nqs.ais.events";        // JSON events from the AIS
  std::string ais_commands = "ais.commands";        // exchange: commands to the AIS
  std::string gov_outbound = "gov.outbound";        // exchange: signed notifications to the bus
  std::string notifications = "nqs.notifications";  // exchange: SLA warnings and breaches
  std::string sla_queue = "nqs.sla";     // bound to notifications with sla.#: nothing unroutable
  std::string dead_letters = "nqs.dlx";  // exchange: each input queue's dead letters
};

}  // namespace nqs::amqp
