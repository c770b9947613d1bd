#pragma once

#include <fmt/format.h>

#include "calendar/calendar_files.hpp"
#include "test_support.hpp"

namespace nqs::test {

// The shipped working-day calendar (config/calendar/kz-2023..2027.yaml) in Asia/Almaty, loaded
// once per test binary.
inline const calendar::WorkingCalendar& almaty_calendar() {
  static const auto calendar = [] {
    std::string problem;
    const auto* zone = calendar::find_time_zone("Asia/Almaty", problem);
    yaml::Diagnostics diagnostics;
    std::vector<std::filesystem::path> files;
    for (int year = 2023; year <= 2027; ++year) {
      files.push_back(source_path(fmt::format("config/calendar/kz-{}.yaml", year)));
    }
    return *calendar::load_calendar(files, *zone, diagnostics);
  }();
  return calendar;
}

}  // namespace nqs::test
