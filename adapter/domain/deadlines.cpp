#include "domain/deadlines.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace nqs::domain {

DeadlineTable statutory_deadlines() {
  DeadlineTable table;
  table.rules = {
      {"career_center_review",
       "career_center",
       {Stage::with_career_center},
       1,
       0,
       false,
       "",
       "Rules 380 art. 8"},
      {"lmc_forwarding", "lmc", {Stage::with_lmc}, 1, 0, false, "", "Rules 380 art. 9"},
      // Not the recognition center's 3 working days of Rules 374 art. 5: they run from
      // registration at the center, which the adapter does not see (audit point 10).
      {"lmc_refusal", "lmc", {Stage::rejected_by_center}, 1, 0, false, "", "Rules 380 art. 9"},
      {"lmc_voucher_issue", "lmc", {Stage::confirmed}, 1, 0, false, "", "Rules 380 art. 10"},
      {"lmc_extension", "lmc", {Stage::extension_requested}, 1, 0, false, "", "Rules 380 art. 13"},
      {"service_act",
       "recognition_center",
       {Stage::used},
       3,
       0,
       false,
       "protocolSignedOn",
       "Rules 380 art. 16"},
      {"lmc_payment", "lmc", {Stage::act_received}, 5, 0, false, "", "Rules 380 art. 17"},
      {"voucher_validity",
       "holder",
       {Stage::voucher_active, Stage::extension_requested},
       0,
       0,
       true,
       "",
       "Rules 380 art. 10-12"},
  };
  return table;
}

bool covers(const DeadlineRule& rule, Stage stage) {
  return std::find(rule.stages.begin(), rule.stages.end(), stage) != rule.stages.end();
}

const DeadlineRule* deadline_on_entering(const DeadlineTable& table, Stage stage) {
  for (const auto& rule : table.rules) {
    if (covers(rule, stage) && !rule.until_valid && rule.from.empty()) return &rule;
  }
  return nullptr;
}

std::vector<std::string> due_dates_not_sent(const DeadlineTable& table) {
  std::vector<std::string> out;
  for (const auto& due : kCommandDueDates) {
    if (deadline_on_entering(table, due.stage) != nullptr) continue;
    out.push_back(fmt::format(
        "{} carries no {} when the application enters {}: no step of deadlines.steps counts from "
        "entering it",
        due.command, due.field, stage_name(due.stage)));
  }
  return out;
}

Result<Instant> due_of(const DeadlineRule& rule, const calendar::WorkingCalendar& calendar,
                       Instant opened, std::optional<calendar::Date> from_date,
                       std::optional<calendar::Date> valid_until) {
  if (rule.until_valid) {
    if (!valid_until) return make_error(fmt::format("{}: the voucher has no validity", rule.step));
    return calendar.end_of_local_day(*valid_until);
  }
  // "Within N days after the day of X": X is the document's date when the rule says so.
  const auto day = from_date.value_or(calendar.local_date(opened));
  if (rule.working_days > 0) return calendar.working_day_deadline(day, rule.working_days);
  return calendar.calendar_day_deadline(day, rule.calendar_days);
}

Instant warning_of(const DeadlineTable& table, const calendar::WorkingCalendar& calendar,
                   Instant due) {
  return std::min(calendar.at_local_time(calendar.local_date(due), table.warning_at), due);
}

}  // namespace nqs::domain
