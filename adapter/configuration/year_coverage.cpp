#include "configuration/year_coverage.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace nqs::configuration {
namespace {

std::vector<std::string> missing_of(const calendar::WorkingCalendar& calendar,
                                    const std::map<int, std::int64_t>& mci, int year) {
  std::vector<std::string> missing;
  const auto& years = calendar.years();
  if (std::find(years.begin(), years.end(), year) == years.end())
    missing.emplace_back(fmt::format("the calendar file (calendar.files: kz-{}.yaml)", year));
  if (!mci.contains(year)) missing.emplace_back(fmt::format("the MCI (domain.mci: {})", year));
  return missing;
}

}  // namespace

YearCoverage year_coverage(const calendar::WorkingCalendar& calendar,
                           const std::map<int, std::int64_t>& mci, calendar::Date today) {
  YearCoverage out;
  const date::year_month_day day{today};
  out.year = static_cast<int>(day.year());
  out.missing = missing_of(calendar, mci, out.year);
  out.next_missing = missing_of(calendar, mci, out.year + 1);
  out.next_expected = day.month() >= date::November;
  return out;
}

std::string YearCoverage::describe() const {
  const auto year_text = [](int of, const std::vector<std::string>& lacking) {
    return lacking.empty() ? fmt::format("{} configured", of)
                           : fmt::format("{} lacks {}", of, fmt::join(lacking, " and "));
  };
  std::string text = year_text(year, missing);
  if (!missing.empty()) text += " (not ready until it is added)";
  text += "; " + year_text(year + 1, next_missing);
  if (!next_missing.empty()) {
    text += next_expected ? fmt::format(" (add it before {}-01-01)", year + 1)
                          : fmt::format(" (expected from {}-11-01)", year);
  }
  return text;
}

std::optional<std::string> YearCoverage::warning() const {
  if (!ready() || (next_expected && !next_configured())) return describe();
  return std::nullopt;
}

}  // namespace nqs::configuration
