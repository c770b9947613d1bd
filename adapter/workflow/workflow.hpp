#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "amqp/names.hpp"
#include "calendar/working_calendar.hpp"
#include "common/instant.hpp"
#include "common/reason.hpp"
#include "common/result.hpp"
#include "domain/ais_events.hpp"
#include "domain/deadlines.hpp"
#include "domain/lifecycle.hpp"
#include "intake/intake.hpp"
#include "notify/outbound.hpp"
#include "store/store.hpp"
#include "workflow/state_view.hpp"

namespace nqs::workflow {

// The commands of the inbound mappings the workflow takes, and the notifications it sends (each
// needs its outbound mapping): check-config refuses a configuration without them.
inline constexpr std::array<std::string_view, 5> kCommands{
    "SubmitVoucherApplication", "RecordRecognitionCenterDecision", "RecordSickLeaveNotice",
    "RecordRecognitionOutcome", "RegisterServiceAct"};
inline constexpr std::array<std::string_view, 5> kNotifications{
    "ApplicationRefused", "ApplicationToRecognitionCenter", "VoucherDelivered",
    "VoucherValidityExtended", "VoucherAnnulled"};
bool takes_command(std::string_view command);

// The timers the workflow sets: the voucher's expiry, and a deadline's warning and breach.
// Stored as text (store::TimerRow::kind): voucher_expiry, sla.warning.<step>, sla.breach.<step>.
struct TimerKind {
  enum class Type { voucher_expiry, sla_warning, sla_breach };
  Type type = Type::voucher_expiry;
  std::string step;  // the deadline's, for a warning or a breach
};
std::string timer_kind_text(const TimerKind& kind);
std::optional<TimerKind> timer_kind_of(std::string_view text);

// What one input does, ready to be committed with it: the messages it causes and the state it
// changes.
struct Effects {
  std::vector<store::OutboxMessage> outbox;
  store::StateChanges changes;
  std::string subject;  // the application (or person, or region) it was about, for the logs
  std::string stage;    // the application's stage after it, if it has one
  std::string note;     // a timer that no longer applied: why it did nothing
  std::vector<std::string> late;  // deadlines it closed after their breach
  // The outbox rows whose body is a notification composed and not yet signed: seal() signs them,
  // off the event loop, before they are committed.
  std::vector<std::size_t> to_sign;
};
using Decided = std::variant<Effects, Rejection>;

// Signs the composed notifications among `rows` (those `to_sign` names) with `notifications`'
// key; the first that cannot be signed is the error. Safe on any thread.
Result<void> seal(const notify::NotificationBuilder& notifications,
                  std::vector<store::OutboxMessage>& rows, const std::vector<std::size_t>& to_sign);

// Issue 18: the signed notifications of an input (those `to_sign` names among its outbox, after
// seal) kept in the evidence archive as sent, with the input; `application_id` is the one they are
// about; the workflow's calendar names the day, its notifications' signer the signer.
class Workflow;
void archive_sent(store::InputLog::Input& input, const std::vector<std::size_t>& to_sign,
                  const std::string& application_id, const Workflow& workflow);

// Between the transport and the state machine: finds the application an input is about (through
// the view, so that inputs of one batch see each other), gathers the facts the automatic checks
// need, asks domain::decide, and turns its decision into outbox rows (AIS commands, signed
// notifications to the bus) and state changes (the application, quota, timers). A store read that
// fails is an error (the input is retried); an input that does not fit is a Rejection.
class Workflow {
 public:
  Workflow(const calendar::WorkingCalendar& calendar, domain::MciTable mci,
           std::shared_ptr<const notify::NotificationBuilder> notifications, amqp::Names exchanges,
           domain::DeadlineTable deadlines = domain::statutory_deadlines(),
           domain::Policy policy = {});

  // The working calendar the decisions count in (its local date names an evidence record's day).
  [[nodiscard]] const calendar::WorkingCalendar& calendar() const { return calendar_; }
  // The adapter as signer of its notifications, for their evidence records.
  [[nodiscard]] const notify::SignerEvidence& sent_by() const { return sent_by_; }
  // What signs the notifications the effects compose (seal).
  [[nodiscard]] const std::shared_ptr<const notify::NotificationBuilder>& notifications() const {
    return notifications_;
  }
  // `causation`: the input's own id (messageId, eventId or the timer's key). Notifications come
  // composed, not signed: see Effects::to_sign.
  // A command a signed document causes carries the link to its archived original (messages.md
  // "Commands to the AIS": evidence {id, sha256}).
  Result<Decided> on_document(const intake::Accepted& document, StateView& view, Instant now) const;
  Result<Decided> on_event(const domain::AisEvent& event, StateView& view, Instant now) const;
  // Always Effects: a timer that no longer applies is removed with a note, never dead-lettered.
  Result<Effects> on_timer(const store::TimerRow& timer, const std::string& causation,
                           StateView& view, Instant now) const;

 private:
  // `document`: the signed document that caused the input, if it was one (the dates a deadline
  // counts from; the evidence link its commands carry).
  Result<Decided> step(const std::optional<store::ApplicationRow>& row, const domain::Input& input,
                       const std::string& causation, StateView& view, Instant now,
                       const intake::Accepted* document = nullptr) const;
  Result<Decided> submitted(const intake::Accepted& document, StateView& view, Instant now) const;
  Result<Decided> effects_of(const domain::Application* before, domain::Decision decision,
                             const std::string& causation, StateView& view, Instant now,
                             const intake::Accepted* document) const;
  // Opens, closes or moves the deadlines the stage change touches (domain::DeadlineTable).
  Result<std::optional<Rejection>> track_deadlines(const domain::Application* before,
                                                   const domain::Application& next,
                                                   Effects& effects, StateView& view, Instant now,
                                                   const intake::Accepted* document) const;
  // A v:ServiceAct of one person or several (appendix 2): each person's application moves.
  Result<Decided> service_act(const intake::Accepted& document, StateView& view, Instant now) const;
  // PaymentMade: the center paid once for its act, the holders each.
  Result<Decided> payment_made(const domain::PaymentMade& payment, const std::string& causation,
                               StateView& view, Instant now) const;
  // QuotaAllocated: one region's allocation for the period first..last, as allocation changes;
  // a Rejection if it contradicts what is reserved.
  Result<std::optional<Rejection>> allocate(const std::string& oblast,
                                            const domain::QuotaRegion& region, int first, int last,
                                            StateView& view, Effects& effects) const;
  // VoucherIssued: the voucher, and what it means for the person's other applications.
  Result<Decided> voucher_issued(const domain::VoucherIssued& issued, const std::string& causation,
                                 StateView& view, Instant now) const;
  Result<Effects> sla_fired(const store::TimerRow& timer, const std::string& causation,
                            StateView& view, Instant now) const;

  const calendar::WorkingCalendar& calendar_;
  domain::MciTable mci_;
  domain::Policy policy_;
  std::shared_ptr<const notify::NotificationBuilder> notifications_;
  notify::SignerEvidence sent_by_;
  amqp::Names exchanges_;
  domain::DeadlineTable deadlines_;
};

// The AMQP properties of a published message, as messages.md asks: persistent, message_id,
// timestamp, content_type and correlation_id set.
store::OutboxMessage outbox_message(std::string key, std::string exchange, std::string routing_key,
                                    std::string content_type, std::string correlation_id,
                                    std::string body, Instant now);

}  // namespace nqs::workflow
