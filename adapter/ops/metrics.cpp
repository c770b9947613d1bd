#include "ops/metrics.hpp"

#include <prometheus/text_serializer.h>

namespace nqs::ops {

using prometheus::MetricType;

Scrape& Scrape::family(std::string name, std::string help, MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  families_.push_back(std::move(family));
  return *this;
}

Scrape& Scrape::sample(double value, prometheus::Labels labels) {
  auto& family = families_.back();
  prometheus::ClientMetric metric;
  for (auto& [name, text] : labels)
    metric.label.push_back({name, text});
  if (family.type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return *this;
}

Scrape& Scrape::summary(double sum, std::uint64_t count) {
  prometheus::ClientMetric metric;
  metric.summary.sample_sum = sum;
  metric.summary.sample_count = count;
  families_.back().metric.push_back(std::move(metric));
  return *this;
}

std::vector<prometheus::MetricFamily> Scrape::families() && {
  std::erase_if(families_, [](const auto& family) { return family.metric.empty(); });
  return std::move(families_);
}

std::string exposition(const std::vector<prometheus::MetricFamily>& families) {
  return prometheus::TextSerializer().Serialize(families);
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      inputs_(prometheus::BuildCounter()
                  .Name("nqs_inputs_total")
                  .Help("Inputs by queue, document type, outcome and reason code.")
                  .Register(*registry_)),
      duplicates_(prometheus::BuildCounter()
                      .Name("nqs_duplicates_total")
                      .Help("Inputs already processed (same id, same body), acknowledged without "
                            "effect.")
                      .Register(*registry_)),
      decided_again_(prometheus::BuildCounter()
                         .Name("nqs_decided_again_total")
                         .Help("Inputs decided again after their commit lost to another writer "
                               "(normal traffic).")
                         .Register(*registry_)
                         .Add({})),
      warnings_(prometheus::BuildCounter()
                    .Name("nqs_sla_warnings_total")
                    .Help("SLA warnings sent, by step.")
                    .Register(*registry_)),
      breaches_(prometheus::BuildCounter()
                    .Name("nqs_sla_breaches_total")
                    .Help("SLA breaches sent, by step.")
                    .Register(*registry_)),
      timers_(prometheus::BuildCounter()
                  .Name("nqs_timers_fired_total")
                  .Help("Timers fired, by kind.")
                  .Register(*registry_)),
      intake_(
          prometheus::BuildHistogram()
              .Name("nqs_intake_duration_seconds")
              .Help("Intake of one bus message: parsing, schemas, signature, mapping; wall time on "
                    "its worker thread, a wait for a core included.")
              .Register(*registry_)
              .Add({},
                   prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                           0.005, 0.01, 0.025, 0.05, 0.1, 0.25})),
      end_to_end_(
          prometheus::BuildHistogram()
              .Name("nqs_input_duration_seconds")
              .Help("From the delivery of an input to its acknowledgement (committed and "
                    "every message it caused confirmed).")
              .Register(*registry_)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                               0.5, 1, 2.5, 5, 10, 30, 60})),
      commit_(
          prometheus::BuildHistogram()
              .Name("nqs_commit_duration_seconds")
              .Help("One store transaction of a batch of inputs, its disk flush included: "
                    "the event loop waits for it, and every input in it.")
              .Register(*registry_)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                               0.025, 0.05, 0.1, 0.25, 0.5, 1})),
      commit_inputs_(prometheus::BuildHistogram()
                         .Name("nqs_commit_inputs")
                         .Help("Inputs in one store transaction (committed together: one disk "
                               "flush for all of them).")
                         .Register(*registry_)
                         .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64,
                                                                          128, 256, 512})) {}

void Metrics::input(const std::string& queue, const std::string& document_type,
                    const std::string& outcome, const std::string& reason) {
  inputs_
      .Add({{"queue", queue},
            {"document_type", document_type},
            {"outcome", outcome},
            {"reason", reason}})
      .Increment();
}

void Metrics::duplicate(const std::string& queue) {
  duplicates_.Add({{"queue", queue}}).Increment();
}

void Metrics::sla(bool breached, const std::string& step) {
  (breached ? breaches_ : warnings_).Add({{"step", step}}).Increment();
}

void Metrics::sla_steps(const std::vector<std::string>& steps) {
  for (const auto& step : steps) {
    warnings_.Add({{"step", step}});
    breaches_.Add({{"step", step}});
  }
}

void Metrics::timer_fired(const std::string& kind) {
  timers_.Add({{"kind", kind}}).Increment();
}

std::vector<prometheus::MetricFamily> Metrics::collect(const Gauges& gauges) const {
  Scrape scrape;
  scrape.family("nqs_up", "The daemon answers (1) and is ready (nqs_ready).", MetricType::Gauge)
      .sample(1);
  scrape.family("nqs_ready", "1 when every readiness check passes (/readyz).", MetricType::Gauge)
      .sample(gauges.ready ? 1 : 0);
  scrape
      .family("nqs_calendar_next_year_missing",
              "1 from 1 November (the daemon's time zone) while the coming year's working-day "
              "calendar or MCI is not configured; the daemon is not ready on a day of a year "
              "without them.",
              MetricType::Gauge)
      .sample(gauges.next_year_missing ? 1 : 0);
  scrape
      .family("nqs_intake_in_progress", "Documents being read on worker threads now.",
              MetricType::Gauge)
      .sample(static_cast<double>(gauges.intake_in_progress));
  scrape
      .family("nqs_outbox_pending", "Messages committed and not yet confirmed by the broker.",
              MetricType::Gauge)
      .sample(static_cast<double>(gauges.outbox_pending));
  scrape
      .family("nqs_outbox_parked",
              "Outbox messages the broker refused every time, set aside for an operator "
              "(nqs-adapter queues).",
              MetricType::Gauge)
      .sample(static_cast<double>(gauges.outbox_parked));
  scrape
      .family("nqs_outbox_oldest_age_seconds", "Age of the oldest unconfirmed outbox message.",
              MetricType::Gauge)
      .sample(gauges.outbox_oldest_age_seconds);
  scrape.family("nqs_timers_pending", "Durable timers set.", MetricType::Gauge)
      .sample(static_cast<double>(gauges.timers_pending));
  scrape.family("nqs_timers_overdue", "Timers due and not yet fired.", MetricType::Gauge)
      .sample(static_cast<double>(gauges.timers_overdue));
  scrape.family("nqs_queue_messages", "Messages ready in a queue (passive declare).",
                MetricType::Gauge);
  for (const auto& queue : gauges.queues) {
    if (queue.known) scrape.sample(static_cast<double>(queue.messages), {{"queue", queue.queue}});
  }
  scrape.family("nqs_queue_consumers", "Consumers of a queue.", MetricType::Gauge);
  for (const auto& queue : gauges.queues) {
    if (queue.known) scrape.sample(static_cast<double>(queue.consumers), {{"queue", queue.queue}});
  }
  scrape.family("nqs_broker_connected", "1 for the broker node connected to, 0 for the others.",
                MetricType::Gauge);
  for (const auto& [node, connected] : gauges.broker_nodes)
    scrape.sample(connected && gauges.broker_connected ? 1 : 0, {{"node", node}});
  scrape
      .family("nqs_broker_failovers_total", "Connections made to another node than the last.",
              MetricType::Counter)
      .sample(static_cast<double>(gauges.failovers));
  scrape
      .family("nqs_broker_reconnects_total", "Connections to the broker after the first.",
              MetricType::Counter)
      .sample(static_cast<double>(gauges.reconnects));
  scrape
      .family("nqs_publish_confirm_failures_total",
              "Publishes refused, returned or lost before their confirm (each retried).",
              MetricType::Counter)
      .sample(static_cast<double>(gauges.confirm_failures));
  auto families = std::move(scrape).families();
  for (auto& family : registry_->Collect())
    families.push_back(std::move(family));
  return families;
}

}  // namespace nqs::ops
