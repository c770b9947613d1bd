#include "daemon/components.hpp"

#include "daemon/broker_link.hpp"
#include "daemon/outbox_relay.hpp"
#include "daemon/processor.hpp"
#include "daemon/timer_runner.hpp"
#include "daemon/topology.hpp"
#include "daemon/trust_keeper.hpp"
#include "daemon/workers.hpp"
#include "intake/ais_event_parser.hpp"
#include "log/logging.hpp"
#include "ops/metrics.hpp"
#include "store/sql_store.hpp"
#include "workflow/workflow.hpp"

namespace nqs::daemon {
namespace {

// The workflow of a loaded configuration, publishing to the exchanges named in `names`.
std::unique_ptr<workflow::Workflow> workflow_for(const configuration::Setup& setup,
                                                 const amqp::Names& names) {
  return std::make_unique<workflow::Workflow>(*setup.calendar, setup.config.domain.mci,
                                              setup.notifications, names, setup.config.deadlines,
                                              setup.config.domain.policy);
}

// A delivery over its queue's limit is not read (it would be refused unread): a document over
// intake.max_message_bytes, an AIS event over the event parser's own bound.
Result<BrokerSettings> broker_settings(const configuration::AmqpConfig& amqp,
                                       std::size_t max_document_bytes) {
  BOOST_OUTCOME_TRY(auto nodes, configuration::broker_nodes(amqp));
  BrokerSettings broker;
  broker.nodes = std::move(nodes);
  broker.topology = topology_of(amqp);
  broker.consume = {{amqp.gov_in, max_document_bytes},
                    {amqp.ais_events, intake::kMaxAisEventBytes}};
  broker.reconnect_initial = amqp.reconnect_initial_delay;
  broker.reconnect_max = amqp.reconnect_max_delay;
  return broker;
}

// The steps of deadlines.steps, for the SLA counters (each from 0).
std::vector<std::string> steps_of(const domain::DeadlineTable& table) {
  std::vector<std::string> steps;
  for (const auto& rule : table.rules)
    steps.push_back(rule.step);
  return steps;
}

}  // namespace

Components::Components(boost::asio::io_context& io, OffsetClock& clock) : io_(io), clock_(clock) {}

Components::~Components() = default;

Result<std::unique_ptr<Components>> Components::build(boost::asio::io_context& io,
                                                      const configuration::Setup& setup,
                                                      OffsetClock& clock) {
  const auto& config = setup.config;
  std::unique_ptr<Components> out(new Components(io, clock));
  out->trust_ = std::make_unique<TrustKeeper>(setup, clock);
  auto opened = store::open_store(
      config.store.url,
      store::SqliteSettings{config.store.sqlite_path, config.store.busy_timeout,
                            config.store.sqlite_cache_mib},
      configuration::postgres_settings(config.store, [](const std::string& notice) {
        log::warn("PostgreSQL", {{"notice", notice}});
      }));
  if (!opened) return make_error("the store cannot be opened: " + opened.error().message);
  out->store_ = std::move(opened).value();
  auto broker = broker_settings(config.amqp, config.intake.max_message_bytes);
  if (!broker) return make_error("bad amqp.url: " + broker.error().message);

  auto* self = out.get();
  BrokerLink::Handlers handlers;
  handlers.on_delivery = [self](amqp::Delivery delivery) {
    self->processor_->on_delivery(std::move(delivery));
  };
  handlers.on_connected = [self] { self->relay_->rescan(); };
  handlers.on_disconnected = [self](const std::string&) { self->processor_->on_disconnected(); };
  out->link_ = std::make_unique<BrokerLink>(io, std::move(broker).value(), handlers);
  out->relay_ = std::make_unique<OutboxRelay>(
      io, *out->store_, *out->link_, clock,
      RelaySettings{static_cast<std::size_t>(config.processing.max_in_flight),
                    config.processing.outbox_scan_interval, std::chrono::milliseconds{1000}},
      [self](const store::OutboxMessage& row) { self->processor_->on_sent(row); });
  out->workflow_ = workflow_for(setup, config.amqp);
  out->workers_ =
      std::make_unique<Workers>(io, static_cast<std::size_t>(config.processing.workers));
  out->processor_ = std::make_unique<Processor>(
      io, *out->workers_, setup.intake, *out->workflow_, *out->store_, *out->relay_, *out->link_,
      clock, config.amqp,
      RetrySettings{config.processing.retry_initial_delay, config.processing.retry_max_delay,
                    config.processing.max_attempts});
  out->timers_ = std::make_unique<TimerRunner>(io, *out->workers_, *out->workflow_, *out->store_,
                                               *out->relay_, clock, TimerSettings{});
  out->processor_->on_timers_changed([self] { self->timers_->reschedule(); });
  if (config.evidence.keep_rejected)
    out->processor_->keep_rejected_evidence(setup.config.intake.max_message_bytes);
  out->metrics_ = std::make_unique<ops::Metrics>();
  out->metrics_->sla_steps(steps_of(config.deadlines));
  out->processor_->set_metrics(out->metrics_.get());
  out->timers_->set_metrics(out->metrics_.get());
  return out;
}

void Components::start() {
  link_->start();
  relay_->start();
  timers_->start();
}

void Components::stop_workers() {
  workers_->stop();
}

void Components::reload(const configuration::Setup& fresh, const amqp::Names& running_names) {
  auto workflow = workflow_for(fresh, running_names);
  processor_->replace(fresh.intake, *workflow);
  timers_->replace(*workflow);
  // The old workflow goes before the calendar it refers to.
  workflow_ = std::move(workflow);
  // The CRLs are fetched for the new anchors (from the cache first).
  trust_->stop();
  trust_ = std::make_unique<TrustKeeper>(fresh, clock_);
  trust_->start();
  trust_->warn_expiring(clock_.now());
  metrics_->sla_steps(steps_of(fresh.config.deadlines));
}

}  // namespace nqs::daemon
