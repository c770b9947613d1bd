#include "daemon/daemon.hpp"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>

#include "common/redact.hpp"
#include "daemon/broker_link.hpp"
#include "daemon/outbox_relay.hpp"
#include "daemon/processor.hpp"
#include "daemon/timer_runner.hpp"
#include "daemon/trust_keeper.hpp"
#include "daemon/workers.hpp"
#include "intake/intake.hpp"
#include "log/logging.hpp"
#include "ops/http_server.hpp"
#include "ops/metrics.hpp"
#include "store/sql_store.hpp"
#include "store/store.hpp"
#include "version.hpp"
#include "workflow/workflow.hpp"

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

namespace {

// The workflow of a loaded configuration, publishing to the exchanges named in `names`.
std::unique_ptr<workflow::Workflow> workflow_for(const configuration::Setup& loaded,
                                                 const amqp::Names& names) {
  return std::make_unique<workflow::Workflow>(*loaded.calendar, loaded.config.domain.mci,
                                              loaded.notifications, names, loaded.config.deadlines,
                                              loaded.config.domain.policy);
}

}  // namespace

Daemon::Daemon(configuration::Setup setup)
    : setup_(std::move(setup)),
      clock_(setup_.config.clock.offset),
      signals_(io_, SIGINT, SIGTERM),
      reload_signal_(io_, SIGHUP),
      stop_timer_(io_),
      clock_control_timer_(io_) {}

Daemon::~Daemon() = default;

void Daemon::request_stop() {
  boost::asio::post(io_, [this] { begin_stop("requested"); });
}

void Daemon::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal_number) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      log::error("waiting for signals failed", {{"error", ec.message()}});
      return;
    }
    if (stopping_) {
      log::warn("second signal: stopping now", {{"signal", signal_number}});
      io_.stop();
      return;
    }
    begin_stop(signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
    wait_for_signal();
  });
}

void Daemon::begin_stop(const std::string& why) {
  if (stopping_) return;
  stopping_ = true;
  stop_deadline_ = std::chrono::steady_clock::now() + setup_.config.processing.grace_period;
  log::info("stopping",
            {{"signal", why}, {"gracePeriodMs", setup_.config.processing.grace_period.count()}});
  if (link_) link_->stop_consuming();
  check_stopped();
}

void Daemon::check_stopped() {
  const bool drained = !processor_ || (processor_->in_progress() == 0 && relay_->idle());
  const bool out_of_time = std::chrono::steady_clock::now() >= stop_deadline_;
  if (drained || out_of_time) {
    if (!drained) {
      log::warn("grace period over: stopping with work in flight (safe in the store and queues)",
                {{"inProgress", processor_->in_progress()}});
    }
    if (timers_) timers_->stop();
    if (trust_) trust_->stop();
    expiry_timer_.cancel();
    if (http_) http_->stop();
    poll_timer_.cancel();
    clock_control_timer_.cancel();
    if (relay_) relay_->stop();
    if (link_) link_->stop();
    signals_.cancel();
    reload_signal_.cancel();
    io_.stop();
    return;
  }
  stop_timer_.expires_after(std::chrono::milliseconds{50});
  stop_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) check_stopped();
  });
}

void Daemon::warn_if_calendar_runs_out() const {
  // Deadlines are computed up to a few weeks ahead; a calendar that ends sooner would make them
  // fail, so say it while there is time to add the next year's file.
  const auto& calendar = *setup_.calendar;
  const auto today = calendar.local_date(clock_.now());
  if (!calendar.covers(today) || !calendar.covers(today + date::days{30})) {
    log::warn("the working-day calendar does not cover the next 30 days",
              {{"today", calendar::to_string(today)}, {"covered", calendar.coverage()}});
  }
}

void Daemon::warn_expiring() {
  if (stopping_) return;
  trust_->warn_expiring(clock_.now());
  expiry_timer_.expires_after(std::chrono::hours{24});
  expiry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) warn_expiring();
  });
}

void Daemon::watch_clock_control() {
  const auto& file = setup_.config.clock.control_file;
  if (file.empty() || stopping_) return;
  auto extra = configuration::read_clock_control(file);
  if (!extra) {
    if (extra.error().message != clock_control_problem_) {
      clock_control_problem_ = extra.error().message;
      log::warn("clock.control_file is ignored", {{"error", clock_control_problem_}});
    }
  } else if (setup_.config.clock.offset + extra.value() != clock_.offset()) {
    clock_.set_offset(setup_.config.clock.offset + extra.value());
    log::warn("the clock was moved by its control file",
              {{"offsetMs", clock_.offset().count()}, {"now", to_utc_string(clock_.now())}});
    if (timers_) timers_->reschedule();
  }
  clock_control_timer_.expires_after(std::chrono::milliseconds{200});
  clock_control_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) watch_clock_control();
  });
}

void Daemon::wait_for_reload() {
  reload_signal_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    reload();
    wait_for_reload();
  });
}

void Daemon::reload() {
  // Runs on the event loop between batches: no input is half-processed with two sets.
  const auto& file = setup_.config.source;
  log::info("SIGHUP: reloading trust, calendars, mappings and deadlines",
            {{"config", file.string()}});
  yaml::Diagnostics diagnostics;
  auto fresh = configuration::load_setup(file, diagnostics);
  if (!fresh || !diagnostics.empty()) {
    for (const auto& problem : diagnostics.problems())
      log::error("reload refused: the current set stays", {{"problem", problem}});
    if (diagnostics.empty()) log::error("reload refused: the current set stays");
    return;
  }
  const auto& old = setup_.config;
  const auto& next = fresh->config;
  if (next.amqp.urls != old.amqp.urls || next.store.url != old.store.url ||
      next.ops.listen != old.ops.listen || next.amqp.gov_in != old.amqp.gov_in ||
      next.amqp.ais_events != old.amqp.ais_events) {
    log::warn("the broker, store and listen settings take effect only after a restart");
  }
  // The exchanges are those of the running connection (broker settings need a restart).
  auto workflow = workflow_for(*fresh, old.amqp);
  processor_->replace(fresh->intake, *workflow);
  timers_->replace(*workflow);
  // The old workflow goes before the calendar it refers to.
  workflow_ = std::move(workflow);
  // The CRLs are fetched for the new anchors (from the cache first).
  trust_->stop();
  trust_ = std::make_unique<TrustKeeper>(*fresh, clock_);
  trust_->start();
  trust_->warn_expiring(clock_.now());
  setup_.calendar = fresh->calendar;
  setup_.intake = fresh->intake;
  setup_.notifications = fresh->notifications;
  setup_.config.deadlines = next.deadlines;
  setup_.config.domain = next.domain;
  setup_.config.trust = next.trust;
  setup_.config.intake = next.intake;
  setup_.config.calendar = next.calendar;
  setup_.config.outbound = next.outbound;
  log::info("reloaded", {{"calendar", setup_.calendar->coverage()},
                         {"mappings", setup_.intake->mappings().size()},
                         {"anchors", setup_.intake->trust()->anchor_count()},
                         {"crls", setup_.intake->trust()->crl_count()},
                         {"deadlines", setup_.config.deadlines.rules.size()}});
  warn_if_calendar_runs_out();
}

void Daemon::start_ops() {
  const auto& config = setup_.config;
  for (const auto& watched : watched_queues(config.amqp)) {
    polled_.push_back({watched.name, watched.role, -1, 0});
  }
  if (!config.ops.listen.empty()) {
    http_ = std::make_unique<ops::HttpServer>(
        io_, [this](const std::string& path) { return answer(path); });
    auto bound = http_->listen(config.ops.listen);
    if (!bound) {
      log::error("the operations endpoints cannot listen; running without them",
                 {{"error", bound.error().message}});
      http_.reset();
    } else {
      log::info("operations endpoints listening",
                {{"address",
                  fmt::format("{}:{}", bound.value().address().to_string(), bound.value().port())},
                 {"paths", "/healthz /readyz /metrics"}});
    }
  }
  poll_queues();
}

void Daemon::poll_queues() {
  if (stopping_) return;
  for (auto& polled : polled_) {
    auto state = link_->inspect(polled.queue);
    if (!state) {
      polled.messages = -1;
      continue;
    }
    const auto messages = static_cast<std::int64_t>(state.value().messages);
    const auto consumers = static_cast<std::int64_t>(state.value().consumers);
    // What an operator must see, said once when it appears.
    if (polled.role == QueueRole::input && messages > 0 && consumers == 0 &&
        !(polled.messages > 0 && polled.consumers == 0)) {
      log::warn("messages are waiting with no consumer",
                {{"queue", polled.queue}, {"ready", messages}});
    }
    if (polled.role == QueueRole::dead_letters && polled.messages >= 0 &&
        messages > polled.messages) {
      log::warn("the dead-letter queue grows",
                {{"queue", polled.queue}, {"before", polled.messages}, {"now", messages}});
    }
    polled.messages = messages;
    polled.consumers = consumers;
  }
  poll_timer_.expires_after(setup_.config.ops.queue_poll_interval);
  poll_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) poll_queues();
  });
}

ops::HttpResponse Daemon::readiness(const Result<store::Store::OutboxStats>& outbox) {
  const auto& config = setup_.config;
  const auto now = clock_.now();
  boost::json::object checks;
  bool ready = true;
  auto check = [&](const char* name, bool ok, std::string detail) {
    boost::json::object item;
    item["ok"] = ok;
    item["detail"] = std::move(detail);
    checks[name] = std::move(item);
    ready = ready && ok;
  };
  std::string unreachable;
  for (const auto& [node, error] : link_->nodes()) {
    if (!error.empty())
      unreachable += fmt::format("; {} unreachable at the last attempt: {}", node, error);
  }
  check("broker", link_->consuming(),
        (link_->consuming()
             ? fmt::format("connected to {} ({}), consuming {} and {}", link_->node(),
                           link_->server(), config.amqp.gov_in, config.amqp.ais_events)
             : (link_->connected()
                    ? fmt::format("connected to {}, not consuming (stopping)", link_->node())
                    : std::string("not connected to the broker"))) +
            unreachable);
  auto writable = store_->ping();
  check("store", writable.has_value(),
        writable ? "writable: " + writable.value() : writable.error().message);
  const auto revocation = trust_->revocation(now);
  check("trust", revocation.ok, revocation.detail);
  const auto expiry = trust_->expiry(now);
  check("certificates", expiry.ok, expiry.detail);
  const auto today = setup_.calendar->local_date(now);
  const bool covered =
      setup_.calendar->covers(today) && setup_.calendar->covers(today + date::days{30});
  check("calendar", covered,
        fmt::format("{} covers {}..{}: {}", setup_.calendar->coverage(), calendar::to_string(today),
                    calendar::to_string(today + date::days{30}),
                    covered ? "yes" : "no: add the next year's file"));
  if (!outbox) {
    check("outbox", false, outbox.error().message);
  } else {
    const auto age = outbox.value().oldest ? now - *outbox.value().oldest : Instant::duration{0};
    const bool moving = age < config.ops.outbox_stuck_after;
    check(
        "outbox", moving,
        fmt::format(
            "{} unconfirmed, the oldest {} s old (limit {} s); {} set aside as never "
            "publishable (nqs-adapter queues)",
            outbox.value().pending, std::chrono::duration_cast<std::chrono::seconds>(age).count(),
            std::chrono::duration_cast<std::chrono::seconds>(config.ops.outbox_stuck_after).count(),
            outbox.value().parked));
  }
  boost::json::object body;
  body["ready"] = ready;
  body["checks"] = std::move(checks);
  return {ready ? 200 : 503, "application/json", boost::json::serialize(body) + "\n"};
}

ops::HttpResponse Daemon::answer(const std::string& path) {
  if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
  if (path == "/readyz") return readiness(store_->outbox_stats());
  if (path == "/metrics") {
    ops::Gauges gauges;
    const auto now = clock_.now();
    // One read of the outbox serves the gauges and the readiness they include.
    const auto outbox = store_->outbox_stats();
    if (outbox) {
      gauges.outbox_pending = outbox.value().pending;
      gauges.outbox_parked = outbox.value().parked;
      if (outbox.value().oldest) {
        gauges.outbox_oldest_age_seconds =
            std::chrono::duration<double>(now - *outbox.value().oldest).count();
      }
    }
    if (auto timers = store_->timer_stats(now)) {
      gauges.timers_pending = timers.value().pending;
      gauges.timers_overdue = timers.value().overdue;
    }
    gauges.reconnects = link_->reconnects();
    gauges.confirm_failures = relay_->confirm_failures();
    gauges.intake_in_progress = processor_->in_intake();
    gauges.broker_connected = link_->connected();
    gauges.failovers = link_->failovers();
    for (const auto& [node, error] : link_->nodes())
      gauges.broker_nodes.emplace_back(node, node == link_->node());
    gauges.ready = readiness(outbox).status == 200;
    for (const auto& polled : polled_) {
      gauges.queues.push_back(
          {polled.queue, polled.messages, polled.consumers, polled.messages >= 0});
    }
    auto families = metrics_->collect(gauges);
    for (auto& family : trust_->metrics(now))
      families.push_back(std::move(family));
    return {200, "text/plain; version=0.0.4; charset=utf-8", ops::exposition(families)};
  }
  return {404, "text/plain; charset=utf-8", "not found: /healthz, /readyz, /metrics\n"};
}

int Daemon::run() {
  const auto& config = setup_.config;
  log::info("nqs-adapter started", {{"version", kVersion},
                                    {"config", config.source.string()},
                                    {"calendar", setup_.calendar->coverage()},
                                    {"time_zone", config.calendar.time_zone},
                                    {"store", redact_password(config.store.url)}});
  if (clock_.offset().count() != 0 || !config.clock.control_file.empty()) {
    log::warn("the clock is shifted (tests and rehearsals only)",
              {{"offsetMs", clock_.offset().count()},
               {"controlFile", config.clock.control_file.string()},
               {"now", to_utc_string(clock_.now())}});
  }
  warn_if_calendar_runs_out();
  trust_ = std::make_unique<TrustKeeper>(setup_, clock_);

  auto opened = store::open_store(
      config.store.url, store::SqliteSettings{config.store.sqlite_path, config.store.busy_timeout},
      configuration::postgres_settings(config.store, [](const std::string& notice) {
        log::warn("PostgreSQL", {{"notice", notice}});
      }));
  if (!opened) {
    log::error("the store cannot be opened", {{"error", opened.error().message}});
    return 1;
  }
  store_ = std::move(opened).value();

  auto nodes = configuration::broker_nodes(config.amqp);
  if (!nodes) {
    log::error("bad amqp.url", {{"error", nodes.error().message}});
    return 1;
  }
  BrokerSettings broker;
  broker.nodes = std::move(nodes).value();
  broker.topology = topology_of(config.amqp);
  broker.consume = {config.amqp.gov_in, config.amqp.ais_events};
  broker.reconnect_initial = config.amqp.reconnect_initial_delay;
  broker.reconnect_max = config.amqp.reconnect_max_delay;

  BrokerLink::Handlers handlers;
  handlers.on_delivery = [this](amqp::Delivery delivery) {
    processor_->on_delivery(std::move(delivery));
  };
  handlers.on_connected = [this] { relay_->rescan(); };
  handlers.on_disconnected = [this](const std::string&) { processor_->on_disconnected(); };
  link_ = std::make_unique<BrokerLink>(io_, broker, handlers);
  relay_ = std::make_unique<OutboxRelay>(
      io_, *store_, *link_, clock_,
      RelaySettings{static_cast<std::size_t>(config.processing.max_in_flight),
                    config.processing.outbox_scan_interval, std::chrono::milliseconds{1000}},
      [this](const store::OutboxMessage& row) { processor_->on_sent(row); });
  workflow_ = workflow_for(setup_, config.amqp);
  workers_ = std::make_unique<Workers>(io_, static_cast<std::size_t>(config.processing.workers));
  processor_ = std::make_unique<Processor>(
      io_, *workers_, setup_.intake, *workflow_, *store_, *relay_, *link_, clock_, config.amqp,
      RetrySettings{config.processing.retry_initial_delay, config.processing.retry_max_delay,
                    config.processing.max_attempts});
  timers_ = std::make_unique<TimerRunner>(io_, *workers_, *workflow_, *store_, *relay_, clock_,
                                          TimerSettings{});
  processor_->on_timers_changed([this] { timers_->reschedule(); });
  metrics_ = std::make_unique<ops::Metrics>();
  processor_->set_metrics(metrics_.get());
  timers_->set_metrics(metrics_.get());

  wait_for_signal();
  wait_for_reload();
  boost::asio::post(io_, [this] {
    link_->start();
    relay_->start();
    timers_->start();
    watch_clock_control();
    trust_->start();
    warn_expiring();
    start_ops();
  });
  io_.run();
  // What the workers are doing ends here; results they hand back are dropped with the loop (the
  // broker redelivers every input not acknowledged).
  workers_->stop();
  const auto& counters = processor_->counters();
  log::info("nqs-adapter stopped", {{"processed", counters.processed},
                                    {"rejected", counters.rejected},
                                    {"duplicates", counters.duplicates}});
  return 0;
}

}  // namespace nqs::daemon
