#include "log/logging.hpp"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/instant.hpp"
#include "yaml/reader.hpp"

namespace nqs::log {
namespace {

// The fields of the line being written on this thread. Loggers here are synchronous, so the
// formatter runs inside write() on the same thread and sees them.
thread_local const Fields* current_fields = nullptr;

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    case spdlog::level::off:
    case spdlog::level::n_levels:
      break;
  }
  return "off";
}

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

std::string utc_time(spdlog::log_clock::time_point when) {
  return to_utc_string(std::chrono::time_point_cast<std::chrono::milliseconds>(when));
}

class TextFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    append(dest, utc_time(msg.time));
    append(dest, " ");
    append(dest, level_name(msg.level));
    append(dest, " ");
    append(dest, std::string_view(msg.payload.data(), msg.payload.size()));
    if (current_fields != nullptr) {
      for (const auto& field : *current_fields) {
        append(dest, " ");
        append(dest, field.key());
        append(dest, "=");
        // Strings unquoted when they are one plain word, so that grep finds them.
        if (field.value().is_string()) {
          const auto& text = field.value().get_string();
          const bool plain =
              !text.empty() && text.find_first_of(" \"=\n\t") == boost::json::string::npos;
          append(dest, plain ? std::string_view(text) : boost::json::serialize(field.value()));
        } else {
          append(dest, boost::json::serialize(field.value()));
        }
      }
    }
    append(dest, "\n");
  }
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }
};

// One JSON object per line: time, level, message, then the fields.
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    boost::json::object line;
    line["time"] = utc_time(msg.time);
    line["level"] = level_name(msg.level);
    line["message"] = std::string_view(msg.payload.data(), msg.payload.size());
    if (current_fields != nullptr) {
      for (const auto& field : *current_fields) {
        // The fixed keys are never overwritten by a field of the same name.
        if (!line.contains(field.key())) line[field.key()] = field.value();
      }
    }
    append(dest, boost::json::serialize(line));
    append(dest, "\n");
  }
  [[nodiscard]] std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

}  // namespace

spdlog::level::level_enum parse_level(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  return spdlog::level::info;
}

std::unique_ptr<spdlog::formatter> make_formatter(log::LogFormat format) {
  switch (format) {
    case log::LogFormat::json:
      return std::make_unique<JsonLineFormatter>();
    case log::LogFormat::text:
      break;
  }
  return std::make_unique<TextFormatter>();
}

void configure(const log::LogConfig& settings) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("nqs", std::move(sink));
  logger->set_formatter(make_formatter(settings.format));
  logger->set_level(parse_level(settings.level));
  // Warnings and errors reach the terminal or journal at once, not at the next buffer flush.
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

void write(spdlog::level::level_enum level, std::string_view message, const Fields& fields) {
  current_fields = fields.empty() ? nullptr : &fields;
  spdlog::default_logger_raw()->log(level, "{}", message);
  current_fields = nullptr;
}

LogConfig read_log_config(yaml::Reader log) {
  LogConfig out;
  out.level = log.choice("level", {"trace", "debug", "info", "warn", "error"}, out.level);
  out.format =
      log.choice("format", {"text", "json"}, "text") == "json" ? LogFormat::json : LogFormat::text;
  log.finish();
  return out;
}

}  // namespace nqs::log
