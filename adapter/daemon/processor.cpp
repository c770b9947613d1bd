#include "daemon/processor.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "log/logging.hpp"

// A delivery's way to a commit: its intake on a worker, the holds before it is read again, the
// batches decided together (processor_decide.cpp) and committed in one transaction; what follows a
// commit is in processor_settle.cpp.
namespace nqs::daemon {
namespace {

// begin_reads and end_reads around a scope.
class SharedReads {
 public:
  explicit SharedReads(store::Store& store) : store_(store) { store_.begin_reads(); }
  ~SharedReads() { store_.end_reads(); }
  SharedReads(const SharedReads&) = delete;
  SharedReads& operator=(const SharedReads&) = delete;

 private:
  store::Store& store_;
};

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
  if (delivery.unread_body_bytes > 0) return refuse_unread(delivery);
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
  std::vector<Prepared> failures;
  view_.clear();
  {
    // The batch is decided on one read of the store; a failure may write (a dead letter), so it
    // is dealt with after.
    const SharedReads reads(store_);
    for (auto& item : batch) {
      // A delivery whose connection is gone will be redelivered: do nothing for it now.
      if (item.work.delivery.generation != link_.generation()) continue;
      auto decided = prepare(std::move(item.work));
      (decided.failure ? failures : prepared).push_back(std::move(decided));
    }
  }
  view_.clear();
  for (auto& failure : failures)
    failed(std::move(failure.work), *failure.failure);
  const bool to_sign = std::any_of(prepared.begin(), prepared.end(),
                                   [](const Prepared& item) { return !item.to_sign.empty(); });
  if (!to_sign) {
    commit(std::move(prepared), alone);
    return schedule_flush();
  }
  seal_and_commit(std::move(prepared), alone);
}

void Processor::seal_and_commit(std::vector<Prepared> prepared, bool alone) {
  // The notifications are signed on the workers, the batch's inputs dealt out among them (an
  // input's notifications stay together); meanwhile the loop goes on, and the next batch waits
  // for this one. Each worker writes only its own inputs and their problems; the parts meet
  // again on the event loop.
  sealing_ = prepared.size();
  const auto signing = static_cast<std::size_t>(
      std::count_if(prepared.begin(), prepared.end(),
                    [](const Prepared& item) { return !item.to_sign.empty(); }));
  const std::size_t parts = std::max<std::size_t>(1, std::min(workers_.threads(), signing));
  auto shared = std::make_shared<std::vector<Prepared>>(std::move(prepared));
  auto problems = std::make_shared<std::vector<std::optional<Error>>>(shared->size());
  auto parts_left = std::make_shared<std::size_t>(parts);
  for (std::size_t part = 0; part < parts; ++part) {
    workers_.run(
        [shared, problems, part, parts, notifications = workflow_->notifications()] {
          for (std::size_t i = part; i < shared->size(); i += parts) {
            auto& item = (*shared)[i];
            if (item.to_sign.empty()) continue;
            if (auto sealed = workflow::seal(*notifications, item.input.outbox, item.to_sign);
                !sealed) {
              (*problems)[i] = sealed.error();
            }
          }
          return part;
        },
        [this, shared, problems, parts_left, alone](std::size_t) {
          if (--*parts_left > 0) return;
          sealing_ = 0;
          auto sealed = std::move(*shared);
          const auto first_problem =
              std::find_if(problems->begin(), problems->end(),
                           [](const auto& problem) { return problem.has_value(); });
          if (first_problem == problems->end()) {
            commit(std::move(sealed), alone);
          } else if (alone || sealed.size() == 1) {
            failed(std::move(sealed.front().work), **first_problem);
          } else {
            // The others were decided with it: each is decided again on its own.
            for (auto& item : sealed)
              enqueue(std::move(item.work), true);
          }
          schedule_flush();
        });
  }
}

void Processor::commit(std::vector<Prepared> prepared, bool alone) {
  if (prepared.empty()) return;
  std::vector<store::InputLog::Input> inputs;
  inputs.reserve(prepared.size());
  bool sets_timers = false;
  for (auto& item : prepared)
    inputs.push_back(hand_over(item, sets_timers));
  const auto started = std::chrono::steady_clock::now();
  auto recorded = store_.record_inputs(std::move(inputs));
  if (metrics_ != nullptr) {
    metrics_->commit(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
        prepared.size());
  }
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
  workflow::archive_sent(prepared.input, prepared.to_sign, prepared.subject, *workflow_);
  return {prepared.input.entry, std::move(prepared.input.outbox), std::move(prepared.input.changes),
          std::move(prepared.input.evidence)};
}

}  // namespace nqs::daemon
