// The daemon's operations side: /healthz, /readyz and /metrics on the Beast listener, and the
// queue poller whose depths they report.
#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "daemon/broker_link.hpp"
#include "daemon/daemon.hpp"
#include "daemon/outbox_relay.hpp"
#include "daemon/processor.hpp"
#include "daemon/trust_keeper.hpp"
#include "log/logging.hpp"
#include "ops/http_server.hpp"
#include "ops/metrics.hpp"

namespace nqs::daemon {

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
    auto state = parts_->link().inspect(polled.queue);
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
  for (const auto& [node, error] : parts_->link().nodes()) {
    if (!error.empty())
      unreachable += fmt::format("; {} unreachable at the last attempt: {}", node, error);
  }
  check(
      "broker", parts_->link().consuming(),
      (parts_->link().consuming()
           ? fmt::format("connected to {} ({}), consuming {} and {}", parts_->link().node(),
                         parts_->link().server(), config.amqp.gov_in, config.amqp.ais_events)
           : (parts_->link().connected()
                  ? fmt::format("connected to {}, not consuming (stopping)", parts_->link().node())
                  : std::string("not connected to the broker"))) +
          unreachable);
  auto writable = parts_->store().ping();
  check("store", writable.has_value(),
        writable ? "writable: " + writable.value() : writable.error().message);
  const auto revocation = parts_->trust().revocation(now);
  check("trust", revocation.ok, revocation.detail);
  const auto expiry = parts_->trust().expiry(now);
  check("certificates", expiry.ok, expiry.detail);
  // Today's year must have its calendar and MCI; the coming year's are said from 1 November
  // without failing (issue 19; a deadline past 31 December needs the next calendar, and the
  // decree moving its days off is often published in December).
  const auto years = year_coverage();
  check("calendar", years.ready(),
        fmt::format("{} (calendar {})", years.describe(), setup_.calendar->coverage()));
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
  if (path == "/readyz") return readiness(parts_->store().outbox_stats());
  if (path == "/metrics") {
    ops::Gauges gauges;
    const auto now = clock_.now();
    // One read of the outbox serves the gauges and the readiness they include.
    const auto outbox = parts_->store().outbox_stats();
    if (outbox) {
      gauges.outbox_pending = outbox.value().pending;
      gauges.outbox_parked = outbox.value().parked;
      if (outbox.value().oldest) {
        gauges.outbox_oldest_age_seconds =
            std::chrono::duration<double>(now - *outbox.value().oldest).count();
      }
    }
    if (auto timers = parts_->store().timer_stats(now)) {
      gauges.timers_pending = timers.value().pending;
      gauges.timers_overdue = timers.value().overdue;
    }
    gauges.reconnects = parts_->link().reconnects();
    gauges.confirm_failures = parts_->relay().confirm_failures();
    gauges.intake_in_progress = parts_->processor().in_intake();
    gauges.broker_connected = parts_->link().connected();
    gauges.failovers = parts_->link().failovers();
    for (const auto& [node, error] : parts_->link().nodes())
      gauges.broker_nodes.emplace_back(node, node == parts_->link().node());
    gauges.ready = readiness(outbox).status == 200;
    const auto years = year_coverage();
    gauges.next_year_missing = years.next_expected && !years.next_configured();
    for (const auto& polled : polled_) {
      gauges.queues.push_back(
          {polled.queue, polled.messages, polled.consumers, polled.messages >= 0});
    }
    auto families = parts_->metrics().collect(gauges);
    for (auto& family : parts_->trust().metrics(now))
      families.push_back(std::move(family));
    return {200, "text/plain; version=0.0.4; charset=utf-8", ops::exposition(families)};
  }
  return {404, "text/plain; charset=utf-8", "not found: /healthz, /readyz, /metrics\n"};
}

}  // namespace nqs::daemon
