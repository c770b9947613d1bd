#include "daemon/processor.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>

#include "amqp/properties_json.hpp"
#include "common/ids.hpp"
#include "intake/ais_event_parser.hpp"
#include "log/logging.hpp"

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

Processor::Processor(boost::asio::io_context& io, Workers& workers,
                     std::shared_ptr<const intake::Intake> intake,
                     const workflow::Workflow& workflow, store::Store& store,
                     OutboxPublisher& relay, DeliveryAcks& link, const Clock& clock,
                     amqp::Names names, RetrySettings retry)
    : io_(io),
      workers_(workers),
      intake_(std::move(intake)),
      workflow_(&workflow),
      view_(store),
      store_(store),
      relay_(relay),
      link_(link),
      clock_(clock),
      names_(std::move(names)),
      retry_(retry) {}

void Processor::committed() {
  last_commit_ = std::chrono::steady_clock::now();
  // A fault that cannot be produced on demand: die between the commit and the acknowledgement
  // (tests only: NQS_FAULT_EXIT_AFTER_COMMIT=1).
  static const bool exit_after_commit = [] {
    const char* fault = std::getenv("NQS_FAULT_EXIT_AFTER_COMMIT");
    return fault != nullptr && std::string_view(fault) == "1";
  }();
  if (exit_after_commit) std::_Exit(137);
}

void Processor::on_delivery(amqp::Delivery delivery) {
  // A document from the bus is read on a worker; an AIS event (strict JSON, bounded by its size)
  // and a message whose properties were refused are decided as they are.
  const bool document = delivery.queue != names_.ais_events && delivery.properties.problems.empty();
  if (document) return start_intake(Work{std::move(delivery), nullptr, {}});
  enqueue(Work{std::move(delivery), nullptr, {}}, false);
}

void Processor::start_intake(Work work) {
  ++in_intake_;
  struct Done {
    intake::IntakeOutcome outcome;
    double seconds = 0;
  };
  // The work and its bytes are the worker's until it is done; the pipeline it started with stays
  // alive with it, whatever a reload does meanwhile.
  auto shared = std::make_shared<Work>(std::move(work));
  workers_.run(
      [intake = intake_, shared, now = clock_.now()] {
        const auto started = std::chrono::steady_clock::now();
        auto outcome = intake->process(shared->delivery.body, now);
        return Done{
            std::move(outcome),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()};
      },
      [this, shared](Done done) {
        --in_intake_;
        if (metrics_ != nullptr) metrics_->intake_seconds(done.seconds);
        if (const auto* rejected = std::get_if<intake::Rejected>(&done.outcome);
            rejected != nullptr && rejected->rejection.status_pending &&
            shared->retry.attempt + 1 < retry_.max_attempts) {
          return hold_for_status(std::move(*shared), rejected->rejection.detail);
        }
        shared->intake = std::make_shared<const intake::IntakeOutcome>(std::move(done.outcome));
        enqueue(std::move(*shared), false);
      });
}

void Processor::hold_for_status(Work work, const std::string& why) {
  // 1 s, 2 s, 4 s...: a CRL fetch or an OCSP responder's blip, not a store's.
  const auto delay = backoff(work.retry, std::chrono::seconds{1});
  log::info("the signer's status cannot be had yet; the input is held and read again",
            {{"messageId", work.delivery.properties.message_id},
             {"detail", why},
             {"attempt", work.retry.attempt + 1},
             {"delayMs", delay.count()}});
  hold(std::move(work), delay, [this](Work held) {
    // Gone with its connection: the broker delivers it again.
    if (held.delivery.generation == link_.generation()) start_intake(std::move(held));
  });
}

std::chrono::milliseconds Processor::backoff(const Retry& retry,
                                             std::chrono::milliseconds first) const {
  return std::chrono::milliseconds{std::min<std::int64_t>(
      retry_.max.count(), first.count() * (std::int64_t{1} << std::min(retry.attempt, 20)))};
}

void Processor::hold(Work work, std::chrono::milliseconds delay, std::function<void(Work)> then) {
  ++retrying_;
  ++work.retry.attempt;
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay);
  timer->async_wait([this, timer, work = std::move(work),
                     then = std::move(then)](const boost::system::error_code& ec) mutable {
    --retrying_;
    if (!ec) then(std::move(work));
  });
}

void Processor::enqueue(Work work, bool alone) {
  ready_.push_back({std::move(work), alone});
  schedule_flush();
}

void Processor::schedule_flush() {
  // What is ready in one turn of the event loop is committed together (group commit): one disk
  // flush for all of it, with synchronous=FULL kept.
  if (flush_scheduled_ || ready_.empty()) return;
  flush_scheduled_ = true;
  boost::asio::post(io_, [this] { flush(); });
}

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
Result<std::string> Processor::free_key(const std::string& prefix, bool redelivered) {
  for (int n = 1;; ++n) {
    auto key = prefix + std::to_string(n);
    BOOST_OUTCOME_TRY(const bool taken, view_.key_taken(key));
    if (taken) continue;
    // A redelivery (the broker delivered it before and it was not acknowledged: the process died
    // between committing and acknowledging) is the attempt already committed, not a new one.
    if (redelivered && n > 1) return prefix + std::to_string(n - 1);
    return key;
  }
}

std::string_view Processor::source_of(const amqp::Delivery& delivery) const {
  return delivery.queue == names_.ais_events ? "ais" : "gov";
}

Processor::Prepared Processor::prepare(Work work) {
  const auto& delivery = work.delivery;
  Prepared prepared;
  auto& entry = prepared.input.entry;
  entry.source = delivery.queue;
  entry.body_sha256 = sha256_hex(delivery.body);
  entry.received_at = clock_.now();
  // The input read, then decided against the state the inputs before it left.
  auto rejection = read_and_decide(work, prepared);
  if (prepared.failure) {
    // Decided again later, by the failure's kind.
  } else if (rejection) {
    refuse(prepared, delivery, *rejection);
  } else {
    entry.outcome = "processed";
    // An input that closes a step after its breach is processed, and recorded as late.
    if (!prepared.late.empty())
      entry.detail = fmt::format("late: {}", fmt::join(prepared.late, ", "));
  }
  if (!prepared.failure) view_.apply(entry.key, prepared.input.changes);
  prepared.work = std::move(work);
  return prepared;
}

std::optional<Rejection> Processor::read_and_decide(const Work& work, Prepared& prepared) {
  const auto& delivery = work.delivery;
  auto& entry = prepared.input.entry;
  const auto now = entry.received_at;
  // Properties that could not be read or carried as they came: the input is not read at all.
  if (!delivery.properties.problems.empty()) {
    prepared.message_id = delivery.properties.message_id;
    return Rejection{Reason::amqp_invalid_properties,
                     fmt::format("{}", fmt::join(delivery.properties.problems, "; "))};
  }
  if (delivery.queue == names_.ais_events) {
    auto parsed = intake::parse_ais_event(delivery.body);
    auto* event = std::get_if<domain::AisEvent>(&parsed);
    if (event == nullptr) return std::get<Rejection>(std::move(parsed));
    prepared.message_id = event->event_id;
    entry.document_type = event->type;
    return decide_once(prepared, "ais:" + event->event_id,
                       [&] { return workflow_->on_event(*event, view_, now); });
  }
  const auto& outcome = *work.intake;
  if (const auto* accepted = std::get_if<intake::Accepted>(&outcome)) {
    prepared.message_id = accepted->envelope.message_id;
    entry.document_type = accepted->document_type;
    return decide_once(prepared, "gov:" + prepared.message_id,
                       [&] { return workflow_->on_document(*accepted, view_, now); });
  }
  const auto& rejected = std::get<intake::Rejected>(outcome);
  entry.document_type = rejected.document_type.value_or("");
  if (rejected.envelope) prepared.message_id = rejected.envelope->message_id;
  return rejected.rejection;
}

std::optional<Rejection> Processor::decide_once(
    Prepared& prepared, const std::string& key,
    const std::function<Result<workflow::Decided>()>& decide) {
  prepared.input.entry.key = key;
  auto taken = view_.key_taken(key);
  if (!taken) {
    prepared.failure = taken.error();
    return std::nullopt;
  }
  // Seen before: the store will say duplicate (or conflict) without deciding it again.
  if (taken.value()) return std::nullopt;
  auto decided = decide();
  if (!decided) {
    prepared.failure = decided.error();
    return std::nullopt;
  }
  auto* effects = std::get_if<workflow::Effects>(&decided.value());
  if (effects == nullptr) return std::get<Rejection>(std::move(decided).value());
  prepared.input.outbox = std::move(effects->outbox);
  prepared.to_sign = std::move(effects->to_sign);
  prepared.input.changes = std::move(effects->changes);
  prepared.subject = std::move(effects->subject);
  prepared.stage = std::move(effects->stage);
  prepared.late = std::move(effects->late);
  return std::nullopt;
}

void Processor::refuse(Prepared& prepared, const amqp::Delivery& delivery,
                       const Rejection& rejection) {
  // A refused message is known by its bytes, never by the id it claims (a forged message must
  // not take the id of a real one that comes later), and by its attempt: sent again (a replay, a
  // fresh re-send), it is judged again; redelivered by the broker, it is the same attempt, and
  // settles as a duplicate of its dead letter.
  auto& entry = prepared.input.entry;
  auto key = free_key(fmt::format("{}:rejected:{}:", source_of(delivery), entry.body_sha256),
                      delivery.redelivered);
  if (!key) {
    prepared.failure = key.error();
    return;
  }
  entry.key = std::move(key).value();
  entry.outcome = "rejected";
  entry.reason = code(rejection.reason);
  entry.detail = rejection.detail;
  prepared.input.outbox =
      dead_letter(delivery, entry.key, rejection.reason, rejection.detail, entry.document_type);
  prepared.input.changes = {};
  prepared.to_sign.clear();
}

void Processor::flush() {
  flush_scheduled_ = false;
  // One batch at a time: the next is decided once this one is committed.
  if (sealing_ > 0 || ready_.empty()) return;
  std::vector<Ready> batch;
  if (ready_.front().alone) {
    batch.push_back(std::move(ready_.front()));
    ready_.pop_front();
  } else {
    std::deque<Ready> rest;
    for (auto& item : ready_) {
      if (item.alone) {
        rest.push_back(std::move(item));
      } else {
        batch.push_back(std::move(item));
      }
    }
    ready_ = std::move(rest);
  }
  const bool alone = batch.front().alone;
  std::vector<Prepared> prepared;
  view_.clear();
  for (auto& item : batch) {
    // A delivery whose connection is gone will be redelivered: do nothing for it now.
    if (item.work.delivery.generation != link_.generation()) continue;
    auto decided = prepare(std::move(item.work));
    if (decided.failure) {
      failed(std::move(decided.work), *decided.failure);
      continue;
    }
    prepared.push_back(std::move(decided));
  }
  view_.clear();
  const bool to_sign = std::any_of(prepared.begin(), prepared.end(),
                                   [](const Prepared& item) { return !item.to_sign.empty(); });
  if (!to_sign) {
    commit(std::move(prepared), alone);
    return schedule_flush();
  }
  // The notifications are signed on a worker; meanwhile the loop goes on, and the next batch
  // waits for this one.
  sealing_ = prepared.size();
  auto shared = std::make_shared<std::vector<Prepared>>(std::move(prepared));
  workers_.run(
      [shared, notifications = workflow_->notifications()] {
        std::vector<std::optional<Error>> problems(shared->size());
        for (std::size_t i = 0; i < shared->size(); ++i) {
          auto& item = (*shared)[i];
          if (auto sealed = workflow::seal(*notifications, item.input.outbox, item.to_sign);
              !sealed) {
            problems[i] = sealed.error();
          }
        }
        return problems;
      },
      [this, shared, alone](std::vector<std::optional<Error>> problems) {
        sealing_ = 0;
        auto sealed = std::move(*shared);
        const bool all_signed =
            std::none_of(problems.begin(), problems.end(),
                         [](const auto& problem) { return problem.has_value(); });
        if (all_signed) {
          commit(std::move(sealed), alone);
        } else if (alone || sealed.size() == 1) {
          failed(std::move(sealed.front().work), *problems.front());
        } else {
          // The others were decided with it: each is decided again on its own.
          for (auto& item : sealed)
            enqueue(std::move(item.work), true);
        }
        schedule_flush();
      });
}

void Processor::commit(std::vector<Prepared> prepared, bool alone) {
  if (prepared.empty()) return;
  std::vector<store::InputLog::Input> inputs;
  inputs.reserve(prepared.size());
  bool sets_timers = false;
  for (auto& item : prepared)
    inputs.push_back(hand_over(item, sets_timers));
  auto recorded = store_.record_inputs(std::move(inputs));
  if (!recorded) {
    // The batch is all or nothing: unless the store itself is in trouble, each input is decided
    // again on its own, so that only the one at fault fails (and another writer coming first, a
    // conflict, is normal traffic).
    const bool each_alone =
        alone || prepared.size() == 1 || recorded.error().kind == Failure::transient;
    for (auto& item : prepared) {
      if (each_alone) {
        failed(std::move(item.work), recorded.error());
      } else {
        enqueue(std::move(item.work), true);
      }
    }
    return;
  }
  committed();
  if (sets_timers && timers_changed_) timers_changed_();
  for (std::size_t i = 0; i < prepared.size(); ++i) {
    settle(std::move(prepared[i]), std::move(recorded.value()[i]));
  }
}

store::InputLog::Input Processor::hand_over(Prepared& prepared, bool& sets_timers) {
  // The outbox rows (signed bodies) and state changes move to the store; settling needs only the
  // entry. A failed commit decides the delivery again from its intake.
  sets_timers = sets_timers || !prepared.input.changes.timers.empty();
  return {prepared.input.entry, std::move(prepared.input.outbox),
          std::move(prepared.input.changes)};
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
      conflict.outcome = "rejected";
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
                prepared.message_id, conflict, conflict.outcome, {{"sha256", entry.body_sha256}});
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
    metrics_->input(delivery.queue, entry.document_type, entry.outcome, entry.reason);
  }
  if (entry.outcome == "processed") {
    ++counters_.processed;
  } else {
    ++counters_.rejected;
  }
  if (entry.outcome == "processed") {
    log_input(spdlog::level::info, "input processed", delivery, prepared.message_id, entry,
              entry.outcome, {{"subject", prepared.subject}, {"stage", prepared.stage}});
    if (!prepared.late.empty()) {
      log::warn("deadline met late (after its breach was reported)",
                {{"subject", prepared.subject}, {"steps", entry.detail}});
    }
  } else {
    log_input(spdlog::level::info, "input rejected", delivery, prepared.message_id, entry,
              entry.outcome);
  }
  await(entry.key, std::move(delivery), std::move(recorded.outbox));
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
  entry.outcome = "rejected";
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
  if (metrics_ != nullptr) metrics_->input(delivery.queue, "", entry.outcome, entry.reason);
  log_input(spdlog::level::err, "input given up and dead-lettered", delivery,
            delivery.properties.message_id, entry, entry.outcome);
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
