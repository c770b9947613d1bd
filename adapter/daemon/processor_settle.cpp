#include <fmt/format.h>

#include "amqp/properties_json.hpp"
#include "common/ids.hpp"
#include "daemon/processor.hpp"
#include "log/logging.hpp"

// What follows a commit: the confirms awaited and the delivery acknowledged, a duplicate or a
// reused messageId settled; a failure retried, decided again or given up; the dead letters.
namespace nqs::daemon {
namespace {

constexpr std::size_t kMaxDetailBytes = 2048;

// A detail cut at a character boundary.
std::string shortened(const std::string& detail) {
  std::size_t end = kMaxDetailBytes;
  while (end > 0 && (static_cast<unsigned char>(detail[end]) & 0xC0) == 0x80)
    --end;
  return detail.substr(0, end) + "...";
}

std::int64_t latency_ms(const amqp::Delivery& delivery) {
  if (delivery.received == std::chrono::steady_clock::time_point{}) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               delivery.received)
      .count();
}

// Every input's one line, whatever became of it, with the same fields: what came in (messageId,
// correlationId, documentType), what became of it (outcome, reason, detail) and how long it took.
void log_input(spdlog::level::level_enum level, std::string_view message,
               const amqp::Delivery& delivery, const std::string& message_id,
               const store::InboxEntry& entry, std::string_view outcome, log::Fields extra = {}) {
  log::Fields fields{{"messageId", message_id},
                     {"correlationId", delivery.properties.correlation_id},
                     {"documentType", entry.document_type},
                     {"outcome", outcome},
                     {"reason", entry.reason},
                     {"detail", entry.detail},
                     {"latencyMs", latency_ms(delivery)}};
  for (auto& [key, value] : extra)
    fields[key] = std::move(value);
  log::write(level, message, fields);
}

}  // namespace

std::vector<store::OutboxMessage> Processor::dead_letter(const amqp::Delivery& delivery,
                                                         const std::string& key, Reason reason,
                                                         const std::string& detail,
                                                         const std::string& document_type) const {
  const auto now = clock_.now();
  // The original message as it came, its properties and headers kept, with the reason added. Its
  // message_id is the rejection's key, so that any copy of it is recognisably the same dead
  // letter; the id it came with is kept in x-nqs-message-id (a replay gives it back).
  amqp::Properties properties = delivery.properties;
  properties.persistent = true;
  // The quorum queue's count of this delivery is the broker's to write, not the sender's.
  properties.headers.erase("x-delivery-count");
  if (!delivery.properties.message_id.empty()) {
    properties.headers["x-nqs-message-id"] = delivery.properties.message_id;
  }
  properties.message_id = key;
  // Two properties would not survive the dead-letter queue as they are: an expiration would
  // expire the dead letter, and the broker takes a user_id only from the user who publishes. They
  // travel as headers (a replay gives the expiration back).
  if (!properties.expiration.empty()) {
    properties.headers["x-nqs-expiration"] = std::exchange(properties.expiration, {});
  }
  if (!properties.user_id.empty()) {
    properties.headers["x-nqs-user-id"] = std::exchange(properties.user_id, {});
  }
  properties.headers["x-nqs-reason"] = code(reason);
  // Bounded, so that the dead letter fits a frame whatever the detail quotes.
  properties.headers["x-nqs-detail"] =
      detail.size() <= kMaxDetailBytes ? detail : shortened(detail);
  properties.headers["x-nqs-failed-at"] = to_utc_string(now);
  properties.headers["x-nqs-queue"] = delivery.queue;
  if (!document_type.empty()) properties.headers["x-nqs-document-type"] = document_type;
  store::OutboxMessage row;
  row.key = "dead-letter:" + key;
  row.exchange = names_.dead_letters;
  row.routing_key = delivery.queue;  // the DLX routes each source queue to its DLQ
  row.properties_json = amqp::properties_to_json(properties);
  row.body = delivery.body;
  row.created_at = now;
  return {std::move(row)};
}

void Processor::await(const std::string& key, amqp::Delivery delivery,
                      std::vector<store::OutboxMessage> rows) {
  auto found = awaiting_.find(key);
  if (rows.empty() && found == awaiting_.end()) {
    finish(delivery);
    return;
  }
  auto& awaiting = awaiting_[key];
  awaiting.deliveries.push_back(std::move(delivery));
  for (const auto& row : rows)
    awaiting.unconfirmed.insert(row.id);
  relay_.submit(std::move(rows));
}

void Processor::settle(Prepared prepared, store::Recorded recorded) {
  const auto& entry = prepared.input.entry;
  auto& delivery = prepared.work.delivery;
  auto fail = [&](const Error& error) { failed(std::move(prepared.work), error); };
  if (recorded.duplicate) {
    auto existing = store_.find_input(entry.key);
    if (!existing) return fail(existing.error());
    if (existing.value() && existing.value()->body_sha256 != entry.body_sha256) {
      // The same messageId with other content: not a duplicate. Keep it, as a dead letter.
      ++counters_.conflicts;
      store::InboxEntry conflict = entry;
      view_.clear();
      auto conflict_key =
          free_key(fmt::format("{}:conflict:{}:", source_of(delivery), entry.body_sha256));
      if (!conflict_key) return fail(conflict_key.error());
      conflict.key = std::move(conflict_key).value();
      conflict.outcome = store::InputOutcome::rejected;
      conflict.reason = code(Reason::domain_inconsistent);
      conflict.detail = fmt::format(
          "messageId {} was already used by another message (sha256 {}); this one (sha256 {}) "
          "was not processed",
          prepared.message_id, existing.value()->body_sha256, entry.body_sha256);
      auto kept = store_.record_input(
          conflict, dead_letter(delivery, conflict.key, Reason::domain_inconsistent,
                                conflict.detail, conflict.document_type));
      if (!kept) return fail(kept.error());
      log_input(spdlog::level::warn, "messageId reused with other content: dead-lettered", delivery,
                prepared.message_id, conflict, store::outcome_name(conflict.outcome),
                {{"sha256", entry.body_sha256}});
      auto rows = kept.value().duplicate ? std::vector<store::OutboxMessage>{}
                                         : std::move(kept).value().outbox;
      return await(conflict.key, std::move(delivery), std::move(rows));
    }
    ++counters_.duplicates;
    if (metrics_ != nullptr) metrics_->duplicate(delivery.queue);
    log_input(spdlog::level::info, "duplicate input", delivery, prepared.message_id, entry,
              "duplicate", {{"key", entry.key}});
    // The first delivery's messages may still be unconfirmed (it died before they were):
    // this one is acknowledged only once they are.
    auto unsent = store_.pending_outbox_of(entry.key);
    if (!unsent) return fail(unsent.error());
    return await(entry.key, std::move(delivery), std::move(unsent).value());
  }

  if (metrics_ != nullptr) {
    metrics_->input(delivery.queue, entry.document_type,
                    std::string(store::outcome_name(entry.outcome)), entry.reason);
  }
  if (entry.outcome == store::InputOutcome::processed) {
    ++counters_.processed;
  } else {
    ++counters_.rejected;
  }
  if (entry.outcome == store::InputOutcome::processed) {
    log_input(spdlog::level::info, "input processed", delivery, prepared.message_id, entry,
              store::outcome_name(entry.outcome),
              {{"subject", prepared.subject}, {"stage", prepared.stage}});
    if (!prepared.late.empty()) {
      log::warn("deadline met late (after its breach was reported)",
                {{"subject", prepared.subject}, {"steps", entry.detail}});
    }
  } else {
    log_input(spdlog::level::info, "input rejected", delivery, prepared.message_id, entry,
              store::outcome_name(entry.outcome));
  }
  await(entry.key, std::move(delivery), std::move(recorded.outbox));
}

void Processor::refuse_unread(const amqp::Delivery& delivery) {
  // Its bytes were never held (amqp::Connection reads a queue's deliveries up to its limit), so
  // the adapter cannot carry them in a dead letter of its own: the broker dead-letters the message
  // as it has it to the queue's .dlq (at-least-once), where x-death says `rejected`. Nothing was
  // decided, so nothing is recorded; the log line and the metrics give the reason.
  store::InboxEntry entry;
  entry.reason =
      code(delivery.queue == names_.ais_events ? Reason::json_invalid : Reason::xml_too_large);
  entry.detail = fmt::format(
      "the body is {} bytes, over the queue's limit: not read, and "
      "dead-lettered by the broker",
      delivery.unread_body_bytes);
  ++counters_.rejected;
  if (metrics_ != nullptr) metrics_->input(delivery.queue, "", "rejected", entry.reason);
  log_input(spdlog::level::warn, "input too large to be read", delivery,
            delivery.properties.message_id, entry, "rejected",
            {{"bytes", delivery.unread_body_bytes}});
  if (!link_.reject(delivery)) {
    log::info("the delivery's connection is gone; the broker redelivers it");
  }
}

void Processor::failed(Work work, const Error& error) {
  auto& retry = work.retry;
  if (retry.since == std::chrono::steady_clock::time_point{}) {
    retry.since = std::chrono::steady_clock::now();
  }
  const bool last_attempt = retry.attempt + 1 >= retry_.max_attempts;
  switch (error.kind) {
    case Failure::permanent:
      return give_up(std::move(work), error);
    case Failure::conflict:
      // Normal traffic: another input (or instance) changed what this one was decided on.
      if (last_attempt) return give_up(std::move(work), error);
      ++counters_.decided_again;
      if (metrics_ != nullptr) metrics_->decided_again();
      log::debug("a commit lost to another writer; decided again",
                 {{"error", error.message}, {"attempt", retry.attempt + 1}});
      ++retry.attempt;
      return enqueue(std::move(work), true);
    case Failure::transient:
      // Failing alone while other inputs commit: it is this input, not the store.
      if (last_attempt && last_commit_ > retry.since) return give_up(std::move(work), error);
      return retry_later(std::move(work), error);
  }
}

void Processor::retry_later(Work work, const Error& error) {
  ++counters_.transient_failures;
  const auto delay = backoff(work.retry, retry_.initial);
  log::warn(
      "transient failure; the input is held and retried",
      {{"error", error.message}, {"attempt", work.retry.attempt + 1}, {"delayMs", delay.count()}});
  hold(std::move(work), delay, [this](Work held) { enqueue(std::move(held), true); });
}

void Processor::give_up(Work work, const Error& error) {
  const auto& delivery = work.delivery;
  const auto& retry = work.retry;
  if (delivery.generation != link_.generation()) return;  // redelivered with its connection
  store::InboxEntry entry;
  entry.source = delivery.queue;
  entry.body_sha256 = sha256_hex(delivery.body);
  entry.received_at = clock_.now();
  entry.outcome = store::InputOutcome::rejected;
  entry.reason = code(Reason::processing_failed);
  entry.detail = fmt::format("{} after {} attempt{}: {}",
                             error.kind == Failure::permanent ? "failed" : "kept failing",
                             retry.attempt + 1, retry.attempt == 0 ? "" : "s", error.message);
  view_.clear();
  auto key = free_key(fmt::format("{}:failed:{}:", source_of(delivery), entry.body_sha256));
  view_.clear();
  if (!key) return retry_later(std::move(work), key.error());
  entry.key = std::move(key).value();
  auto kept = store_.record_input(
      entry, dead_letter(delivery, entry.key, Reason::processing_failed, entry.detail, ""));
  // The dead letter itself cannot be kept: hold the input as the store's trouble.
  if (!kept) return retry_later(std::move(work), kept.error());
  ++counters_.failed;
  if (metrics_ != nullptr)
    metrics_->input(delivery.queue, "", std::string(store::outcome_name(entry.outcome)),
                    entry.reason);
  log_input(spdlog::level::err, "input given up and dead-lettered", delivery,
            delivery.properties.message_id, entry, store::outcome_name(entry.outcome));
  auto rows =
      kept.value().duplicate ? std::vector<store::OutboxMessage>{} : std::move(kept).value().outbox;
  await(entry.key, std::move(work.delivery), std::move(rows));
}

void Processor::on_sent(const store::OutboxMessage& row) {
  auto it = awaiting_.find(row.input_key);
  if (it == awaiting_.end()) return;  // sent after a restart, or its deliveries already settled
  it->second.unconfirmed.erase(row.id);
  if (!it->second.unconfirmed.empty()) return;
  for (const auto& delivery : it->second.deliveries)
    finish(delivery);
  awaiting_.erase(it);
}

void Processor::finish(const amqp::Delivery& delivery) {
  if (metrics_ != nullptr && delivery.received != std::chrono::steady_clock::time_point{}) {
    metrics_->end_to_end_seconds(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - delivery.received)
            .count());
  }
  // Committed and confirmed: now, and only now, the input is acknowledged.
  if (!link_.ack(delivery)) {
    log::info("the delivery's connection is gone; the broker redelivers it as a duplicate");
  }
}

void Processor::on_disconnected() {
  // Unacknowledged deliveries go back to the queue with the connection; their committed effects
  // stay in the store and their redelivery is recognised as a duplicate.
  awaiting_.clear();
}

}  // namespace nqs::daemon
