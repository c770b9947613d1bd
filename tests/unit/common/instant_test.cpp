#include "common/instant.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace nqs
