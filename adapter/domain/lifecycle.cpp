#include "domain/lifecycle.hpp"

#include <fmt/format.h>

#include "domain/lifecycle_internal.hpp"

namespace nqs::domain {
namespace detail {

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

Result<std::optional<Instant>> Decider::due_on_entering(Stage stage) const {
  const auto* rule = deadline_on_entering(context_.deadlines, stage);
  if (rule == nullptr) return std::optional<Instant>{};
  BOOST_OUTCOME_TRY(auto due, due_of(*rule, context_.calendar, now_, std::nullopt, std::nullopt));
  return std::optional<Instant>{due};
}

}  // namespace detail

calendar::Date counted_validity(const Application& application) {
  auto sheets = application.sick_leaves;
  sheets.insert(sheets.end(), application.pending_sick_leaves.begin(),
                application.pending_sick_leaves.end());
  return valid_until(application.issued_on.value_or(calendar::Date{}), sheets);
}

std::optional<Instant> waiting_since(const Application& application) {
  if (application.stage != Stage::extension_requested) return std::nullopt;
  std::optional<Instant> earliest;
  for (const auto& sheet : application.pending_sick_leaves) {
    if (sheet.received_at && (!earliest || *sheet.received_at < *earliest))
      earliest = sheet.received_at;
  }
  return earliest;
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
  return std::visit(detail::Decider(current, now, context), input);
}

}  // namespace nqs::domain
