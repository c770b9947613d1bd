#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "calendar/working_calendar.hpp"
#include "yaml/reader.hpp"

namespace nqs::calendar {

// Reads one calendar file (config/calendar/kz-YYYY.yaml):
//
//   year: 2025
//   public_holidays:    [{date: 2025-03-21, name: Nauryz meirami}, ...]
//   religious_days_off: [{date: 2025-06-06, name: Kurban ait, provisional: false}, ...]
//   transfers:          [{day_off: 2025-01-03, worked_on: 2025-01-05, basis: "..."}, ...]
//
// Problems inside the file (a date outside its year, a date listed twice, unknown keys) are
// recorded in `diagnostics` and the file gives nothing.
std::optional<YearRules> read_year_rules(yaml::Reader root, yaml::Diagnostics& diagnostics);

// Finds a time zone in the tz database; for Asia/Almaty also checks that the database knows the
// change to UTC+5 of 2024-03-01 (tzdata 2024a), since an older one shifts every deadline by an
// hour.
const date::time_zone* find_time_zone(const std::string& name, std::string& problem);

// The `calendar` section of the configuration.
struct CalendarConfig {
  std::string time_zone = "Asia/Almaty";
  std::vector<std::filesystem::path> files;
};
// Reads the `calendar` section: a time zone the tz database knows, and at least one file.
void read_calendar_config(yaml::Reader calendar, CalendarConfig& out);

// Reads the files and lays out the calendar, recording every problem found.
std::optional<WorkingCalendar> load_calendar(const std::vector<std::filesystem::path>& files,
                                             const date::time_zone& zone,
                                             yaml::Diagnostics& diagnostics);

}  // namespace nqs::calendar
