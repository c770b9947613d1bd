#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/ids.hpp"
#include "workflow/workflow.hpp"
#include "workflow/workflow_internal.hpp"

// The deadlines a stage change opens, closes or moves, with their SLA timers; the timers that
// fire: an SLA warning or breach, the voucher's expiry.
namespace nqs::workflow {

using detail::date_at;
using detail::text_at;
using detail::unknown;

Result<std::optional<Rejection>> Workflow::track_deadlines(const domain::Application* before,
                                                           const domain::Application& next,
                                                           Effects& effects, StateView& view,
                                                           Instant now,
                                                           const intake::Accepted* document) const {
  const auto& id = next.application_id;
  // A stage one more request can enter while it lasts (a second sheet for the LMC) keeps its
  // deadline while the earliest request waits; once that one is answered, the deadline moves to
  // the next, counted from when it came (Rules 380 art. 13: each sheet within 1 working day).
  const auto since = domain::waiting_since(next);
  const bool waits_again =
      before != nullptr && since.has_value() && domain::waiting_since(*before) != since;
  for (const auto& rule : deadlines_.rules) {
    const bool was = before != nullptr && domain::covers(rule, before->stage);
    const bool is = domain::covers(rule, next.stage);
    const bool moved =
        was && is && (rule.until_valid ? before->valid_until != next.valid_until : waits_again);
    if (was && (!is || moved)) {
      // Left its stages or answered: met, or late if its breach was already reported.
      BOOST_OUTCOME_TRY(auto row, view.deadline(id, rule.step));
      if (row && !row->closed && row->breached) effects.late.push_back(rule.step);
      effects.changes.closed_deadlines.push_back({id, rule.step, now});
      for (const auto type : {TimerKind::Type::sla_warning, TimerKind::Type::sla_breach}) {
        effects.changes.cancelled_timers.push_back(
            {timer_kind_text({type, rule.step}), id, std::nullopt});
      }
    }
    if (!is || (was && !moved)) continue;
    std::optional<calendar::Date> from_date;
    if (!rule.from.empty() && document != nullptr)
      from_date = date_at(document->payload, rule.from);
    const auto started = !rule.until_valid && since ? *since : now;
    auto due = domain::due_of(rule, calendar_, started, from_date, next.valid_until);
    if (!due) {
      return std::optional<Rejection>{
          Rejection{Reason::domain_inconsistent,
                    fmt::format("the deadline {} of application {} cannot be computed: {}",
                                rule.step, id, due.error().message)}};
    }
    effects.changes.opened_deadlines.push_back(
        {id, rule.step, rule.responsible, rule.basis, started, due.value(), {}, {}, {}});
    boost::json::object facts;
    facts["step"] = rule.step;
    facts["responsible"] = rule.responsible;
    facts["basis"] = rule.basis;
    facts["started"] = to_utc_string(started);
    facts["due"] = to_utc_string(due.value());
    const auto facts_text = boost::json::serialize(facts);
    effects.changes.timers.push_back({timer_kind_text({TimerKind::Type::sla_warning, rule.step}),
                                      id, domain::warning_of(deadlines_, calendar_, due.value()),
                                      facts_text});
    // The voucher's own end is its annulment (the voucher_expiry timer), not a breach.
    if (!rule.until_valid) {
      effects.changes.timers.push_back({timer_kind_text({TimerKind::Type::sla_breach, rule.step}),
                                        id, due.value() + std::chrono::milliseconds{1},
                                        facts_text});
    }
  }
  return std::optional<Rejection>{};
}

Result<Effects> Workflow::sla_fired(const store::TimerRow& timer, const std::string& causation,
                                    StateView& view, Instant now) const {
  Effects effects;
  effects.subject = timer.subject;
  const bool breach =
      timer_kind_of(timer.kind).value_or(TimerKind{}).type == TimerKind::Type::sla_breach;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(timer.payload, ec);
  if (ec || !parsed.is_object()) {
    effects.note = "the timer's facts are unreadable: " + timer.payload;
    return effects;
  }
  const auto& facts = parsed.as_object();
  const auto step = text_at(facts, "step");
  const auto started = parse_instant(text_at(facts, "started"));
  BOOST_OUTCOME_TRY(auto row, view.deadline(timer.subject, step));
  if (!row || row->closed || !started || row->started != *started) {
    effects.note = fmt::format("the deadline {} was closed before its {}", step,
                               breach ? "breach" : "warning");
    return effects;
  }
  // messages.md: nqs.notifications, sla.warning.<step> / sla.breached.<step>, published once
  // (the firing is an input of its own: a second firing is a duplicate).
  const auto type = fmt::format("sla.{}.{}", breach ? "breached" : "warning", step);
  boost::json::object body;
  body["type"] = type;
  body["step"] = step;
  body["subject"] = timer.subject;
  body["responsible"] = row->responsible;
  body["basis"] = row->basis;
  body["started"] = to_utc_string(row->started);
  body["due"] = to_utc_string(row->due);
  body["now"] = to_utc_string(now);
  effects.outbox.push_back(outbox_message(uuid_for("sla:" + causation), exchanges_.notifications,
                                          type, "application/json", timer.subject,
                                          boost::json::serialize(body), now));
  effects.changes.marked_deadlines.push_back({timer.subject, step, row->started, breach, now});
  return effects;
}

Result<Effects> Workflow::on_timer(const store::TimerRow& timer, const std::string& causation,
                                   StateView& view, Instant now) const {
  Effects effects;
  effects.subject = timer.subject;
  Decided decided = Rejection{Reason::domain_invalid_transition,
                              fmt::format("no workflow takes the timer {}", timer.kind)};
  const auto kind = timer_kind_of(timer.kind);
  const bool expiry = kind && kind->type == TimerKind::Type::voucher_expiry;
  if (kind && !expiry) {
    BOOST_OUTCOME_TRY(effects, sla_fired(timer, causation, view, now));
    decided = Decided{Effects{}};
  } else if (expiry) {
    BOOST_OUTCOME_TRY(auto row, view.application(timer.subject));
    if (!row) {
      decided = unknown(fmt::format("no application {} is known", timer.subject));
    } else {
      BOOST_OUTCOME_TRY(decided, step(row, domain::VoucherExpired{}, causation, view, now));
    }
  }
  if (auto* done = std::get_if<Effects>(&decided); done != nullptr && expiry) {
    effects = std::move(*done);
  }
  if (const auto* rejection = std::get_if<Rejection>(&decided)) effects.note = rejection->detail;
  // The timer that fired goes in the same transaction, unless it was moved meanwhile.
  effects.changes.cancelled_timers.insert(effects.changes.cancelled_timers.begin(),
                                          {timer.kind, timer.subject, timer.due});
  return effects;
}

}  // namespace nqs::workflow
