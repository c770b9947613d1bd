#pragma once

#include <spdlog/common.h>
#include <spdlog/formatter.h>

#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>

namespace nqs::yaml {
class Reader;
}

namespace nqs::log {

// Structured context of one log line: in JSON lines they are fields of the object, in text they
// follow the message as key=value.
using Fields = boost::json::object;

enum class LogFormat { text, json };

// The `log` section of the configuration.
struct LogConfig {
  std::string level = "info";
  LogFormat format = LogFormat::text;
};

// Reads the `log` section.
LogConfig read_log_config(yaml::Reader log);

// Sends logs to standard error in the configured format and level. Called once at start-up,
// before any other thread exists.
void configure(const LogConfig& settings);
// The line format of the configuration: text, or one JSON object per line.
std::unique_ptr<spdlog::formatter> make_formatter(LogFormat format);
// Parses a level name of the configuration (trace, debug, info, warn, error).
spdlog::level::level_enum parse_level(std::string_view name);

void write(spdlog::level::level_enum level, std::string_view message, const Fields& fields = {});
inline void debug(std::string_view message, const Fields& fields = {}) {
  write(spdlog::level::debug, message, fields);
}
inline void info(std::string_view message, const Fields& fields = {}) {
  write(spdlog::level::info, message, fields);
}
inline void warn(std::string_view message, const Fields& fields = {}) {
  write(spdlog::level::warn, message, fields);
}
inline void error(std::string_view message, const Fields& fields = {}) {
  write(spdlog::level::err, message, fields);
}

}  // namespace nqs::log
