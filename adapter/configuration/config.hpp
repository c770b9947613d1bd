#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "calendar/working_calendar.hpp"
#include "configuration/yaml_reader.hpp"

namespace nqs::intake {
class Intake;
}

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

struct IntakeConfig {
  std::size_t max_message_bytes = 1024 * 1024;
  bool strict_identifiers = true;
  bool require_transport_signature = false;
  std::vector<std::pair<std::string, std::string>> transport_senders;  // sender id, BIN
  std::filesystem::path envelope_schema;
  std::vector<std::filesystem::path> mappings;
};

struct TrustConfig {
  std::vector<std::filesystem::path> anchors;
  std::vector<std::filesystem::path> crls;
  std::vector<std::string> allowed_algorithms;
  std::size_t certificate_cache_size = 10000;
};

// config/adapter.yaml as read, with every relative path resolved against the file's folder.
struct Config {
  std::filesystem::path source;
  LogSettings log;
  CalendarSettings calendar;
  IntakeConfig intake;
  TrustConfig trust;
};

// Everything the daemon loads from its configuration at start-up, checked as a whole.
struct Setup {
  Config config;
  std::shared_ptr<const calendar::WorkingCalendar> calendar;
  std::shared_ptr<const intake::Intake> intake;
};

// Reads config/adapter.yaml alone (no referenced files are parsed).
std::optional<Config> read_config(Reader root, Diagnostics& diagnostics);

// Reads the configuration and every file it names: calendars, the envelope schema, the mappings
// with their schemas, the trust anchors and CRLs. Every problem is recorded; the result is empty if
// there was any.
std::optional<Setup> load_setup(const std::filesystem::path& file, Diagnostics& diagnostics);

}  // namespace nqs::configuration
