// The YAML reader every configuration file is read with: strict dates and durations, ranges and
// flags, each problem with its file, line, column and key, and a suggestion only when it is close.
#include "yaml/reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace nqs::yaml {
namespace {

using ::testing::ElementsAre;

TEST(YamlReader, ParsesDatesStrictly) {
  EXPECT_TRUE(parse_date("2024-02-29").has_value());
  EXPECT_FALSE(parse_date("2025-02-29").has_value());
  EXPECT_FALSE(parse_date("2025-3-01").has_value());
  EXPECT_FALSE(parse_date("2025-03-01T00:00").has_value());
  EXPECT_FALSE(parse_date("+025-03-01").has_value());
}

TEST(YamlReader, ParsesDurationsWithUnits) {
  EXPECT_EQ(parse_duration("500ms"), std::chrono::milliseconds{500});
  EXPECT_EQ(parse_duration("30s"), std::chrono::seconds{30});
  EXPECT_EQ(parse_duration("5m"), std::chrono::minutes{5});
  EXPECT_EQ(parse_duration("2h"), std::chrono::hours{2});
  EXPECT_FALSE(parse_duration("30").has_value());
  EXPECT_FALSE(parse_duration("-1s").has_value());
  EXPECT_FALSE(parse_duration("1.5s").has_value());
  EXPECT_FALSE(parse_duration("99999999999h").has_value());
}

TEST(YamlReader, SuggestsOnlyCloseKeys) {
  const std::set<std::string, std::less<>> keys{"calendar", "log", "time_zone"};
  EXPECT_EQ(closest_match("calender", keys), "calendar");
  EXPECT_EQ(closest_match("timezone", keys), "time_zone");
  EXPECT_EQ(closest_match("broker", keys), "");
}

TEST(YamlReader, RangesAndFlags) {
  Diagnostics diagnostics;
  auto root = Reader::parse("a: 70000\nb: yes\nc: 10m\nd: 5\ne: true\n", "t.yaml", diagnostics);
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->integer("a", 1, 65535, 7), 7);
  EXPECT_EQ(root->flag("b", false), false);
  EXPECT_EQ(root->duration("c", std::chrono::seconds{1}, std::chrono::minutes{5},
                           std::chrono::seconds{30}),
            std::chrono::seconds{30});
  EXPECT_EQ(root->integer("d", 1, 10, 7), 5);
  EXPECT_EQ(root->flag("e", false), true);
  root->finish();
  EXPECT_THAT(diagnostics.problems(),
              ElementsAre("t.yaml:1:4: a: 70000 is out of range [1, 65535]",
                          "t.yaml:2:4: b: 'yes' is not true or false",
                          "t.yaml:3:4: c: 10m is out of range [1000ms, 300000ms]"));
}

}  // namespace
}  // namespace nqs::yaml
