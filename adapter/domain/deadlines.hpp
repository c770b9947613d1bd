#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/working_calendar.hpp"
#include "common/result.hpp"
#include "domain/stage.hpp"

namespace nqs::domain {

// One statutory deadline (domain.md; configuration `deadlines.steps`): the time an application
// may spend in some stages. It opens when the application enters them and closes when it leaves
// them; it is due at the end of the N-th working (or calendar) day after the day it opened, or
// after a date of the document that opened it (`from`), or, for the voucher, at the end of its
// last valid day (`until: valid_until`).
struct DeadlineRule {
  std::string step;         // used in routing keys: sla.warning.<step>, sla.breached.<step>
  std::string responsible;  // career_center, lmc, recognition_center, holder, ...
  std::vector<Stage> stages;
  int working_days = 0;
  int calendar_days = 0;
  bool until_valid = false;
  std::string from;  // a date field of the opening document (e.g. protocolSignedOn)
  std::string basis;
};

struct DeadlineTable {
  std::chrono::minutes warning_at{9 * 60};  // local time of day of the warning on the due day
  std::vector<DeadlineRule> rules;
};

// The deadlines of domain.md, as shipped in config/adapter.yaml (used when the section is left
// out).
DeadlineTable statutory_deadlines();

// Whether the rule runs while an application is in `stage`.
bool covers(const DeadlineRule& rule, Stage stage);

// The deadline an application opens by entering `stage`, counted from that day (no `from` date,
// not the voucher's validity): its due date is the one the command that moves the application
// there tells the AIS (reviewDueBy, actionDueBy, extendDueBy, payDueBy), so the AIS is told the
// date the adapter enforces. The first such step of the table; null when it has none.
const DeadlineRule* deadline_on_entering(const DeadlineTable& table, Stage stage);

// The commands that tell the AIS a due date, and the stage whose deadline gives it.
struct CommandDueDate {
  std::string_view command;
  std::string_view field;
  Stage stage;
};
inline constexpr std::array<CommandDueDate, 5> kCommandDueDates{{
    {"RegisterApplication", "reviewDueBy", Stage::with_career_center},
    {"RecordCenterDecision", "actionDueBy", Stage::confirmed},
    {"RecordCenterDecision", "actionDueBy", Stage::rejected_by_center},
    {"RecordSickLeave", "extendDueBy", Stage::extension_requested},
    {"RegisterServiceAct", "payDueBy", Stage::act_received},
}};

// The due dates the AIS will not be told because the table has no step for their stage, in
// words ("RecordSickLeave carries no extendDueBy: no step of deadlines.steps opens on entering
// extension_requested"). Allowed (a table may leave a step out), but said by check-config and at
// start-up.
std::vector<std::string> due_dates_not_sent(const DeadlineTable& table);

// When a deadline opened at `opened` (or counted from the document's date `from_date`) is due.
Result<Instant> due_of(const DeadlineRule& rule, const calendar::WorkingCalendar& calendar,
                       Instant opened, std::optional<calendar::Date> from_date,
                       std::optional<calendar::Date> valid_until);

// The warning: at `warning_at` local time on the due day, or at once if that has passed when
// the deadline opens.
Instant warning_of(const DeadlineTable& table, const calendar::WorkingCalendar& calendar,
                   Instant due);

}  // namespace nqs::domain
