#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nqs::ops {

// Families of values read at scrape time (queue depths, the outbox, a CRL's nextUpdate), built
// for one exposition: a family, then its samples.
class Scrape {
 public:
  Scrape& family(std::string name, std::string help, prometheus::MetricType type);
  Scrape& sample(double value, prometheus::Labels labels = {});
  // A summary's sum and count (no quantiles).
  Scrape& summary(double sum, std::uint64_t count);
  // The families; empty ones are left out.
  [[nodiscard]] std::vector<prometheus::MetricFamily> families() &&;

 private:
  std::vector<prometheus::MetricFamily> families_;
};

// The Prometheus text format of these families (prometheus-cpp's serializer).
std::string exposition(const std::vector<prometheus::MetricFamily>& families);

struct QueueGauge {
  std::string queue;
  std::int64_t messages = 0;  // ready
  std::int64_t consumers = 0;
  bool known = false;  // the last poll could read it
};

// What /metrics reports that is read at scrape time rather than counted.
struct Gauges {
  std::int64_t outbox_pending = 0;
  std::int64_t outbox_parked = 0;
  std::uint64_t intake_in_progress = 0;  // documents being read on worker threads
  double outbox_oldest_age_seconds = 0;
  std::int64_t timers_pending = 0;
  std::int64_t timers_overdue = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t confirm_failures = 0;
  bool broker_connected = false;
  std::uint64_t failovers = 0;
  std::vector<std::pair<std::string, bool>> broker_nodes;  // host:port, connected to it now
  bool ready = false;
  bool next_year_missing = false;  // from 1 November: the coming year's calendar or MCI
  std::vector<QueueGauge> queues;
};

// The daemon's counters and histograms, in a prometheus-cpp registry, with the values read at
// scrape time beside them. Names follow the Prometheus conventions: nqs_ prefix, _total for
// counters, _seconds for durations.
class Metrics {
 public:
  Metrics();
  void input(const std::string& queue, const std::string& document_type, const std::string& outcome,
             const std::string& reason);
  void duplicate(const std::string& queue);
  // A commit lost to another writer (an application's version, a unique index, the quota): the
  // input is decided again. Normal traffic with several inputs or instances.
  void decided_again() { decided_again_.Increment(); }
  void intake_seconds(double seconds) { intake_.Observe(seconds); }
  void end_to_end_seconds(double seconds) { end_to_end_.Observe(seconds); }
  // One transaction of a batch of inputs, committed or not: how long the event loop was in it
  // (its disk flush included), and how many inputs it held.
  void commit(double seconds, std::size_t inputs) {
    commit_.Observe(seconds);
    commit_inputs_.Observe(static_cast<double>(inputs));
  }
  void sla(bool breached, const std::string& step);
  // The steps of deadlines.steps, each counted from 0 from the start: an alert on the increase
  // of a step's breaches sees the first one (a series that appears at 1 has no increase).
  void sla_steps(const std::vector<std::string>& steps);
  void timer_fired(const std::string& kind);
  // Every family: the values of `gauges`, then what was counted.
  [[nodiscard]] std::vector<prometheus::MetricFamily> collect(const Gauges& gauges) const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& inputs_;
  prometheus::Family<prometheus::Counter>& duplicates_;
  prometheus::Counter& decided_again_;
  prometheus::Family<prometheus::Counter>& warnings_;
  prometheus::Family<prometheus::Counter>& breaches_;
  prometheus::Family<prometheus::Counter>& timers_;
  prometheus::Histogram& intake_;
  prometheus::Histogram& end_to_end_;
  prometheus::Histogram& commit_;
  prometheus::Histogram& commit_inputs_;
};

}  // namespace nqs::ops
