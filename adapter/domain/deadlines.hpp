#pragma once

#include <chrono>
#include <optional>
#include <string>
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

// When a deadline opened at `opened` (or counted from the document's date `from_date`) is due.
Result<Instant> due_of(const DeadlineRule& rule, const calendar::WorkingCalendar& calendar,
                       Instant opened, std::optional<calendar::Date> from_date,
                       std::optional<calendar::Date> valid_until);

// The warning: at `warning_at` local time on the due day, or at once if that has passed when
// the deadline opens.
Instant warning_of(const DeadlineTable& table, const calendar::WorkingCalendar& calendar,
                   Instant due);

}  // namespace nqs::domain
