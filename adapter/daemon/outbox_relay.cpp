#include "daemon/outbox_relay.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "amqp/properties_json.hpp"
#include "log/logging.hpp"

namespace nqs::daemon {

OutboxRelay::OutboxRelay(boost::asio::io_context& io, store::InputLog& store,
                         ConfirmedPublisher& link, const Clock& clock, RelaySettings settings,
                         Sent on_sent)
    : io_(io),
      store_(store),
      link_(link),
      clock_(clock),
      settings_(settings),
      on_sent_(std::move(on_sent)),
      scan_timer_(io) {}

void OutboxRelay::start() {
  stopped_ = false;
  rescan();
  schedule_scan();
}

void OutboxRelay::stop() {
  stopped_ = true;
  scan_timer_.cancel();
}

void OutboxRelay::schedule_scan() {
  scan_timer_.expires_after(settings_.scan_interval);
  scan_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    rescan(false);
    schedule_scan();
  });
}

void OutboxRelay::submit(std::vector<store::OutboxMessage> rows) {
  for (auto& row : rows) {
    // Confirmed a moment ago and not yet marked sent: it is sent, say so instead of sending it
    // again (a duplicate input waiting for it is then acknowledged).
    if (std::find(confirmed_.begin(), confirmed_.end(), row.id) != confirmed_.end()) {
      boost::asio::post(io_, [this, row = std::move(row)] {
        if (on_sent_) on_sent_(row);
      });
      continue;
    }
    if (known_.insert(row.id).second) queue_.push_back(std::move(row));
  }
  pump();
}

void OutboxRelay::rescan(bool young_too) {
  if (!link_.connected()) return;
  auto pending = store_.pending_outbox(settings_.max_in_flight * 4);
  if (!pending) {
    log::warn("reading the outbox failed; retrying", {{"error", pending.error().message}});
    return;
  }
  if (!young_too) {
    // The periodic scan is for orphans (a publish lost with its connection or its process).
    // Rows younger than a scan interval are left to whoever is sending them now: with several
    // instances on one database, the instance that committed them.
    const auto young = clock_.now() - settings_.scan_interval;
    std::erase_if(pending.value(), [&](const store::OutboxMessage& row) {
      return row.created_at > young && !known_.contains(row.id);
    });
  }
  submit(std::move(pending).value());
}

void OutboxRelay::pump() {
  while (!stopped_ && !queue_.empty() && in_flight_ < settings_.max_in_flight &&
         link_.connected() && !link_.blocked() && !solo_) {
    // A suspect goes alone, once everything before it is settled, and nothing follows it until
    // it is: if the broker refuses it then, it was this one.
    const bool suspect = suspects_.contains(queue_.front().id);
    if (suspect && in_flight_ > 0) return;
    auto row = std::move(queue_.front());
    queue_.pop_front();
    if (suspect) solo_ = row.id;
    send(std::move(row));
  }
}

void OutboxRelay::mark_confirmed() {
  auto ids = std::move(confirmed_);
  confirmed_.clear();
  if (auto marked = store_.mark_sent(ids, clock_.now()); !marked) {
    // Confirmed but not marked: sent again by a later scan or after a restart, with the same
    // message_id, which consumers deduplicate.
    log::warn("marking outbox rows sent failed",
              {{"rows", ids.size()}, {"error", marked.error().message}});
  }
}

void OutboxRelay::park(const store::OutboxMessage& row, const std::string& why) {
  if (solo_ == row.id) solo_.reset();
  known_.erase(row.id);
  suspects_.erase(row.id);
  refusals_.erase(row.id);
  if (auto parked = store_.park_outbox(row.id, why, clock_.now()); !parked) {
    // Not recorded: left pending, tried again later (the store is in trouble, not the row).
    log::warn("setting an outbox row aside failed",
              {{"outboxId", row.id}, {"error", parked.error().message}});
    return;
  }
  ++parked_;
  log::error("an outbox message can never be published: set aside in the store",
             {{"outboxId", row.id},
              {"messageKey", row.key},
              {"exchange", row.exchange},
              {"routingKey", row.routing_key},
              {"error", why}});
  // Its input's effects are committed; what could not go out is kept for an operator.
  if (on_sent_) on_sent_(row);
}

void OutboxRelay::send(store::OutboxMessage row) {
  auto properties = amqp::properties_from_json(row.properties_json);
  if (!properties)
    return park(row, "its stored properties cannot be read: " + properties.error().message);
  amqp::Outgoing message{row.exchange, row.routing_key, std::move(properties).value(), row.body,
                         true};
  ++in_flight_;
  link_.publish(message, [this, row = std::move(row)](bool confirmed, const std::string& why,
                                                      bool over_a_message) {
    --in_flight_;
    const bool alone = solo_ == row.id;
    if (alone) solo_.reset();
    if (confirmed) {
      suspects_.erase(row.id);
      refusals_.erase(row.id);
      known_.erase(row.id);
      if (confirmed_.empty()) boost::asio::post(io_, [this] { mark_confirmed(); });
      confirmed_.push_back(row.id);
      if (on_sent_) on_sent_(row);
      boost::asio::post(io_, [this] { pump(); });
      return;
    }
    ++confirm_failures_;
    if (over_a_message) {
      suspects_.insert(row.id);
      if (alone && ++refusals_[row.id] >= kParkAfter) {
        park(row, fmt::format("the broker refused it {} times: {}", kParkAfter, why));
        boost::asio::post(io_, [this] { pump(); });
        return;
      }
    }
    log::warn("publishing was not confirmed; it will be retried", {{"outboxId", row.id},
                                                                   {"exchange", row.exchange},
                                                                   {"routingKey", row.routing_key},
                                                                   {"error", why}});
    // Retried after a pause: an unroutable message needs an operator, not a hot loop.
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, settings_.retry_delay);
    timer->async_wait([this, timer, row](const boost::system::error_code& ec) mutable {
      if (ec || stopped_) return;
      queue_.push_back(std::move(row));
      pump();
    });
    boost::asio::post(io_, [this] { pump(); });
  });
}

}  // namespace nqs::daemon
