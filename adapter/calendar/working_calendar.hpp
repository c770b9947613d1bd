#pragma once

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/instant.hpp"
#include "common/result.hpp"

namespace nqs::yaml {
class Diagnostics;
}

namespace nqs::calendar {

using Date = date::sys_days;
using nqs::Instant;

// One day named in a calendar file, with where it was written (for messages).
struct NamedDay {
  Date day;
  std::string name;
  bool provisional = false;
  std::string where;
};

// A decree moving a day off: `day_off` becomes a day off, `worked_on` (a weekend day) is worked.
struct Transfer {
  Date day_off;
  Date worked_on;
  std::string basis;
  std::string where;
};

// The rules of one calendar year as written in config/calendar/kz-YYYY.yaml.
struct YearRules {
  int year = 0;
  std::string source;
  std::vector<NamedDay> public_holidays;
  std::vector<NamedDay> religious_days_off;
  std::vector<Transfer> transfers;
};

struct DayStatus {
  bool working = true;
  // Empty for an ordinary working weekday; otherwise why the day is what it is.
  std::string why;
};

// Working days in Kazakhstan (domain.md "Working days in Kazakhstan"): a five-day week; public
// holidays of the Law "On holidays in the Republic of Kazakhstan" (art. 5), moved off a weekend to
// the next working day that is not itself a holiday; religious days off that never move; and the
// Government's transfers of days off. Days are local dates in the configured time zone.
//
// Only the years loaded are known: asking about any other date is an error, never "working".
class WorkingCalendar {
 public:
  // Computes every day of the given years. Problems that only show once the year is laid out (a
  // transfer whose day off is already off, a holiday moved out of its year, a year given twice)
  // are recorded in `diagnostics`; the result is then empty.
  static std::optional<WorkingCalendar> build(std::vector<YearRules> years,
                                              const date::time_zone& zone,
                                              yaml::Diagnostics& diagnostics);

  [[nodiscard]] const date::time_zone& zone() const { return *zone_; }
  [[nodiscard]] const std::vector<int>& years() const { return years_; }
  [[nodiscard]] bool covers(Date day) const;
  // "2023-2027" or "2023-2024, 2026".
  [[nodiscard]] std::string coverage() const;

  [[nodiscard]] Result<DayStatus> status(Date day) const;
  [[nodiscard]] Result<bool> is_working(Date day) const;
  // The date that is `n` working days after `day`, `day` itself not counted; n = 0 gives `day`.
  [[nodiscard]] Result<Date> working_days_after(Date day, int n) const;
  // Every non-working Monday-Friday and every working Saturday/Sunday of `year`, in date order.
  [[nodiscard]] Result<std::vector<std::pair<Date, DayStatus>>> exceptions(int year) const;

  // The local date (in the calendar's time zone) of an instant.
  [[nodiscard]] Date local_date(Instant instant) const;
  // The last millisecond of a local date, as an instant (23:59:59.999 local time).
  [[nodiscard]] Instant end_of_local_day(Date day) const;
  // "Within N working days after the day of X": the end of the N-th working day strictly after
  // the day of X (domain.md, "Deadline semantics"). N = 0 is the end of that day.
  [[nodiscard]] Result<Instant> working_day_deadline(Date day_of_x, int n) const;
  // An instant as local ISO 8601 with its offset.
  [[nodiscard]] std::string local_string(Instant instant) const;
  // The instant a local date reaches a local time of day (the earliest, if it happened twice).
  [[nodiscard]] Instant at_local_time(Date day, std::chrono::minutes time_of_day) const;
  // "N calendar days after the day of X" (Rules 380 art. 10): the end of the day of X + N.
  [[nodiscard]] Result<Instant> calendar_day_deadline(Date day_of_x, int n) const;

 private:
  struct Day {
    bool covered = false;
    DayStatus status;
  };

  WorkingCalendar(const date::time_zone& zone, Date first, std::vector<Day> days,
                  std::vector<int> years)
      : zone_(&zone), first_(first), days_(std::move(days)), years_(std::move(years)) {}
  [[nodiscard]] const Day* find(Date day) const;
  [[nodiscard]] Error not_covered(Date day) const;

  const date::time_zone* zone_;
  Date first_;
  std::vector<Day> days_;
  std::vector<int> years_;
};

// Formats a date as YYYY-MM-DD.
std::string to_string(Date day);
// Formats an instant as ISO 8601 with the local offset of `zone`, milliseconds included.
std::string to_local_string(Instant instant, const date::time_zone& zone);

}  // namespace nqs::calendar
