#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "configuration/config.hpp"

namespace nqs::workflow {
class Workflow;
}
namespace nqs::store {
class Store;
}
namespace nqs::ops {
class Metrics;
}

namespace nqs::daemon {

class BrokerLink;
class OutboxRelay;
class Processor;
class TimerRunner;
class TrustKeeper;
class Workers;

// The composition root of the running daemon: every component built from one Setup, in the order
// they depend on each other, wired to each other and to the loop, and the reloadable ones
// replaced on SIGHUP. Nothing here decides or moves a message.
class Components {
 public:
  // Opens the store and builds the rest on `io`; nothing runs until start().
  static Result<std::unique_ptr<Components>> build(boost::asio::io_context& io,
                                                   const configuration::Setup& setup,
                                                   OffsetClock& clock);
  ~Components();
  Components(const Components&) = delete;
  Components& operator=(const Components&) = delete;

  // On the loop: the broker link, the relay and the timers. The trust keeper starts apart, once
  // the clock has its control file's offset (its cached CRLs are judged at that time).
  void start();
  // The workers' threads end; results they would hand back are dropped with the loop.
  void stop_workers();

  // SIGHUP: the workflow, the intake and the trust keeper of `fresh` take over between batches.
  // The exchanges stay those of the running connection (broker settings need a restart).
  void reload(const configuration::Setup& fresh, const amqp::Names& running_names);

  [[nodiscard]] store::Store& store() { return *store_; }
  [[nodiscard]] BrokerLink& link() { return *link_; }
  [[nodiscard]] OutboxRelay& relay() { return *relay_; }
  [[nodiscard]] Processor& processor() { return *processor_; }
  [[nodiscard]] TimerRunner& timers() { return *timers_; }
  [[nodiscard]] TrustKeeper& trust() { return *trust_; }
  [[nodiscard]] ops::Metrics& metrics() { return *metrics_; }

 private:
  Components(boost::asio::io_context& io, OffsetClock& clock);

  boost::asio::io_context& io_;
  OffsetClock& clock_;
  // Destroyed in reverse order of declaration: the workers outlive the processor and the timer
  // runner that post to them, the store and the link outlive the relay that uses them.
  std::unique_ptr<Workers> workers_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<BrokerLink> link_;
  std::unique_ptr<OutboxRelay> relay_;
  std::unique_ptr<workflow::Workflow> workflow_;
  std::unique_ptr<Processor> processor_;
  std::unique_ptr<TimerRunner> timers_;
  std::unique_ptr<TrustKeeper> trust_;
  std::unique_ptr<ops::Metrics> metrics_;
};

}  // namespace nqs::daemon
