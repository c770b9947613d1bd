#include "daemon/timer_runner.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "log/logging.hpp"

namespace nqs::daemon {

TimerRunner::TimerRunner(boost::asio::io_context& io, Workers& workers,
                         const workflow::Workflow& workflow, store::Store& store,
                         OutboxPublisher& relay, const Clock& clock, TimerSettings settings)
    : workers_(workers),
      workflow_(&workflow),
      store_(store),
      relay_(relay),
      clock_(clock),
      settings_(settings),
      view_(store),
      timer_(io) {}

void TimerRunner::start() {
  stopped_ = false;
  reschedule();
}

void TimerRunner::stop() {
  stopped_ = true;
  timer_.cancel();
}

void TimerRunner::reschedule() {
  if (stopped_) return;
  // Signing a batch: its commit looks again.
  if (sealing_) return;
  auto next = store_.next_timer_due();
  if (!next) {
    ++counters_.failures;
    log::warn("the timers cannot be read; trying again", {{"error", next.error().message}});
    return arm(settings_.retry);
  }
  if (!next.value()) return arm(settings_.recheck);
  const auto wait =
      std::chrono::duration_cast<std::chrono::milliseconds>(*next.value() - clock_.now());
  // Never longer than `recheck`: the clock may be moved (rehearsals), and a sleep is cheap.
  arm(std::clamp(wait, std::chrono::milliseconds{0}, settings_.recheck));
}

void TimerRunner::arm(std::chrono::milliseconds delay) {
  timer_.expires_after(delay);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) fire();
  });
}

void TimerRunner::fire() {
  const auto now = clock_.now();
  auto due = store_.due_timers(now, settings_.batch);
  if (!due) {
    ++counters_.failures;
    log::warn("the timers cannot be read; trying again", {{"error", due.error().message}});
    return arm(settings_.retry);
  }
  if (due.value().empty()) return reschedule();
  view_.clear();
  std::vector<store::InputLog::Input> inputs;
  std::vector<workflow::Effects> effects;
  for (const auto& timer : due.value()) {
    const auto key = fmt::format("timer:{}:{}:{}", timer.kind, timer.subject,
                                 timer.due.time_since_epoch().count());
    auto done = workflow_->on_timer(timer, key, view_, now);
    if (!done) {
      ++counters_.failures;
      view_.clear();
      log::warn("a timer cannot be fired; trying again", {{"error", done.error().message}});
      return arm(settings_.retry);
    }
    store::InputLog::Input input;
    input.entry.key = key;
    input.entry.source = "timer";
    input.entry.outcome = store::InputOutcome::processed;
    input.entry.document_type = timer.kind;
    input.entry.detail = done.value().note;
    input.entry.body_sha256 = "";
    input.entry.received_at = now;
    // The rows and changes go to the store; the note, stage and rows to sign stay.
    input.outbox = std::move(done.value().outbox);
    input.changes = std::move(done.value().changes);
    view_.apply(key, input.changes);
    inputs.push_back(std::move(input));
    effects.push_back(std::move(done).value());
  }
  view_.clear();
  const bool to_sign = std::any_of(effects.begin(), effects.end(),
                                   [](const workflow::Effects& e) { return !e.to_sign.empty(); });
  if (!to_sign) return commit(due.value(), std::move(inputs), effects);
  sealing_ = true;
  struct Batch {
    std::vector<store::TimerRow> due;
    std::vector<store::InputLog::Input> inputs;
    std::vector<workflow::Effects> effects;
  };
  auto batch =
      std::make_shared<Batch>(Batch{std::move(due).value(), std::move(inputs), std::move(effects)});
  workers_.run(
      [batch, notifications = workflow_->notifications()]() -> std::optional<Error> {
        for (std::size_t i = 0; i < batch->inputs.size(); ++i) {
          auto sealed =
              workflow::seal(*notifications, batch->inputs[i].outbox, batch->effects[i].to_sign);
          if (!sealed) return sealed.error();
        }
        return std::nullopt;
      },
      [this, batch](std::optional<Error> problem) {
        sealing_ = false;
        if (stopped_) return;
        if (problem) {
          ++counters_.failures;
          log::warn("fired timers' notifications cannot be signed; trying again",
                    {{"error", problem->message}});
          return arm(settings_.retry);
        }
        for (std::size_t i = 0; i < batch->inputs.size(); ++i) {
          workflow::archive_sent(batch->inputs[i], batch->effects[i].to_sign, batch->due[i].subject,
                                 *workflow_);
        }
        commit(batch->due, std::move(batch->inputs), batch->effects);
      });
}

void TimerRunner::commit(const std::vector<store::TimerRow>& due,
                         std::vector<store::InputLog::Input> inputs,
                         const std::vector<workflow::Effects>& effects) {
  auto recorded = store_.record_inputs(std::move(inputs));
  if (!recorded) {
    ++counters_.failures;
    log::warn("fired timers cannot be committed; trying again",
              {{"error", recorded.error().message}});
    return arm(settings_.retry);
  }
  bool all_duplicates = true;
  for (std::size_t i = 0; i < recorded.value().size(); ++i) {
    auto& result = recorded.value()[i];
    const auto& timer = due[i];
    if (result.duplicate) {
      // Fired before, yet still there: its row is removed with the firing, so this is another
      // instance's firing in flight. Leave it to that one.
      continue;
    }
    all_duplicates = false;
    ++counters_.fired;
    if (!effects[i].note.empty()) ++counters_.without_effect;
    if (metrics_ != nullptr) {
      metrics_->timer_fired(timer.kind);
      // An SLA message was sent (not a timer that found its deadline closed).
      if (!result.outbox.empty()) {
        using Type = workflow::TimerKind::Type;
        if (auto kind = workflow::timer_kind_of(timer.kind);
            kind && kind->type != Type::voucher_expiry) {
          metrics_->sla(kind->type == Type::sla_breach, kind->step);
        }
      }
    }
    log::info("timer fired", {{"kind", timer.kind},
                              {"subject", timer.subject},
                              {"due", to_utc_string(timer.due)},
                              {"stage", effects[i].stage},
                              {"note", effects[i].note}});
    relay_.submit(std::move(result.outbox));
  }
  if (all_duplicates) return arm(settings_.retry);
  // A full batch: there may be more due now.
  if (due.size() == settings_.batch) return arm(std::chrono::milliseconds{0});
  reschedule();
}

}  // namespace nqs::daemon
