#include "common/instant.hpp"

#include <date/date.h>
#include <gtest/gtest.h>

#include <vector>

namespace nqs {
namespace {

std::string parsed(std::string_view text) {
  auto value = parse_instant(text);
  return value ? to_utc_string(*value) : "invalid";
}

TEST(ParseInstant, AcceptsXsDateTimeWithAnOffset) {
  EXPECT_EQ(parsed("2025-09-01T10:15:00+05:00"), "2025-09-01T05:15:00.000Z");
  EXPECT_EQ(parsed("2025-09-01T10:15:00Z"), "2025-09-01T10:15:00.000Z");
  EXPECT_EQ(parsed("2025-09-01T00:15:00-03:30"), "2025-09-01T03:45:00.000Z");
  EXPECT_EQ(parsed("2025-09-01T10:15:00.5+06:00"), "2025-09-01T04:15:00.500Z");
  EXPECT_EQ(parsed("2025-09-01T10:15:00.123456789Z"), "2025-09-01T10:15:00.123Z");
  EXPECT_EQ(parsed("2024-02-29T23:59:59.999+06:00"), "2024-02-29T17:59:59.999Z");
}

TEST(ParseInstant, RefusesAmbiguousOrMalformedText) {
  EXPECT_EQ(parsed("2025-09-01T10:15:00"), "invalid");  // no offset: which moment?
  EXPECT_EQ(parsed("2025-09-01 10:15:00Z"), "invalid");
  EXPECT_EQ(parsed("2025-02-29T10:15:00Z"), "invalid");
  EXPECT_EQ(parsed("2025-09-01T24:00:00Z"), "invalid");
  EXPECT_EQ(parsed("2025-09-01T10:15:60Z"), "invalid");
  EXPECT_EQ(parsed("2025-09-01T10:15:00.Z"), "invalid");
  EXPECT_EQ(parsed("2025-09-01T10:15:00+5:00"), "invalid");
  EXPECT_EQ(parsed("2025-09-01T10:15:00+15:00"), "invalid");
  EXPECT_EQ(parsed("2025-09-01T10:15:00Zjunk"), "invalid");
  EXPECT_EQ(parsed(""), "invalid");
}

// to_utc_string writes its digits itself: the same text as date::format's %FT%TZ, from the
// first instant of year 0 to the last of 9999, before 1970 and on leap days included.
TEST(ToUtcString, WritesWhatDateFormatWrites) {
  using std::chrono::milliseconds;
  const std::vector<Instant> instants{
      Instant{},
      Instant{milliseconds{-1}},
      date::sys_days{date::year{0} / 1 / 1},
      date::sys_days{date::year{1} / 1 / 1} + milliseconds{7},
      date::sys_days{date::year{1969} / 12 / 31} + milliseconds{86'399'999},
      date::sys_days{date::year{2024} / 2 / 29} + milliseconds{45'296'789},
      date::sys_days{date::year{2026} / 12 / 4} + milliseconds{3'600'000},
      date::sys_days{date::year{9999} / 12 / 31} + milliseconds{86'399'999},
      date::sys_days{date::year{10000} / 1 / 1},
      date::sys_days{date::year{-1} / 12 / 31},
  };
  for (const auto& instant : instants)
    EXPECT_EQ(to_utc_string(instant), date::format("%FT%TZ", instant));
  EXPECT_EQ(to_utc_string(date::sys_days{date::year{2025} / 9 / 1} + milliseconds{36'900'500}),
            "2025-09-01T10:15:00.500Z");
}

}  // namespace
}  // namespace nqs
