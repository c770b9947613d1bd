#include <fmt/format.h>

#include "domain/lifecycle_internal.hpp"

// The application's decisions (Rules 380 art. 3, 8-10): submitted and checked, reviewed by the
// career center, forwarded by the LMC, decided by the recognition center, refused; refused too
// when the person received a voucher through another application.
namespace nqs::domain::detail {

Outcome Decider::operator()(const Submitted& input) {
  if (current_ != nullptr) {
    return Rejection{Reason::domain_invalid_transition,
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

Outcome Decider::operator()(const ApplicationReviewed& input) {
  if (current_->stage != Stage::with_career_center)
    return wrong_stage(*current_, "ApplicationReviewed");
  Decision decision{*current_, {}, {}, {}, 0};
  if (input.forward) {
    decision.next.stage = Stage::with_lmc;
    // Art. 14 1): the register of professions decides the cap, not the applicant.
    if (!input.profile.empty()) {
      decision.next.profile = input.profile == "social_humanitarian" ? Profile::social_humanitarian
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

Outcome Decider::operator()(const ApplicationForwarded&) {
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

Outcome Decider::operator()(const CenterDecided& input) {
  if (current_->stage != Stage::with_recognition_center)
    return wrong_stage(*current_, "RecognitionCenterDecision");
  if (input.center_bin != current_->center_bin) {
    return Rejection{Reason::signer_mismatch,
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

Outcome Decider::operator()(const ApplicationRefused& input) {
  if (current_->stage != Stage::rejected_by_center)
    return wrong_stage(*current_, "ApplicationRefused");
  Decision decision{*current_, {}, {}, {}, 0};
  decision.next.stage = Stage::refused_recognition_center;
  decision.notifications.push_back(refusal(*current_, "recognition_center", input.reasons));
  decision.quota_change = +1;
  return decision;
}

Outcome Decider::operator()(const VoucherIssuedToPerson& input) {
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

}  // namespace nqs::domain::detail
