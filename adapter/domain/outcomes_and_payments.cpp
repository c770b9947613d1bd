#include <fmt/format.h>

#include "domain/lifecycle_internal.hpp"

// The voucher used (Rules 380 art. 11, 14, 17; Rules 374 art. 17-23): the recognition outcome and
// its appeal, the center's service act and its reimbursement, the payments.
namespace nqs::domain::detail {

Outcome Decider::operator()(const OutcomeRecorded& input) {
  if (input.appeal_decided_on) return appeal(input);
  if (current_->stage != Stage::voucher_active && current_->stage != Stage::extension_requested) {
    return wrong_stage(*current_, "RecognitionOutcome");
  }
  if (auto mismatch = other_center(input)) return *mismatch;
  // Art. 11 as the audit reads it (point 6): used when the procedure took place within the
  // validity, sheets waiting for the LMC included; the outcome may come after, in the grace.
  const auto last_valid_day = counted_validity(*current_);
  if (input.exam_date < *current_->issued_on || input.exam_date > last_valid_day) {
    return Rejection{Reason::domain_inconsistent,
                     fmt::format("the exam of {} is outside the validity of voucher {}: {} to {}",
                                 calendar::to_string(input.exam_date), current_->voucher_id,
                                 calendar::to_string(*current_->issued_on),
                                 calendar::to_string(last_valid_day))};
  }
  // Rules 374 art. 17: the protocol within 2 working days after the exam; a later one is
  // processed and recorded as late (point 11).
  auto protocol_due = context_.calendar.working_days_after(input.exam_date, kProtocolWorkingDays);
  if (!protocol_due) return Rejection{Reason::domain_inconsistent, protocol_due.error().message};
  Decision decision{*current_, {}, {}, {}, 0};
  auto& application = decision.next;
  application.stage = Stage::used;
  application.exam_region = input.exam_region;
  application.exam_date = input.exam_date;
  application.protocol_signed_on = input.protocol_signed_on;
  application.passed = input.passed;
  application.protocol_late = input.protocol_signed_on > protocol_due.value();
  CommandOut command{"RecordRecognitionOutcome", input.payload};
  command.payload["protocolLate"] = application.protocol_late;
  command.payload["protocolDueBy"] = calendar::to_string(protocol_due.value());
  decision.commands.push_back(std::move(command));
  decision.timers.push_back({TimerKind::voucher_expiry, std::nullopt});  // used: no annulment
  return decision;
}

// Rules 374 art. 20-23: the appeal commission's outcome, once, after a first outcome and not
// before its protocol; it may confirm or change the result; an act registered stays (the
// procedure was rendered either way).
Outcome Decider::appeal(const OutcomeRecorded& input) {
  if (!current_->exam_date) {
    return Rejection{Reason::domain_invalid_transition,
                     fmt::format("an appeal outcome for voucher {} before its first outcome "
                                 "(stage {})",
                                 current_->voucher_id, stage_name(current_->stage))};
  }
  if (auto mismatch = other_center(input)) return *mismatch;
  if (current_->appealed) {
    return Rejection{Reason::domain_inconsistent,
                     fmt::format("the outcome of voucher {} was already changed on appeal once",
                                 current_->voucher_id)};
  }
  if (*input.appeal_decided_on < *current_->protocol_signed_on) {
    return Rejection{
        Reason::domain_inconsistent,
        fmt::format("the appeal was decided on {}, before the protocol of {} it appeals",
                    calendar::to_string(*input.appeal_decided_on),
                    calendar::to_string(*current_->protocol_signed_on))};
  }
  Decision decision{*current_, {}, {}, {}, 0};
  decision.next.appealed = true;
  decision.next.passed = input.passed;
  CommandOut command{"RecordRecognitionOutcome", input.payload};
  command.payload["protocolLate"] = current_->protocol_late;
  decision.commands.push_back(std::move(command));
  return decision;
}

std::optional<Rejection> Decider::other_center(const OutcomeRecorded& input) const {
  if (input.center_bin == current_->center_bin) return std::nullopt;
  return Rejection{Reason::signer_mismatch,
                   fmt::format("the outcome comes from BIN {}, the voucher's center is BIN {}",
                               input.center_bin, current_->center_bin)};
}

Outcome Decider::operator()(const ActReceived& input) {
  if (current_->stage != Stage::used) return wrong_stage(*current_, "ServiceAct");
  if (input.executor_bin != current_->center_bin) {
    return Rejection{Reason::signer_mismatch,
                     fmt::format("the act is from BIN {}, the voucher's center is BIN {}",
                                 input.executor_bin, current_->center_bin)};
  }
  auto money = reimbursement(current_->profile, input.total_tiyn, input.act_year,
                             current_->exam_region, current_->permanent_region, context_.mci);
  if (!money) return Rejection{Reason::domain_inconsistent, money.error().message};
  // Art. 17: paid within 5 working days after receiving the act.
  auto due = due_on_entering(Stage::act_received);
  if (!due) return Rejection{Reason::domain_inconsistent, due.error().message};
  Decision decision{*current_, {}, {}, {}, 0};
  decision.next.stage = Stage::act_received;
  decision.next.act_number = input.act_number;
  decision.next.reimbursement = money.value();
  CommandOut command{"RegisterServiceAct", input.payload};
  // messages.md: centerAmount, holderAssistance, applicantShare in tenge (as PaymentMade's
  // amount); the same in integer tiyn alongside, for systems that keep tiyn.
  // Which profile capped it (art. 14 1)): the career center's, or the declared one.
  command.payload["profile"] =
      current_->profile == Profile::technical ? "technical" : "social_humanitarian";
  command.payload["profileSource"] = current_->profile_confirmed ? "career_center" : "declared";
  command.payload["centerAmount"] = format_tenge(money.value().center_tiyn);
  command.payload["holderAssistance"] = format_tenge(money.value().holder_tiyn);
  command.payload["applicantShare"] = format_tenge(money.value().applicant_share_tiyn);
  command.payload["centerAmountTiyn"] = money.value().center_tiyn;
  command.payload["holderAssistanceTiyn"] = money.value().holder_tiyn;
  command.payload["applicantShareTiyn"] = money.value().applicant_share_tiyn;
  put_due(command.payload, "payDueBy", due.value());
  decision.commands.push_back(std::move(command));
  return decision;
}

Outcome Decider::operator()(const PaymentMade& input) {
  if (current_->stage != Stage::act_received) return wrong_stage(*current_, "PaymentMade");
  const auto& money = *current_->reimbursement;
  const auto expected = input.to_center ? money.center_tiyn : money.holder_tiyn;
  if (input.amount_tiyn != expected) {
    return Rejection{
        Reason::domain_inconsistent,
        fmt::format("payment of {} tiyn to the {} for act {}; {} tiyn is due", input.amount_tiyn,
                    input.to_center ? "center" : "holder", current_->act_number, expected)};
  }
  Decision decision{*current_, {}, {}, {}, 0};
  (input.to_center ? decision.next.paid_center_tiyn : decision.next.paid_holder_tiyn) =
      input.amount_tiyn;
  if (decision.next.paid_center_tiyn == money.center_tiyn &&
      decision.next.paid_holder_tiyn == money.holder_tiyn) {
    decision.next.stage = Stage::paid;
  }
  return decision;
}

}  // namespace nqs::domain::detail
