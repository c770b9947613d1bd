#include "log/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <sstream>

namespace nqs::log {
namespace {

// Routes the default logger into a string for one test.
class CapturedLog {
 public:
  explicit CapturedLog(log::LogFormat format) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_formatter(make_formatter(format));
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST(Logging, JsonLinesAreValidJsonWithFieldsAndEscaping) {
  CapturedLog captured(log::LogFormat::json);
  info("input \"rejected\"\nsecond line",
       {{"messageId", "m-1"}, {"latencyMs", 12}, {"level", "x"}});
  const auto text = captured.text();
  ASSERT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line per entry";
  const auto line = boost::json::parse(text).as_object();
  EXPECT_EQ(line.at("message").as_string(), "input \"rejected\"\nsecond line");
  EXPECT_EQ(line.at("level").as_string(), "info");  // a field cannot overwrite the fixed keys
  EXPECT_EQ(line.at("messageId").as_string(), "m-1");
  EXPECT_EQ(line.at("latencyMs").as_int64(), 12);
  EXPECT_EQ(line.at("time").as_string().size(), std::string("2026-01-01T00:00:00.000Z").size());
}

TEST(Logging, TextLinesCarryFieldsAsKeyValue) {
  CapturedLog captured(log::LogFormat::text);
  warn("calendar runs out", {{"today", "2027-12-20"}, {"covered", "2023-2027"}, {"note", "a b"}});
  const auto text = captured.text();
  EXPECT_NE(text.find(" warn calendar runs out today=2027-12-20 covered=2023-2027 note=\"a b\"\n"),
            std::string::npos)
      << text;
}

TEST(Logging, LevelsParse) {
  EXPECT_EQ(parse_level("debug"), spdlog::level::debug);
  EXPECT_EQ(parse_level("error"), spdlog::level::err);
  EXPECT_EQ(parse_level("info"), spdlog::level::info);
}

}  // namespace
}  // namespace nqs::log
