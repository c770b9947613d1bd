#include "configuration/config.hpp"

#include <fmt/format.h>

#include "calendar/calendar_files.hpp"

namespace nqs::configuration {

std::optional<Config> read_config(Reader root, Diagnostics& diagnostics) {
  const auto problems_before = diagnostics.problems().size();
  Config config;
  config.source = root.file();

  auto log = root.section("log");
  config.log.level = log.choice("level", {"trace", "debug", "info", "warn", "error"}, "info");
  config.log.format =
      log.choice("format", {"text", "json"}, "text") == "json" ? LogFormat::json : LogFormat::text;
  log.finish();

  auto calendar = root.section("calendar");
  config.calendar.time_zone = calendar.text("time_zone", config.calendar.time_zone);
  if (auto zone_field = calendar.field("time_zone")) {
    std::string problem;
    if (calendar::find_time_zone(config.calendar.time_zone, problem) == nullptr) {
      zone_field->problem(problem);
    }
  }
  auto files = calendar.list("files");
  if (files.empty()) {
    auto field = calendar.required("files");
    if (field && field->is_list_or_null())
      field->problem("list at least one calendar file");
  }
  for (const auto& entry : files) {
    if (auto path = entry.as_existing_file())
      config.calendar.files.push_back(*path);
  }
  calendar.finish();

  root.finish();
  if (diagnostics.problems().size() != problems_before)
    return std::nullopt;
  return config;
}

std::optional<Setup> load_setup(const std::filesystem::path& file, Diagnostics& diagnostics) {
  auto root = Reader::open(file, diagnostics);
  if (!root)
    return std::nullopt;
  auto config = read_config(*root, diagnostics);
  if (!config)
    return std::nullopt;

  std::string problem;
  const auto* zone = calendar::find_time_zone(config->calendar.time_zone, problem);
  if (zone == nullptr) {
    diagnostics.add(fmt::format("{}: calendar.time_zone: {}", file.string(), problem));
    return std::nullopt;
  }
  auto working_calendar = calendar::load_calendar(config->calendar.files, *zone, diagnostics);
  if (!working_calendar)
    return std::nullopt;
  return Setup{std::move(*config),
               std::make_shared<const calendar::WorkingCalendar>(std::move(*working_calendar))};
}

}  // namespace nqs::configuration
