#include "ops/metrics.hpp"

#include <fmt/format.h>

namespace nqs::ops {

std::string label(const std::string& value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Histogram::observe(double seconds) {
  ++count_;
  sum_ += seconds;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (seconds <= bounds_[i]) {
      ++counts_[i];
      return;
    }
  }
}

std::string Histogram::render(const std::string& name, const std::string& help) const {
  std::string out = fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count_, name,
                     sum_, name, count_);
  return out;
}

Metrics::Metrics()
    : intake_({0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25}),
      end_to_end_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}) {}

void Metrics::input(const std::string& queue, const std::string& document_type,
                    const std::string& outcome, const std::string& reason) {
  ++inputs_[{queue, document_type, outcome, reason}];
}

void Metrics::duplicate(const std::string& queue) {
  ++duplicates_[queue];
}

void Metrics::sla(bool breached, const std::string& step) {
  ++(breached ? breaches_ : warnings_)[step];
}

void Metrics::timer_fired(const std::string& kind) {
  ++timers_[kind];
}

std::string Metrics::render(const Gauges& gauges) const {
  std::string out;
  out += "# HELP nqs_up The daemon answers (1) and is ready (nqs_ready).\n# TYPE nqs_up gauge\n";
  out += "nqs_up 1\n";
  out +=
      "# HELP nqs_ready 1 when every readiness check passes (/readyz).\n# TYPE nqs_ready gauge\n";
  out += fmt::format("nqs_ready {}\n", gauges.ready ? 1 : 0);
  out += "# HELP nqs_inputs_total Inputs by queue, document type, outcome and reason code.\n";
  out += "# TYPE nqs_inputs_total counter\n";
  for (const auto& [key, count] : inputs_) {
    const auto& [queue, type, outcome, reason] = key;
    out += fmt::format(
        "nqs_inputs_total{{queue=\"{}\",document_type=\"{}\",outcome=\"{}\",reason=\"{}\"}} {}\n",
        label(queue), label(type), label(outcome), label(reason), count);
  }
  out +=
      "# HELP nqs_duplicates_total Inputs already processed (same id, same body), acknowledged "
      "without effect.\n# TYPE nqs_duplicates_total counter\n";
  for (const auto& [queue, count] : duplicates_) {
    out += fmt::format("nqs_duplicates_total{{queue=\"{}\"}} {}\n", label(queue), count);
  }
  out +=
      "# HELP nqs_decided_again_total Inputs decided again after their commit lost to another "
      "writer (normal traffic).\n";
  out += fmt::format("# TYPE nqs_decided_again_total counter\nnqs_decided_again_total {}\n",
                     decided_again_);
  out += intake_.render("nqs_intake_duration_seconds",
                        "Intake of one bus message: parsing, schemas, signature, mapping.");
  out += end_to_end_.render("nqs_input_duration_seconds",
                            "From the delivery of an input to its acknowledgement (committed and "
                            "every message it caused confirmed).");
  out += "# HELP nqs_intake_in_progress Documents being read on worker threads now.\n";
  out += fmt::format("# TYPE nqs_intake_in_progress gauge\nnqs_intake_in_progress {}\n",
                     gauges.intake_in_progress);
  out += "# HELP nqs_outbox_pending Messages committed and not yet confirmed by the broker.\n";
  out += fmt::format("# TYPE nqs_outbox_pending gauge\nnqs_outbox_pending {}\n",
                     gauges.outbox_pending);
  out +=
      "# HELP nqs_outbox_parked Outbox messages the broker refused every time, set aside for an "
      "operator (nqs-adapter queues).\n";
  out +=
      fmt::format("# TYPE nqs_outbox_parked gauge\nnqs_outbox_parked {}\n", gauges.outbox_parked);
  out += "# HELP nqs_outbox_oldest_age_seconds Age of the oldest unconfirmed outbox message.\n";
  out +=
      fmt::format("# TYPE nqs_outbox_oldest_age_seconds gauge\nnqs_outbox_oldest_age_seconds {}\n",
                  gauges.outbox_oldest_age_seconds);
  out += "# HELP nqs_timers_pending Durable timers set.\n";
  out += fmt::format("# TYPE nqs_timers_pending gauge\nnqs_timers_pending {}\n",
                     gauges.timers_pending);
  out += "# HELP nqs_timers_overdue Timers due and not yet fired.\n";
  out += fmt::format("# TYPE nqs_timers_overdue gauge\nnqs_timers_overdue {}\n",
                     gauges.timers_overdue);
  out +=
      "# HELP nqs_timers_fired_total Timers fired, by kind.\n# TYPE nqs_timers_fired_total "
      "counter\n";
  for (const auto& [kind, count] : timers_) {
    out += fmt::format("nqs_timers_fired_total{{kind=\"{}\"}} {}\n", label(kind), count);
  }
  out +=
      "# HELP nqs_sla_warnings_total SLA warnings sent, by step.\n# TYPE nqs_sla_warnings_total "
      "counter\n";
  for (const auto& [step, count] : warnings_) {
    out += fmt::format("nqs_sla_warnings_total{{step=\"{}\"}} {}\n", label(step), count);
  }
  out +=
      "# HELP nqs_sla_breaches_total SLA breaches sent, by step.\n# TYPE nqs_sla_breaches_total "
      "counter\n";
  for (const auto& [step, count] : breaches_) {
    out += fmt::format("nqs_sla_breaches_total{{step=\"{}\"}} {}\n", label(step), count);
  }
  out += "# HELP nqs_queue_messages Messages ready in a queue (passive declare).\n";
  out += "# TYPE nqs_queue_messages gauge\n";
  for (const auto& queue : gauges.queues) {
    if (queue.known) {
      out += fmt::format("nqs_queue_messages{{queue=\"{}\"}} {}\n", label(queue.queue),
                         queue.messages);
    }
  }
  out += "# HELP nqs_queue_consumers Consumers of a queue.\n# TYPE nqs_queue_consumers gauge\n";
  for (const auto& queue : gauges.queues) {
    if (queue.known) {
      out += fmt::format("nqs_queue_consumers{{queue=\"{}\"}} {}\n", label(queue.queue),
                         queue.consumers);
    }
  }
  out += "# HELP nqs_broker_connected 1 for the broker node connected to, 0 for the others.\n";
  out += "# TYPE nqs_broker_connected gauge\n";
  for (const auto& [node, connected] : gauges.broker_nodes) {
    out += fmt::format("nqs_broker_connected{{node=\"{}\"}} {}\n", label(node),
                       connected && gauges.broker_connected ? 1 : 0);
  }
  out += "# HELP nqs_broker_failovers_total Connections made to another node than the last.\n";
  out += fmt::format("# TYPE nqs_broker_failovers_total counter\nnqs_broker_failovers_total {}\n",
                     gauges.failovers);
  out += "# HELP nqs_broker_reconnects_total Connections to the broker after the first.\n";
  out += fmt::format("# TYPE nqs_broker_reconnects_total counter\nnqs_broker_reconnects_total {}\n",
                     gauges.reconnects);
  out +=
      "# HELP nqs_publish_confirm_failures_total Publishes refused, returned or lost before "
      "their confirm (each retried).\n";
  out += fmt::format(
      "# TYPE nqs_publish_confirm_failures_total counter\nnqs_publish_confirm_failures_total {}\n",
      gauges.confirm_failures);
  return out;
}

}  // namespace nqs::ops
