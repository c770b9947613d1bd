#include "calendar/calendar_files.hpp"

#include <fmt/format.h>

#include <map>
#include <regex>

namespace nqs::calendar {
namespace {

using yaml::Diagnostics;
using yaml::Reader;

// Where an entry was written, for problems found later when the year is laid out.
std::string where(const Reader& entry) {
  return fmt::format("{}: {}", entry.file().string(), entry.path());
}

class YearFileReader {
 public:
  explicit YearFileReader(int year) : year_(year) {}

  // A date of this year, not listed before in the file.
  std::optional<Date> day_of_year(Reader entry, std::string_view key) {
    auto field = entry.required(key);
    if (!field) return std::nullopt;
    auto ymd = field->as_date();
    if (!ymd) return std::nullopt;
    if (static_cast<int>(ymd->year()) != year_) {
      field->problem(
          fmt::format("{} is outside the file's year {}", to_string(date::sys_days{*ymd}), year_));
      return std::nullopt;
    }
    const Date day{*ymd};
    const auto [it, inserted] = first_mention_.emplace(day, field->path());
    if (!inserted) {
      field->problem(fmt::format("{} is already listed at {}", to_string(day), it->second));
      return std::nullopt;
    }
    return day;
  }

  std::vector<NamedDay> named_days(Reader& root, std::string_view key) {
    std::vector<NamedDay> out;
    for (auto entry : root.list(key)) {
      auto day = day_of_year(entry, "date");
      auto name = entry.required("name");
      auto name_text = name ? name->as_text() : std::nullopt;
      const bool provisional = entry.flag("provisional", false);
      entry.finish();
      if (day && name_text) out.push_back(NamedDay{*day, *name_text, provisional, where(entry)});
    }
    return out;
  }

  std::vector<Transfer> transfers(Reader& root) {
    std::vector<Transfer> out;
    for (auto entry : root.list("transfers")) {
      auto day_off = day_of_year(entry, "day_off");
      auto worked_on = day_of_year(entry, "worked_on");
      auto basis = entry.required("basis");
      auto basis_text = basis ? basis->as_text() : std::nullopt;
      entry.finish();
      if (day_off && worked_on && basis_text) {
        out.push_back(Transfer{*day_off, *worked_on, *basis_text, where(entry)});
      }
    }
    return out;
  }

 private:
  int year_;
  std::map<Date, std::string> first_mention_;
};

}  // namespace

std::optional<YearRules> read_year_rules(Reader root, Diagnostics& diagnostics) {
  const auto problems_before = diagnostics.problems().size();
  if (root.is_null()) {
    root.problem("the calendar file is empty");
    return std::nullopt;
  }
  auto year_field = root.required("year");
  const auto year = year_field ? year_field->as_integer(2000, 2100) : std::nullopt;
  if (!year) {
    root.list("public_holidays");
    root.list("religious_days_off");
    root.list("transfers");
    root.finish();
    return std::nullopt;
  }
  // kz-2025.yaml must hold 2025: a copied file with its year left unchanged is a likely mistake.
  static const std::regex kYearInName(R"(^[a-z]+-(\d{4})\.ya?ml$)");
  std::smatch match;
  const std::string name = root.file().filename().string();
  if (std::regex_match(name, match, kYearInName) && std::stoi(match[1]) != *year) {
    year_field->problem(
        fmt::format("{} does not match the year {} in the file name", *year, match[1].str()));
  }

  YearRules rules;
  rules.year = static_cast<int>(*year);
  rules.source = root.file().string();
  YearFileReader reader(rules.year);
  rules.public_holidays = reader.named_days(root, "public_holidays");
  rules.religious_days_off = reader.named_days(root, "religious_days_off");
  rules.transfers = reader.transfers(root);
  root.finish();
  if (diagnostics.problems().size() != problems_before) return std::nullopt;
  return rules;
}

const date::time_zone* find_time_zone(const std::string& name, std::string& problem) {
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(name);
  } catch (const std::exception& e) {
    problem =
        fmt::format("unknown time zone '{}' ({}); install the tzdata package", name, e.what());
    return nullptr;
  }
  if (name == "Asia/Almaty") {
    using namespace std::chrono_literals;
    const auto after_change = date::sys_days{date::year{2024} / 3 / 1} + 12h;
    if (zone->get_info(after_change).offset != 5h) {
      problem =
          "the tz database predates tzdata 2024a: it does not know that Asia/Almaty moved "
          "to UTC+5 on 2024-03-01; update the tzdata package";
      return nullptr;
    }
  }
  return zone;
}

std::optional<WorkingCalendar> load_calendar(const std::vector<std::filesystem::path>& files,
                                             const date::time_zone& zone,
                                             Diagnostics& diagnostics) {
  std::vector<YearRules> years;
  bool complete = true;
  for (const auto& file : files) {
    auto root = Reader::open(file, diagnostics);
    auto rules = root ? read_year_rules(*root, diagnostics) : std::nullopt;
    if (rules) {
      years.push_back(std::move(*rules));
    } else {
      complete = false;
    }
  }
  // A broken file is already reported; the others are still laid out so that their own problems
  // are reported in the same run.
  if (years.empty() && !complete) return std::nullopt;
  auto calendar = WorkingCalendar::build(std::move(years), zone, diagnostics);
  if (!complete) return std::nullopt;
  return calendar;
}

void read_calendar_config(yaml::Reader calendar, CalendarConfig& out) {
  out.time_zone = calendar.text("time_zone", out.time_zone);
  if (auto zone_field = calendar.field("time_zone")) {
    std::string problem;
    if (find_time_zone(out.time_zone, problem) == nullptr) zone_field->problem(problem);
  }
  out.files = yaml::existing_files(calendar, "files", "list at least one calendar file");
  calendar.finish();
}

}  // namespace nqs::calendar
