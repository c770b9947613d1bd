#pragma once

#include <boost/asio/io_context.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "amqp/connection.hpp"
#include "amqp/names.hpp"
#include "common/clock.hpp"
#include "daemon/ports.hpp"
#include "daemon/workers.hpp"
#include "intake/intake.hpp"
#include "ops/metrics.hpp"
#include "store/store.hpp"
#include "workflow/state_view.hpp"
#include "workflow/workflow.hpp"

namespace nqs::daemon {

struct RetrySettings {
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds max{30000};
  // An input decided this many times without a commit is given up as processing.failed: at once
  // for a conflict that keeps coming back; for a transient failure, only once other inputs have
  // been committed meanwhile (it is this input, not the store).
  int max_attempts = 5;
};

struct ProcessingCounters {
  std::uint64_t processed = 0;
  std::uint64_t rejected = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t conflicts = 0;  // a known messageId with another body
  std::uint64_t transient_failures = 0;
  std::uint64_t decided_again = 0;  // a commit that lost to another writer, decided again
  std::uint64_t failed = 0;         // given up: dead-lettered as processing.failed
};

// Turns each delivery, from the government bus or the AIS, into its effects, exactly once:
//   delivery -> intake (signed documents) or the event parser (AIS JSON) -> the workflow (the
//   state machine) -> one store transaction (inbox, outbox, state) -> publish with confirms -> ack.
// A document's intake runs on a worker thread (Workers), and so does the signing of the
// notifications a batch composes: the event loop only decides (against the store) and commits.
// The ack contract: a delivery is acknowledged only after its effects are committed and every
// message they caused is confirmed by the broker; a duplicate (same messageId, same body) is
// acknowledged with no new effect; a rejection is committed as a dead letter (original body,
// properties and headers, plus x-nqs-reason, x-nqs-detail, x-nqs-failed-at) and acknowledged once
// the dead letter is confirmed. A failure says what to do (common/result.hpp): a transient one
// (the store busy or unavailable) holds the delivery and processes it again after a backoff; a
// conflict (another writer came first) decides it again at once; a permanent one, or one that
// keeps coming back for this input alone (RetrySettings::max_attempts), dead-letters it as
// processing.failed with the error in words, so that no input holds a prefetch slot for good.
//
// Keys in the inbox: `gov:<messageId>` and `ais:<eventId>` for inputs that were processed (a
// second copy is a duplicate); a rejected input is known by its bytes and its attempt,
// `gov:rejected:<sha256>:<n>`, so that the same message sent again (replayed by an operator after
// the missing input arrived) is judged again, never silently absorbed, while the broker's
// redelivery of it (`redelivered`) is the same attempt. The key is the dead letter's message_id.
class Processor {
 public:
  Processor(boost::asio::io_context& io, Workers& workers,
            std::shared_ptr<const intake::Intake> intake, const workflow::Workflow& workflow,
            store::Store& store, OutboxPublisher& relay, DeliveryAcks& link, const Clock& clock,
            amqp::Names names, RetrySettings retry);

  void set_metrics(ops::Metrics* metrics) { metrics_ = metrics; }
  // evidence.keep_rejected: each message refused from the bus archived too, with its reason; its
  // bytes only up to `max_body` (intake.max_message_bytes).
  void keep_rejected_evidence(std::size_t max_body) { keep_rejected_up_to_ = max_body; }
  // SIGHUP: the next inputs are read with these (an intake already started finishes with the set
  // it started with, which it holds; decisions are made on the event loop, between batches).
  void replace(std::shared_ptr<const intake::Intake> intake, const workflow::Workflow& workflow) {
    intake_ = std::move(intake);
    workflow_ = &workflow;
  }
  // Called after a commit that set timers, so that the timer runner looks again.
  void on_timers_changed(std::function<void()> callback) { timers_changed_ = std::move(callback); }

  void on_delivery(amqp::Delivery delivery);
  // The relay confirmed one outbox row.
  void on_sent(const store::OutboxMessage& row);
  // The connection is gone: deliveries held for it will be redelivered by the broker.
  void on_disconnected();

  // Deliveries received and not yet acknowledged (or dropped with their connection).
  [[nodiscard]] std::size_t in_progress() const {
    return awaiting_.size() + retrying_ + ready_.size() + in_intake_ + sealing_;
  }
  // Documents in intake on a worker thread.
  [[nodiscard]] std::size_t in_intake() const { return in_intake_; }
  [[nodiscard]] const ProcessingCounters& counters() const { return counters_; }

 private:
  // Deliveries waiting for one input's messages to be confirmed: the first delivery, and any
  // duplicate of it that arrived meanwhile.
  struct Awaiting {
    std::vector<amqp::Delivery> deliveries;
    std::set<std::int64_t> unconfirmed;
  };
  // A delivery being tried again: how many times, and since when.
  struct Retry {
    int attempt = 0;
    std::chrono::steady_clock::time_point since{};
  };
  // One delivery on its way: with its intake once done (documents from the bus), and its retries.
  struct Work {
    amqp::Delivery delivery;
    std::shared_ptr<const intake::IntakeOutcome> intake;
    Retry retry;
  };
  // Work ready to be decided; `alone`: in a batch of its own (a retry, or one decided again
  // after its batch failed), so that only the input at fault fails.
  struct Ready {
    Work work;
    bool alone = false;
  };
  // An input after intake, decided, ready to be committed.
  struct Prepared {
    Work work;
    store::InputLog::Input input;
    std::vector<std::size_t> to_sign;  // composed notifications among input.outbox
    std::string message_id;
    std::string subject;  // the application it moved, for the logs
    std::string stage;
    std::vector<std::string> late;  // deadlines closed after their breach
    std::optional<Error> failure;   // a store read failed: what to do is its kind
  };

  // A delivery whose body was over its queue's limit and was not read: the broker dead-letters it.
  void refuse_unread(const amqp::Delivery& delivery);
  // A document's intake on a worker, then ready.
  void start_intake(Work work);
  // A document whose signer's status could not be had yet: read again after a while.
  void hold_for_status(Work work, const std::string& why);
  // first × 2^attempt, processing.retry_max_delay at most.
  [[nodiscard]] std::chrono::milliseconds backoff(const Retry& retry,
                                                  std::chrono::milliseconds first) const;
  // Keeps `work` (counted in progress) for `delay`, then hands it to `then` on the event loop.
  void hold(Work work, std::chrono::milliseconds delay, std::function<void(Work)> then);
  void enqueue(Work work, bool alone);
  void schedule_flush();
  Prepared prepare(Work work);
  // An accepted signed document's evidence record, into the input the store commits.
  void archive_received(const Work& work, Prepared& prepared);
  // A message refused from the bus, under evidence.keep_rejected: its record with the reason.
  void archive_rejected(const Work& work, Prepared& prepared);
  // Reads the input (its properties, the AIS event, the intake's outcome) and decides it once;
  // the rejection, if it is refused; a store failure is left in `prepared.failure`.
  std::optional<Rejection> read_and_decide(const Work& work, Prepared& prepared);
  // Decides an input under its inbox key, unless the key is taken (a duplicate, or a conflict:
  // the store says which).
  std::optional<Rejection> decide_once(Prepared& prepared, const std::string& key,
                                       const std::function<Result<workflow::Decided>()>& decide);
  // A refused input: its inbox entry and its dead letter, nothing else.
  void refuse(Prepared& prepared, const amqp::Delivery& delivery, const Rejection& rejection);
  // "gov" or "ais": the first part of the input's inbox keys.
  [[nodiscard]] std::string_view source_of(const amqp::Delivery& delivery) const;
  // The first key `<prefix><n>` not in the inbox nor in this batch; for a redelivery, the last
  // one taken (the attempt the broker is delivering again).
  Result<std::string> free_key(const std::string& prefix, bool redelivered = false);
  // Decides the ready work (together, or one alone), has its notifications signed on a worker,
  // and commits it in one transaction. One batch at a time: the next is decided against the state
  // this one committed.
  void flush();
  // Signs the batch's notifications on the workers, then commits it on the event loop.
  void seal_and_commit(std::vector<Prepared> prepared, bool alone);
  void commit(std::vector<Prepared> prepared, bool alone);
  // A commit succeeded (for the give-up rule of RetrySettings::max_attempts).
  void committed();
  // What follows a commit: await the confirms, acknowledge a duplicate, keep a conflict.
  void settle(Prepared prepared, store::Recorded recorded);
  void await(const std::string& key, amqp::Delivery delivery,
             std::vector<store::OutboxMessage> rows);
  // A failure of this delivery: retried later, decided again now, or given up (by its kind).
  void failed(Work work, const Error& error);
  void retry_later(Work work, const Error& error);
  // Dead-letters the delivery as processing.failed, the error in words.
  void give_up(Work work, const Error& error);
  void finish(const amqp::Delivery& delivery);
  std::vector<store::OutboxMessage> dead_letter(const amqp::Delivery& delivery,
                                                const std::string& key, Reason reason,
                                                const std::string& detail,
                                                const std::string& document_type) const;
  // What the store commits of a prepared input; notes whether it sets timers.
  store::InputLog::Input hand_over(Prepared& prepared, bool& sets_timers);

  boost::asio::io_context& io_;
  Workers& workers_;
  std::shared_ptr<const intake::Intake> intake_;
  const workflow::Workflow* workflow_;
  workflow::StateView view_;
  std::function<void()> timers_changed_;
  ops::Metrics* metrics_ = nullptr;
  std::optional<std::size_t> keep_rejected_up_to_;
  store::Store& store_;
  OutboxPublisher& relay_;
  DeliveryAcks& link_;
  const Clock& clock_;
  amqp::Names names_;
  RetrySettings retry_;
  std::map<std::string, Awaiting> awaiting_;  // by inbox key
  std::deque<Ready> ready_;
  bool flush_scheduled_ = false;
  std::size_t in_intake_ = 0;  // documents on a worker
  std::size_t sealing_ = 0;    // inputs of the batch whose notifications are being signed
  std::size_t retrying_ = 0;
  std::chrono::steady_clock::time_point last_commit_{};
  ProcessingCounters counters_;
};

}  // namespace nqs::daemon
