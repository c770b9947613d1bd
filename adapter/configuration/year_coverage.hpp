#pragma once
// Whether the configuration carries what a year needs: its working-day calendar (deadlines count
// working days, Rules 380 art. 7 to 15) and its MCI (domain.mci: the reimbursement caps of art. 14
// in MCI of the act's year). Both are published in the autumn before the year (the Government's
// decree moving days off, the budget law), so the coming year's are expected from 1 November:
// missing then, they are said every day (log, /readyz detail, check-config) without failing;
// missing on a day of their own year, the daemon is not ready.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "calendar/working_calendar.hpp"

namespace nqs::configuration {

struct YearCoverage {
  int year = 0;                           // today's
  std::vector<std::string> missing;       // of today's year: its calendar file, its MCI
  std::vector<std::string> next_missing;  // of the coming year
  bool next_expected = false;             // today is 1 November or later

  [[nodiscard]] bool ready() const { return missing.empty(); }
  [[nodiscard]] bool next_configured() const { return next_missing.empty(); }
  // One line: what today's year and the coming one have, and what to add.
  [[nodiscard]] std::string describe() const;
  // What an operator must be told now: today's year incomplete, or the coming year's expected
  // and incomplete; nothing otherwise.
  [[nodiscard]] std::optional<std::string> warning() const;
};

YearCoverage year_coverage(const calendar::WorkingCalendar& calendar,
                           const std::map<int, std::int64_t>& mci, calendar::Date today);

}  // namespace nqs::configuration
