#include <fmt/format.h>

#include <algorithm>

#include "domain/lifecycle_internal.hpp"

// The voucher's validity (Rules 380 art. 10-13): issued and delivered, extended by sick leaves,
// annulled when unused at the end of its validity and the grace.
namespace nqs::domain::detail {
namespace {

std::vector<SickLeave> with(std::vector<SickLeave> sheets, const SickLeave& more) {
  sheets.push_back(more);
  return sheets;
}

NotificationOut delivered(const Application& application) {
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

}  // namespace

Outcome Decider::operator()(const VoucherIssued& input) {
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

Outcome Decider::operator()(const SickLeaveSubmitted& input) {
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
  application.pending_sick_leaves.back().received_at = now_;
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

Outcome Decider::operator()(const VoucherExtended& input) {
  // While waiting for it, or after the exam that came meanwhile; not after an annulment.
  const auto stage = current_->stage;
  if (stage != Stage::extension_requested && stage != Stage::used && stage != Stage::act_received &&
      stage != Stage::paid) {
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

Outcome Decider::operator()(const VoucherExpired&) {
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

// The end of the annulment grace after a last valid day (audit point 6).
Result<Instant> Decider::annulment_of(calendar::Date last_valid_day) const {
  auto day = context_.calendar.working_days_after(last_valid_day, context_.policy.annulment_grace);
  if (!day) {
    return make_error(fmt::format("the annulment of a voucher valid until {} cannot be dated: {}",
                                  calendar::to_string(last_valid_day), day.error().message));
  }
  return context_.calendar.end_of_local_day(day.value());
}

// Sets the annulment timer of the decided application to the end of its counted validity and
// the grace; a problem if the calendar cannot date it.
std::optional<Rejection> Decider::annul_later(Decision& decision) const {
  auto at = annulment_of(counted_validity(decision.next));
  if (!at) return Rejection{Reason::domain_inconsistent, at.error().message};
  decision.timers.push_back({TimerKind::voucher_expiry, at.value()});
  return std::nullopt;
}

}  // namespace nqs::domain::detail
