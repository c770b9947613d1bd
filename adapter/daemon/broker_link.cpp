#include "daemon/broker_link.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <regex>

#include "log/logging.hpp"

namespace nqs::daemon {
namespace {

// Whether the broker closed the connection or the publishing channel over a message it refused:
// the close codes of a bad message (406 precondition failed, 501 frame error, 502 syntax error,
// 505 unexpected frame), as amqp::Connection reports a close. (A consuming channel's 406, an
// acknowledgement's timeout say, is no publish's fault.)
bool closed_over_a_message(const std::string& why) {
  static const std::regex kClose(
      R"(the broker closed (?:the publishing channel \d+|the connection): (406|501|502|505) )");
  return std::regex_search(why, kClose);
}

}  // namespace

BrokerLink::BrokerLink(boost::asio::io_context& io, BrokerSettings settings, Handlers handlers)
    : io_(io),
      settings_(std::move(settings)),
      handlers_(std::move(handlers)),
      reconnect_timer_(io),
      node_errors_(settings_.nodes.size()) {}

BrokerLink::~BrokerLink() {
  stop();
}

void BrokerLink::start() {
  stopped_ = false;
  start_round(std::nullopt);
  connect();
}

void BrokerLink::start_round(std::optional<std::size_t> last) {
  round_.clear();
  for (std::size_t i = 0; i < settings_.nodes.size(); ++i) {
    if (i != last) round_.push_back(i);
  }
  // Shuffled, so that the adapters of a deployment spread over the nodes.
  std::shuffle(round_.begin(), round_.end(), random_);
  if (last && *last < settings_.nodes.size()) round_.push_back(*last);
}

std::string BrokerLink::node() const {
  return connected() && current_ ? settings_.nodes[*current_].node() : std::string();
}

std::string BrokerLink::server() const {
  return connected() ? connection_->server() : std::string();
}

std::vector<std::pair<std::string, std::string>> BrokerLink::nodes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i < settings_.nodes.size(); ++i)
    out.emplace_back(settings_.nodes[i].node(), node_errors_[i]);
  return out;
}

void BrokerLink::stop() {
  stopped_ = true;
  reconnect_timer_.cancel();
  if (connection_) {
    connection_->close();
    connection_.reset();
  }
  fail_all_pending("the adapter is stopping", false);
}

void BrokerLink::stop_consuming() {
  consuming_ = false;
  if (!connected()) return;
  for (const auto& consumed : settings_.consume) {
    if (auto cancelled = connection_->cancel(consumed.queue); !cancelled) {
      log::warn("cancelling a consumer failed",
                {{"queue", consumed.queue}, {"error", cancelled.error().message}});
    }
  }
}

void BrokerLink::connect() {
  if (stopped_ || connected()) return;
  if (try_next_node()) return;
  if (round_.empty()) {
    // Every node failed in this round: the next one waits.
    start_round(current_);
    schedule_reconnect("no node of the broker could be reached");
    return;
  }
  // The next node on the loop's next turn: each attempt blocks for at most the connect and RPC
  // timeouts, and the timers, readiness and metrics run between them.
  boost::asio::post(io_, [this] { connect(); });
}

amqp::Connection::Handlers BrokerLink::connection_handlers() {
  amqp::Connection::Handlers handlers;
  handlers.on_delivery = [this](amqp::Delivery delivery) {
    if (handlers_.on_delivery) handlers_.on_delivery(std::move(delivery));
  };
  handlers.on_confirm = [this](std::uint64_t tag, bool multiple, bool acked) {
    on_confirm(tag, multiple, acked);
  };
  handlers.on_return = [this](const std::string& message_id, const std::string& reply) {
    for (auto& [tag, pending] : pending_) {
      if (pending.message_id == message_id && pending.returned.empty()) {
        pending.returned = reply;
        return;
      }
    }
  };
  handlers.on_consumer_cancelled = [this](const std::string& queue) {
    // The queue was deleted under the consumer: reconnect, which declares it again.
    boost::asio::post(io_, [this, queue, generation = generation_] {
      if (generation != generation_) return;  // that connection is already gone
      on_lost(fmt::format("the broker cancelled the consumer of {} (queue deleted?)", queue));
    });
  };
  handlers.on_blocked = [this](bool blocked, const std::string& reason) {
    blocked_ = blocked;
    if (blocked) {
      log::warn("the broker blocked publishing (resource alarm); outbox paused",
                {{"reason", reason}});
    } else {
      log::info("the broker unblocked publishing");
    }
  };
  handlers.on_lost = [this](const std::string& why) {
    boost::asio::post(io_, [this, why, generation = generation_] {
      if (generation == generation_) on_lost(why);
    });
  };
  return handlers;
}

bool BrokerLink::try_next_node() {
  if (stopped_) return true;
  if (round_.empty()) return false;
  const std::size_t index = round_.front();
  round_.erase(round_.begin());
  const auto& node = settings_.nodes[index];
  ++generation_;
  auto connection =
      std::make_shared<amqp::Connection>(io_, node, connection_handlers(), generation_);
  auto fail = [&](const std::string& what) {
    connection->close();
    node_errors_[index] = what;
    log::warn("broker node unavailable", {{"node", node.node()}, {"error", what}});
    return false;
  };
  if (auto opened = connection->open(); !opened) return fail(opened.error().message);
  if (const auto& server = connection->server();
      server.starts_with("RabbitMQ ") && !amqp::supported_rabbitmq_version(server.substr(9))) {
    return fail(
        fmt::format("{} is older than 3.10, which the adapter needs (at-least-once "
                    "dead-lettering of quorum queues)",
                    server));
  }
  if (auto declared = connection->declare(settings_.topology); !declared) {
    return fail(declared.error().message);
  }
  connection_ = connection;
  blocked_ = false;
  if (consuming_) {
    for (const auto& [queue, max_body] : settings_.consume) {
      if (auto consumed = connection_->consume(queue, max_body); !consumed) {
        connection_.reset();
        return fail(consumed.error().message);
      }
    }
  }
  connection_->start();
  attempt_ = 0;
  node_errors_[index].clear();
  if (current_ && *current_ != index) ++failovers_;
  current_ = index;
  connected_at_ = std::chrono::steady_clock::now();
  nack_streak_ = 0;
  log::info("connected to the broker", {{"node", node.node()},
                                        {"server", connection_->server()},
                                        {"tls", node.tls.enabled},
                                        {"generation", generation_}});
  if (handlers_.on_connected) handlers_.on_connected();
  return true;
}

void BrokerLink::schedule_reconnect(const std::string& why) {
  if (stopped_) return;
  // Exponential backoff with jitter: many adapters must not reconnect in step after an outage.
  const auto ceiling = std::min<std::int64_t>(
      settings_.reconnect_max.count(),
      settings_.reconnect_initial.count() * (std::int64_t{1} << std::min(attempt_, 20)));
  std::uniform_int_distribution<std::int64_t> jitter(ceiling / 2, ceiling);
  const std::chrono::milliseconds delay{jitter(random_)};
  ++attempt_;
  log::warn("broker unavailable; trying again after a delay",
            {{"error", why}, {"attempt", attempt_}, {"delayMs", delay.count()}});
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_ || connected()) return;
    ++reconnects_;
    connect();
  });
}

void BrokerLink::on_lost(const std::string& why) {
  // Once for a connection: a second report of the same loss finds it gone.
  if (stopped_ || !connection_) return;
  connection_->close();
  connection_.reset();
  fail_all_pending(fmt::format("connection lost before the confirm: {}", why),
                   closed_over_a_message(why));
  if (handlers_.on_disconnected) handlers_.on_disconnected(why);
  log::warn("lost the broker node",
            {{"node", current_ ? settings_.nodes[*current_].node() : ""}, {"error", why}});
  start_round(current_);
  // The other nodes at once; but a connection lost again within a second of the last quick
  // retry (a node that accepts and drops, a message it refuses each time) waits for the backoff,
  // so that nothing can spin the loop.
  if (std::chrono::steady_clock::now() - connected_at_ >= std::chrono::seconds{1}) {
    quick_retry_used_ = false;
  }
  if (quick_retry_used_) {
    schedule_reconnect(why);
    return;
  }
  quick_retry_used_ = true;
  reconnect_timer_.cancel();
  boost::asio::post(io_, [this] {
    if (stopped_ || connected()) return;
    ++reconnects_;
    connect();
  });
}

void BrokerLink::fail_all_pending(const std::string& why, bool over_a_message) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [tag, entry] : pending) {
    if (entry.done) entry.done(false, why, over_a_message);
  }
}

void BrokerLink::publish(const amqp::Outgoing& message, Completion done) {
  if (!connected()) {
    done(false, "not connected to the broker", false);
    return;
  }
  auto tag = connection_->publish(message);
  if (!tag) {
    done(false, tag.error().message, true);
    return;
  }
  pending_.emplace(tag.value(), Pending{message.properties.message_id, {}, std::move(done)});
}

void BrokerLink::on_confirm(std::uint64_t tag, bool multiple, bool acked) {
  // A node that refuses every publish for a while (seen on RabbitMQ 3.10 after a quorum queue's
  // leader was lost: the channel keeps nacking while other nodes' channels take the same
  // messages) is left for another node, as if it had failed.
  // Once until a publish is confirmed again: a queue that is full on every node (x-overflow
  // reject-publish) refuses on every node, and moving again would only requeue the inputs in
  // flight.
  if (acked) {
    nack_streak_ = 0;
    nack_failover_armed_ = true;
  } else {
    const auto now = std::chrono::steady_clock::now();
    if (nack_streak_++ == 0) nack_streak_since_ = now;
    if (nack_failover_armed_ && nack_streak_ >= kNackStreakLimit &&
        now - nack_streak_since_ >= kNackStreakTime) {
      nack_streak_ = 0;
      nack_failover_armed_ = false;
      boost::asio::post(io_, [this, generation = generation_] {
        if (generation != generation_ || !connected()) return;
        on_lost(
            fmt::format("the node refused every publish for {} s (basic.nack)",
                        std::chrono::duration_cast<std::chrono::seconds>(kNackStreakTime).count()));
      });
    }
  }
  auto resolve = [&](std::map<std::uint64_t, Pending>::iterator it) {
    Pending pending = std::move(it->second);
    pending_.erase(it);
    if (!pending.returned.empty()) {
      pending.done(false, fmt::format("unroutable: returned by the broker: {}", pending.returned),
                   false);
    } else if (!acked) {
      pending.done(false, "the broker refused the message (basic.nack)", false);
    } else {
      pending.done(true, "", false);
    }
  };
  if (!multiple) {
    if (auto it = pending_.find(tag); it != pending_.end()) resolve(it);
    return;
  }
  while (!pending_.empty() && pending_.begin()->first <= tag)
    resolve(pending_.begin());
}

bool BrokerLink::ack(const amqp::Delivery& delivery) {
  return settle(delivery, &amqp::Connection::ack, "acknowledging");
}

bool BrokerLink::reject(const amqp::Delivery& delivery) {
  return settle(delivery, &amqp::Connection::reject, "rejecting");
}

bool BrokerLink::settle(const amqp::Delivery& delivery,
                        Result<void> (amqp::Connection::*how)(const amqp::Delivery&),
                        std::string_view doing) {
  if (!connected() || delivery.generation != generation_) return false;
  if (auto settled = ((*connection_).*how)(delivery); !settled) {
    log::warn(fmt::format("{} a delivery failed", doing), {{"error", settled.error().message}});
    return false;
  }
  return true;
}

Result<amqp::QueueState> BrokerLink::inspect(const std::string& queue) {
  if (!connected()) return make_error("not connected to the broker");
  return connection_->inspect_queue(queue);
}

}  // namespace nqs::daemon
