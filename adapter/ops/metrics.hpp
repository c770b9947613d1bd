#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace nqs::ops {

// A Prometheus histogram with fixed buckets (seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_.size()) {}
  void observe(double seconds);
  // The text exposition of this histogram under `name`.
  [[nodiscard]] std::string render(const std::string& name, const std::string& help) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket (not cumulative)
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

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
  std::vector<QueueGauge> queues;
};

// The daemon's counters, owned by its one event-loop thread (no locking), exposed in the
// Prometheus text format by /metrics. Names follow the Prometheus conventions: nqs_ prefix,
// _total for counters, _seconds for durations.
class Metrics {
 public:
  Metrics();
  void input(const std::string& queue, const std::string& document_type, const std::string& outcome,
             const std::string& reason);
  void duplicate(const std::string& queue);
  // A commit lost to another writer (an application's version, a unique index, the quota): the
  // input is decided again. Normal traffic with several inputs or instances.
  void decided_again() { ++decided_again_; }
  void intake_seconds(double seconds) { intake_.observe(seconds); }
  void end_to_end_seconds(double seconds) { end_to_end_.observe(seconds); }
  void sla(bool breached, const std::string& step);
  void timer_fired(const std::string& kind);
  [[nodiscard]] std::string render(const Gauges& gauges) const;

 private:
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::uint64_t> inputs_;
  std::map<std::string, std::uint64_t> duplicates_;
  std::uint64_t decided_again_ = 0;
  std::map<std::string, std::uint64_t> warnings_;
  std::map<std::string, std::uint64_t> breaches_;
  std::map<std::string, std::uint64_t> timers_;
  Histogram intake_;
  Histogram end_to_end_;
};

// A label value escaped for the text format.
std::string label(const std::string& value);

}  // namespace nqs::ops
