#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "calendar/working_calendar.hpp"
#include "configuration/yaml_reader.hpp"

namespace nqs::configuration {

enum class LogFormat { text, json };

struct LogSettings {
  std::string level = "info";
  LogFormat format = LogFormat::text;
};

struct CalendarSettings {
  std::string time_zone = "Asia/Almaty";
  std::vector<std::filesystem::path> files;
};

// config/adapter.yaml as read, with every relative path resolved against the file's folder.
struct Config {
  std::filesystem::path source;
  LogSettings log;
  CalendarSettings calendar;
};

// Everything the daemon loads from its configuration at start-up, checked as a whole.
struct Setup {
  Config config;
  std::shared_ptr<const calendar::WorkingCalendar> calendar;
};

// Reads config/adapter.yaml alone (no referenced files are parsed).
std::optional<Config> read_config(Reader root, Diagnostics& diagnostics);

// Reads the configuration and every file it names (calendars now; mappings, schemas and trust
// material as they come). Every problem is recorded; the result is empty if there was any.
std::optional<Setup> load_setup(const std::filesystem::path& file, Diagnostics& diagnostics);

}  // namespace nqs::configuration
