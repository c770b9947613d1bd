#include "domain/lifecycle.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace nqs::domain {
namespace {

using Outcome = std::variant<Decision, Rejection>;

boost::json::array strings(const std::vector<std::string>& items) {
  boost::json::array out;
  for (const auto& item : items)
    out.emplace_back(item);
  return out;
}

Rejection wrong_stage(const Application& application, std::string_view input) {
  return Rejection{Reason::domain_invalid_transition,
                   fmt::format("{} does not fit application {} at stage {}", input,
                               application.application_id, stage_name(application.stage))};
}

NotificationOut refusal(const Application& application, std::string_view stage,
                        const std::vector<std::string>& reasons) {
  NotificationOut out{"ApplicationRefused", {}};
  out.fields["applicationId"] = application.application_id;
  out.fields["iin"] = application.iin;
  out.fields["stage"] = stage;
  out.fields["reasons"] = strings(reasons);
  return out;
}

void put_due(boost::json::object& payload, std::string_view field,
             const std::optional<Instant>& due) {
  if (due) payload[field] = to_utc_string(*due);
}

class Decider {
 public:
  Decider(const Application* current, Instant now, const Context& context)
      : current_(current), now_(now), context_(context) {}

  // The due date of the deadline entering `stage` opens (deadlines.steps), as the SLA timers
  // compute it; none when the table has no such step.
  Result<std::optional<Instant>> due_on_entering(Stage stage) const {
    const auto* rule = deadline_on_entering(context_.deadlines, stage);
    if (rule == nullptr) return std::optional<Instant>{};
    BOOST_OUTCOME_TRY(auto due, due_of(*rule, context_.calendar, now_, std::nullopt, std::nullopt));
    return std::optional<Instant>{due};
  }

  Outcome operator()(const Submitted& input) {
    if (current_ != nullptr) {
      return Rejection{
          Reason::domain_invalid_transition,
          fmt::format("application {} was already submitted", current_->application_id)};
    }
    Decision decision;
    auto& application = decision.next;
    const auto& payload = input.payload;
    application.application_id = input.application_id;
    application.iin = input.iin;
    application.region = input.region;
    application.permanent_region = input.permanent_region;
    application.profile = input.profile;
    application.center_bin = input.center_bin;
    application.center_name = input.center_name;
    const auto submitted = input.submitted_at.value_or(now_);
    const auto submitted_day = context_.calendar.local_date(submitted);
    application.quota_year = static_cast<int>(date::year_month_day{submitted_day}.year());

    // Rules 380 art. 3: the automatic checks.
    const auto refusals =
        automatic_refusals(submitted_day, input.facts, context_.policy.application_deadline);
    if (!refusals.empty()) {
      application.stage = Stage::refused_automatic;
      CommandOut command{"RecordAutomaticRefusal", payload};
      command.payload["oblast"] = oblast_of(application.region);
      command.payload["reasons"] = strings(refusals);
      decision.commands.push_back(std::move(command));
      decision.notifications.push_back(refusal(application, "automatic", refusals));
      return decision;
    }
    // Art. 8: the career center reviews within 1 working day after the day of receipt.
    auto due = due_on_entering(Stage::with_career_center);
    if (!due) return Rejection{Reason::domain_inconsistent, due.error().message};
    application.stage = Stage::with_career_center;
    CommandOut command{"RegisterApplication", payload};
    // The application's own KATO is in the payload; the quota is its oblast's (audit point 3).
    command.payload["oblast"] = oblast_of(application.region);
    put_due(command.payload, "reviewDueBy", due.value());
    // What the automatic checks knew: an applicant the AIS never mentioned is registered for the
    // career center's review (art. 8), not refused (audit point 2).
    command.payload["checks"] = boost::json::object{
        {"unemployment", input.facts.registered_unemployed ? "registered" : "unknown"}};
    decision.commands.push_back(std::move(command));
    decision.quota_change = -1;  // a unit of the region's allocation is reserved
    return decision;
  }

  Outcome operator()(const ApplicationReviewed& input) {
    if (current_->stage != Stage::with_career_center)
      return wrong_stage(*current_, "ApplicationReviewed");
    Decision decision{*current_, {}, {}, {}, 0};
    if (input.forward) {
      decision.next.stage = Stage::with_lmc;
      // Art. 14 1): the register of professions decides the cap, not the applicant.
      if (!input.profile.empty()) {
        decision.next.profile = input.profile == "social_humanitarian"
                                    ? Profile::social_humanitarian
                                    : Profile::technical;
        decision.next.profile_confirmed = true;
      }
      return decision;
    }
    decision.next.stage = Stage::refused_career_center;
    decision.notifications.push_back(refusal(*current_, "career_center", input.reasons));
    decision.quota_change = +1;
    return decision;
  }

  Outcome operator()(const ApplicationForwarded&) {
    if (current_->stage != Stage::with_lmc) return wrong_stage(*current_, "ApplicationForwarded");
    Decision decision{*current_, {}, {}, {}, 0};
    decision.next.stage = Stage::with_recognition_center;
    // Art. 9: to the cabinet of the recognition center chosen by the applicant.
    NotificationOut notification{"ApplicationToRecognitionCenter", {}};
    notification.fields["applicationId"] = current_->application_id;
    notification.fields["iin"] = current_->iin;
    notification.fields["centerBin"] = current_->center_bin;
    notification.fields["centerName"] = current_->center_name;
    decision.notifications.push_back(std::move(notification));
    return decision;
  }

  Outcome operator()(const CenterDecided& input) {
    if (current_->stage != Stage::with_recognition_center)
      return wrong_stage(*current_, "RecognitionCenterDecision");
    if (input.center_bin != current_->center_bin) {
      return Rejection{
          Reason::signer_mismatch,
          fmt::format("the decision comes from BIN {}, but application {} chose the "
                      "center with BIN {}",
                      input.center_bin, current_->application_id, current_->center_bin)};
    }
    Decision decision{*current_, {}, {}, {}, 0};
    decision.next.stage = input.accepted ? Stage::confirmed : Stage::rejected_by_center;
    // Art. 9-10: the LMC acts (issues the voucher or refuses) within 1 working day.
    auto due = due_on_entering(decision.next.stage);
    if (!due) return Rejection{Reason::domain_inconsistent, due.error().message};
    CommandOut command{"RecordCenterDecision", {}};
    command.payload["applicationId"] = current_->application_id;
    command.payload["decision"] = input.accepted ? "accepted" : "rejected";
    if (!input.reason.empty()) command.payload["reason"] = input.reason;
    put_due(command.payload, "actionDueBy", due.value());
    decision.commands.push_back(std::move(command));
    return decision;
  }

  Outcome operator()(const ApplicationRefused& input) {
    if (current_->stage != Stage::rejected_by_center)
      return wrong_stage(*current_, "ApplicationRefused");
    Decision decision{*current_, {}, {}, {}, 0};
    decision.next.stage = Stage::refused_recognition_center;
    decision.notifications.push_back(refusal(*current_, "recognition_center", input.reasons));
    decision.quota_change = +1;
    return decision;
  }

  Outcome operator()(const VoucherIssued& input) {
    if (current_->stage != Stage::confirmed) return wrong_stage(*current_, "VoucherIssued");
    Decision decision{*current_, {}, {}, {}, 0};
    auto& application = decision.next;
    application.stage = Stage::voucher_active;
    application.voucher_id = input.voucher_id;
    application.issued_on = input.issued_on;
    application.valid_until = valid_until(input.issued_on, {});
    decision.notifications.push_back(delivered(application));
    // Art. 11: annulled automatically at the end of its validity, after the grace.
    if (auto problem = annul_later(decision)) return *problem;
    return decision;
  }

  Outcome operator()(const SickLeaveSubmitted& input) {
    const auto& sheet = input.sheet;
    const auto* what = input.from_ais ? "SickLeaveRecorded" : "SickLeaveNotice";
    // Art. 12-13: while the voucher can still be used, pending extensions included; after the
    // last valid day too, within the annulment grace (audit point 7).
    if (current_->stage != Stage::voucher_active && current_->stage != Stage::extension_requested)
      return wrong_stage(*current_, what);
    if (input.holder_iin != current_->iin) {
      return Rejection{Reason::signer_mismatch,
                       fmt::format("the sick leave is of IIN {}, the voucher {} of IIN {}",
                                   input.holder_iin, current_->voucher_id, current_->iin)};
    }
    Decision decision{*current_, {}, {}, {}, 0};
    auto& application = decision.next;
    // The same sheet from either channel: processed, no new effect.
    for (const auto* sheets : {&current_->sick_leaves, &current_->pending_sick_leaves}) {
      for (const auto& known : *sheets) {
        if (known.sheet_number == sheet.sheet_number) return decision;
      }
    }
    // A sheet is submitted once closed (details of point 7).
    if (sheet.to > context_.calendar.local_date(input.submitted_at)) {
      return Rejection{Reason::domain_inconsistent,
                       fmt::format("sick-leave sheet {} ends on {}, after it was submitted ({})",
                                   sheet.sheet_number, calendar::to_string(sheet.to),
                                   to_utc_string(input.submitted_at))};
    }
    const auto last_valid_day = counted_validity(*current_);
    if (sheet.from > last_valid_day) {
      return Rejection{Reason::domain_inconsistent,
                       fmt::format("sick-leave sheet {} starts on {}, after the last valid day {} "
                                   "of voucher {} (art. 12 extends a voucher still valid)",
                                   sheet.sheet_number, calendar::to_string(sheet.from),
                                   calendar::to_string(last_valid_day), current_->voucher_id)};
    }
    application.stage = Stage::extension_requested;
    application.pending_sick_leaves.push_back(sheet);
    // The adapter's own annulment moves now, not when the LMC acts: nothing waits on the LMC.
    if (auto problem = annul_later(decision)) return *problem;
    if (input.from_ais) return decision;  // the AIS has the sheet already
    // Art. 13: the LMC extends within 1 working day after receiving the sheet.
    auto due = due_on_entering(Stage::extension_requested);
    if (!due) return Rejection{Reason::domain_inconsistent, due.error().message};
    CommandOut command{"RecordSickLeave", {}};
    command.payload["voucherId"] = application.voucher_id;
    command.payload["sheetNumber"] = sheet.sheet_number;
    command.payload["from"] = calendar::to_string(sheet.from);
    command.payload["to"] = calendar::to_string(sheet.to);
    // The validity once the LMC has extended every sheet accepted (art. 12).
    command.payload["validUntil"] = calendar::to_string(counted_validity(application));
    put_due(command.payload, "extendDueBy", due.value());
    decision.commands.push_back(std::move(command));
    return decision;
  }

  Outcome operator()(const VoucherExtended& input) {
    // While waiting for it, or after the exam that came meanwhile; not after an annulment.
    const auto stage = current_->stage;
    if (stage != Stage::extension_requested && stage != Stage::used &&
        stage != Stage::act_received && stage != Stage::paid) {
      return wrong_stage(*current_, "VoucherExtended");
    }
    const auto& pending = current_->pending_sick_leaves;
    const auto sheet = std::find_if(pending.begin(), pending.end(), [&](const SickLeave& known) {
      return known.sheet_number == input.sheet_number;
    });
    if (sheet == pending.end()) {
      return Rejection{
          Reason::domain_invalid_transition,
          fmt::format("VoucherExtended names sheet {}, which voucher {} is not waiting "
                      "for (stage {})",
                      input.sheet_number, current_->voucher_id, stage_name(current_->stage))};
    }
    Decision decision{*current_, {}, {}, {}, 0};
    auto& application = decision.next;
    const auto granted = with(application.sick_leaves, *sheet);
    const auto expected = valid_until(*application.issued_on, granted);
    // The AIS's date must be the adapter's own computation (art. 12).
    if (input.valid_until != expected) {
      return Rejection{
          Reason::domain_inconsistent,
          fmt::format("VoucherExtended says valid until {}, but 60 days after {} and "
                      "the sick-leave days give {}",
                      calendar::to_string(input.valid_until),
                      calendar::to_string(*application.issued_on), calendar::to_string(expected))};
    }
    application.sick_leaves = granted;
    application.pending_sick_leaves.erase(application.pending_sick_leaves.begin() +
                                          (sheet - pending.begin()));
    application.valid_until = expected;
    NotificationOut notification{"VoucherValidityExtended", {}};
    notification.fields["voucherId"] = application.voucher_id;
    notification.fields["iin"] = application.iin;
    notification.fields["sheetNumber"] = input.sheet_number;
    notification.fields["validUntil"] = calendar::to_string(expected);
    decision.notifications.push_back(std::move(notification));
    // Extended after the exam (the outcome came while the LMC was extending): recorded, nothing
    // to annul any more.
    if (current_->stage != Stage::extension_requested) return decision;
    if (application.pending_sick_leaves.empty()) application.stage = Stage::voucher_active;
    if (auto problem = annul_later(decision)) return *problem;
    return decision;
  }

  Outcome operator()(const OutcomeRecorded& input) {
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

  Outcome operator()(const ActReceived& input) {
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

  Outcome operator()(const PaymentMade& input) {
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

  Outcome operator()(const VoucherIssuedToPerson& input) {
    if (!on_its_way(current_->stage)) return wrong_stage(*current_, "a voucher of the same person");
    // Art. 3 (c): the person received a voucher this year; the unit held is released.
    Decision decision{*current_, {}, {}, {}, +1};
    decision.next.stage = Stage::refused_automatic;
    const std::vector<std::string> reasons{std::string(kVoucherAlreadyReceivedThisYear)};
    CommandOut command{"RecordAutomaticRefusal", {}};
    command.payload["applicationId"] = current_->application_id;
    command.payload["iin"] = current_->iin;
    command.payload["reasons"] = strings(reasons);
    command.payload["voucherId"] = input.voucher_id;
    command.payload["issuedOn"] = calendar::to_string(input.issued_on);
    decision.commands.push_back(std::move(command));
    decision.notifications.push_back(refusal(*current_, "automatic", reasons));
    return decision;
  }

  Outcome operator()(const VoucherExpired&) {
    if (current_->stage != Stage::voucher_active && current_->stage != Stage::extension_requested) {
      return wrong_stage(*current_, "the voucher expiry");
    }
    const auto last_valid_day = counted_validity(*current_);
    auto annul_at = annulment_of(last_valid_day);
    if (!annul_at) return Rejection{Reason::domain_inconsistent, annul_at.error().message};
    if (now_ < annul_at.value()) {
      // Fired before its time (set by an older version at the end of validity, without the
      // grace): set again, nothing else.
      Decision decision{*current_, {}, {}, {}, 0};
      decision.timers.push_back({TimerKind::voucher_expiry, annul_at.value()});
      return decision;
    }
    // Art. 11: an unused voucher is annulled at the end of its validity and the AIS informed;
    // here after the grace of audit point 6, no exam within the validity having been reported.
    const int released = context_.policy.release_quota_on_annulment ? +1 : 0;
    Decision decision{*current_, {}, {}, {}, released};
    decision.next.stage = Stage::annulled;
    CommandOut command{"AnnulVoucher", {}};
    command.payload["voucherId"] = current_->voucher_id;
    command.payload["applicationId"] = current_->application_id;
    command.payload["reason"] = "expired";
    command.payload["validUntil"] = calendar::to_string(last_valid_day);
    decision.commands.push_back(std::move(command));
    NotificationOut notification{"VoucherAnnulled", {}};
    notification.fields["voucherId"] = current_->voucher_id;
    notification.fields["iin"] = current_->iin;
    notification.fields["reason"] = "expired";
    decision.notifications.push_back(std::move(notification));
    return decision;
  }

 private:
  // Rules 374 art. 20-23: the appeal commission's outcome, once, after a first outcome and not
  // before its protocol; it may confirm or change the result; an act registered stays (the
  // procedure was rendered either way).
  Outcome appeal(const OutcomeRecorded& input) {
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

  std::optional<Rejection> other_center(const OutcomeRecorded& input) const {
    if (input.center_bin == current_->center_bin) return std::nullopt;
    return Rejection{Reason::signer_mismatch,
                     fmt::format("the outcome comes from BIN {}, the voucher's center is BIN {}",
                                 input.center_bin, current_->center_bin)};
  }

  // The end of the annulment grace after a last valid day (audit point 6).
  [[nodiscard]] Result<Instant> annulment_of(calendar::Date last_valid_day) const {
    auto day =
        context_.calendar.working_days_after(last_valid_day, context_.policy.annulment_grace);
    if (!day) {
      return make_error(fmt::format("the annulment of a voucher valid until {} cannot be dated: {}",
                                    calendar::to_string(last_valid_day), day.error().message));
    }
    return context_.calendar.end_of_local_day(day.value());
  }

  // Sets the annulment timer of the decided application to the end of its counted validity and
  // the grace; a problem if the calendar cannot date it.
  std::optional<Rejection> annul_later(Decision& decision) const {
    auto at = annulment_of(counted_validity(decision.next));
    if (!at) return Rejection{Reason::domain_inconsistent, at.error().message};
    decision.timers.push_back({TimerKind::voucher_expiry, at.value()});
    return std::nullopt;
  }

  static std::vector<SickLeave> with(std::vector<SickLeave> sheets, const SickLeave& more) {
    sheets.push_back(more);
    return sheets;
  }

  static NotificationOut delivered(const Application& application) {
    // Art. 10: the voucher with its issue date, validity, the holder's IIN and the center's name.
    NotificationOut out{"VoucherDelivered", {}};
    out.fields["voucherId"] = application.voucher_id;
    out.fields["applicationId"] = application.application_id;
    out.fields["iin"] = application.iin;
    out.fields["issuedOn"] = calendar::to_string(*application.issued_on);
    out.fields["validUntil"] = calendar::to_string(*application.valid_until);
    out.fields["centerBin"] = application.center_bin;
    out.fields["centerName"] = application.center_name;
    return out;
  }

  const Application* current_;
  Instant now_;
  const Context& context_;
};

}  // namespace

calendar::Date counted_validity(const Application& application) {
  auto sheets = application.sick_leaves;
  sheets.insert(sheets.end(), application.pending_sick_leaves.begin(),
                application.pending_sick_leaves.end());
  return valid_until(application.issued_on.value_or(calendar::Date{}), sheets);
}

bool on_its_way(Stage stage) {
  switch (stage) {
    case Stage::with_career_center:
    case Stage::with_lmc:
    case Stage::with_recognition_center:
    case Stage::rejected_by_center:
    case Stage::confirmed:
      return true;
    default:
      return false;
  }
}

std::variant<Decision, Rejection> decide(const Application* current, const Input& input,
                                         Instant now, const Context& context) {
  // Every input but a new application is about an application the adapter knows.
  if (current == nullptr && !std::holds_alternative<Submitted>(input)) {
    return Rejection{Reason::domain_unknown_subject,
                     "the input is about an application or voucher this adapter has not seen"};
  }
  return std::visit(Decider(current, now, context), input);
}

}  // namespace nqs::domain
