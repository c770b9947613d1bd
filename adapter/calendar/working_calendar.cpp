#include "calendar/working_calendar.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "yaml/reader.hpp"

namespace nqs::calendar {
namespace {

using date::days;

constexpr const char* kWeekdayNames[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};

bool is_weekend(Date day) {
  const date::weekday wd{day};
  return wd == date::Saturday || wd == date::Sunday;
}

std::string weekday_name(Date day) {
  return kWeekdayNames[date::weekday{day}.c_encoding()];
}

int year_of(Date day) {
  return static_cast<int>(date::year_month_day{day}.year());
}

Date first_day(int year) {
  return date::year{year} / date::January / 1;
}

std::string label(const NamedDay& named) {
  return named.provisional ? named.name + ", provisional" : named.name;
}

// One year's days while they are laid out.
struct YearLayout {
  explicit YearLayout(int year)
      : first(first_day(year)),
        last(first_day(year + 1)),
        statuses(static_cast<std::size_t>((last - first).count())),
        plain_weekend(statuses.size(), false) {}

  [[nodiscard]] std::size_t index(Date day) const {
    return static_cast<std::size_t>((day - first).count());
  }
  DayStatus& at(Date day) { return statuses[index(day)]; }
  [[nodiscard]] bool in_year(Date day) const { return day >= first && day < last; }

  Date first;
  Date last;
  std::vector<DayStatus> statuses;
  // Whether each day is still a plain weekend day (not a holiday that fell on it).
  std::vector<bool> plain_weekend;
};

// A public holiday on a Saturday or Sunday moves to the next working day that is not itself a
// holiday, a religious day off or a day another holiday already moved to; taking holidays in
// date order moves a run such as Nauryz (21-23 March) as a whole.
void move_weekend_holidays(std::vector<const NamedDay*> holidays, YearLayout& year,
                           yaml::Diagnostics& diagnostics) {
  std::sort(holidays.begin(), holidays.end(),
            [](const NamedDay* a, const NamedDay* b) { return a->day < b->day; });
  for (const NamedDay* holiday : holidays) {
    if (!is_weekend(holiday->day)) continue;
    Date target = holiday->day + days{1};
    while (year.in_year(target) && !year.at(target).working)
      target += days{1};
    if (!year.in_year(target)) {
      diagnostics.add(fmt::format(
          "{}: {} falls on a weekend and would move into the next year; write the move as a "
          "transfer instead",
          holiday->where, to_string(holiday->day)));
      continue;
    }
    year.at(holiday->day).why +=
        fmt::format(" (on a {}; moved to {})", weekday_name(holiday->day), to_string(target));
    year.at(target) =
        DayStatus{false, fmt::format("day off moved from {} {} ({})", weekday_name(holiday->day),
                                     to_string(holiday->day), label(*holiday))};
  }
}

// Decreed transfers: a working weekday becomes a day off and a weekend day is worked instead.
void apply_transfers(const std::vector<Transfer>& transfers, YearLayout& year,
                     yaml::Diagnostics& diagnostics) {
  for (const auto& transfer : transfers) {
    if (!year.in_year(transfer.day_off) || !year.in_year(transfer.worked_on)) continue;
    bool sensible = true;
    if (!year.at(transfer.day_off).working) {
      diagnostics.add(fmt::format("{}.day_off: {} is already a day off ({})", transfer.where,
                                  to_string(transfer.day_off), year.at(transfer.day_off).why));
      sensible = false;
    }
    if (year.at(transfer.worked_on).working) {
      diagnostics.add(fmt::format("{}.worked_on: {} is already a working day", transfer.where,
                                  to_string(transfer.worked_on)));
      sensible = false;
    } else if (!year.plain_weekend[year.index(transfer.worked_on)]) {
      diagnostics.add(
          fmt::format("{}.worked_on: {} is a {} ({}); only a plain weekend day can be "
                      "worked in exchange for a day off",
                      transfer.where, to_string(transfer.worked_on),
                      weekday_name(transfer.worked_on), year.at(transfer.worked_on).why));
      sensible = false;
    }
    if (!sensible) continue;
    year.at(transfer.day_off) = DayStatus{
        false, fmt::format("day off transferred from {} {} ({})", weekday_name(transfer.worked_on),
                           to_string(transfer.worked_on), transfer.basis)};
    year.at(transfer.worked_on) =
        DayStatus{true, fmt::format("decreed working day in exchange for {} {} ({})",
                                    weekday_name(transfer.day_off), to_string(transfer.day_off),
                                    transfer.basis)};
  }
}

// Lays out one year: weekends, then holidays and religious days, then moves, then transfers.
// Appends the year's days to `out`, recording any problem found in `diagnostics`.
void lay_out_year(const YearRules& rules, std::vector<DayStatus>& out,
                  yaml::Diagnostics& diagnostics) {
  YearLayout year(rules.year);
  // Five-day working week: Saturday and Sunday off.
  for (Date day = year.first; day < year.last; day += days{1}) {
    if (!is_weekend(day)) continue;
    year.at(day) = DayStatus{false, fmt::format("weekend ({})", weekday_name(day))};
    year.plain_weekend[year.index(day)] = true;
  }
  // Law "On holidays", art. 5: public holidays are days off.
  std::vector<const NamedDay*> holidays;
  for (const auto& holiday : rules.public_holidays) {
    if (!year.in_year(holiday.day)) continue;  // reported when the file was read
    year.at(holiday.day) = DayStatus{false, fmt::format("public holiday: {}", label(holiday))};
    year.plain_weekend[year.index(holiday.day)] = false;
    holidays.push_back(&holiday);
  }
  // Religious days off (Orthodox Christmas, the first day of Kurban ait) are never moved.
  for (const auto& religious : rules.religious_days_off) {
    if (!year.in_year(religious.day)) continue;
    year.at(religious.day) =
        DayStatus{false, fmt::format("religious day off, never moved: {}", label(religious))};
    year.plain_weekend[year.index(religious.day)] = false;
  }
  move_weekend_holidays(std::move(holidays), year, diagnostics);
  apply_transfers(rules.transfers, year, diagnostics);
  out.insert(out.end(), std::make_move_iterator(year.statuses.begin()),
             std::make_move_iterator(year.statuses.end()));
}

}  // namespace

std::string to_string(Date day) {
  return date::format("%F", day);
}

std::string to_local_string(Instant instant, const date::time_zone& zone) {
  return date::format("%FT%T%Ez", date::make_zoned(&zone, instant));
}

std::optional<WorkingCalendar> WorkingCalendar::build(std::vector<YearRules> years,
                                                      const date::time_zone& zone,
                                                      yaml::Diagnostics& diagnostics) {
  const auto problems_before = diagnostics.problems().size();
  std::sort(years.begin(), years.end(),
            [](const YearRules& a, const YearRules& b) { return a.year < b.year; });
  for (std::size_t i = 1; i < years.size(); ++i) {
    if (years[i].year == years[i - 1].year) {
      diagnostics.add(fmt::format("{}: year {} is already given by {}", years[i].source,
                                  years[i].year, years[i - 1].source));
    }
  }
  if (years.empty()) {
    diagnostics.add("calendar: no calendar year is configured");
  }
  if (diagnostics.problems().size() != problems_before) return std::nullopt;

  const int first_year = years.front().year;
  const int last_year = years.back().year;
  const Date first = first_day(first_year);
  std::vector<Day> days_out(static_cast<std::size_t>((first_day(last_year + 1) - first).count()));
  std::vector<int> covered;
  for (const auto& rules : years) {
    std::vector<DayStatus> laid_out;
    lay_out_year(rules, laid_out, diagnostics);
    auto offset = static_cast<std::size_t>((first_day(rules.year) - first).count());
    for (auto& status : laid_out) {
      days_out[offset++] = Day{true, std::move(status)};
    }
    covered.push_back(rules.year);
  }
  if (diagnostics.problems().size() != problems_before) return std::nullopt;
  return WorkingCalendar(zone, first, std::move(days_out), std::move(covered));
}

const WorkingCalendar::Day* WorkingCalendar::find(Date day) const {
  if (day < first_) return nullptr;
  const auto index = static_cast<std::size_t>((day - first_).count());
  if (index >= days_.size() || !days_[index].covered) return nullptr;
  return &days_[index];
}

bool WorkingCalendar::covers(Date day) const {
  return find(day) != nullptr;
}

std::string WorkingCalendar::coverage() const {
  std::string out;
  for (std::size_t i = 0; i < years_.size();) {
    std::size_t j = i;
    while (j + 1 < years_.size() && years_[j + 1] == years_[j] + 1)
      ++j;
    if (!out.empty()) out += ", ";
    out += i == j ? fmt::format("{}", years_[i]) : fmt::format("{}-{}", years_[i], years_[j]);
    i = j + 1;
  }
  return out;
}

Error WorkingCalendar::not_covered(Date day) const {
  return make_error(fmt::format(
      "{} is outside the working-day calendar (years covered: {}); add config/calendar/kz-{}.yaml "
      "and list it in calendar.files",
      to_string(day), coverage(), year_of(day)));
}

Result<DayStatus> WorkingCalendar::status(Date day) const {
  const Day* found = find(day);
  if (found == nullptr) return not_covered(day);
  return found->status;
}

Result<bool> WorkingCalendar::is_working(Date day) const {
  const Day* found = find(day);
  if (found == nullptr) return not_covered(day);
  return found->status.working;
}

Result<Date> WorkingCalendar::working_days_after(Date day, int n) const {
  if (n < 0)
    return make_error(fmt::format("the number of working days must not be negative ({})", n));
  if (find(day) == nullptr) return not_covered(day);
  Date current = day;
  for (int counted = 0; counted < n;) {
    current += days{1};
    const Day* found = find(current);
    if (found == nullptr) return not_covered(current);
    if (found->status.working) ++counted;
  }
  return current;
}

Result<std::vector<std::pair<Date, DayStatus>>> WorkingCalendar::exceptions(int year) const {
  const Date first = first_day(year);
  if (find(first) == nullptr) return not_covered(first);
  std::vector<std::pair<Date, DayStatus>> out;
  for (Date day = first; day < first_day(year + 1); day += days{1}) {
    const DayStatus& status = find(day)->status;
    if (is_weekend(day) == status.working) out.emplace_back(day, status);
  }
  return out;
}

Date WorkingCalendar::local_date(Instant instant) const {
  return Date{date::floor<days>(zone_->to_local(instant)).time_since_epoch()};
}

Instant WorkingCalendar::end_of_local_day(Date day) const {
  // The first instant of the next local day, less one millisecond: right across an offset change
  // too (Almaty's midnight of 2024-03-01 came an hour later in UTC than the day before's).
  const date::local_days next_midnight{(day + days{1}).time_since_epoch()};
  const auto start_of_next = zone_->to_sys(next_midnight, date::choose::earliest);
  return std::chrono::time_point_cast<std::chrono::milliseconds>(start_of_next) -
         std::chrono::milliseconds{1};
}

std::string WorkingCalendar::local_string(Instant instant) const {
  return to_local_string(instant, *zone_);
}

Instant WorkingCalendar::at_local_time(Date day, std::chrono::minutes time_of_day) const {
  const date::local_time<std::chrono::minutes> local{day.time_since_epoch() + time_of_day};
  return std::chrono::time_point_cast<std::chrono::milliseconds>(
      zone_->to_sys(local, date::choose::earliest));
}

Result<Instant> WorkingCalendar::working_day_deadline(Date day_of_x, int n) const {
  BOOST_OUTCOME_TRY(auto due_day, working_days_after(day_of_x, n));
  return end_of_local_day(due_day);
}

Result<Instant> WorkingCalendar::calendar_day_deadline(Date day_of_x, int n) const {
  if (n < 0)
    return make_error(fmt::format("the number of calendar days must not be negative ({})", n));
  return end_of_local_day(day_of_x + days{n});
}

}  // namespace nqs::calendar
