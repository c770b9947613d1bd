// The ustar archives of the evidence export: what is written reads back byte for byte (and tar
// itself lists it, in the broker test); what is damaged or not a plain file is refused, and no
// entry can make the reader take more than it allows.
#include "common/tar.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace nqs::tar {
namespace {

using ::testing::HasSubstr;

std::string archive(const std::vector<Entry>& entries) {
  std::ostringstream out;
  Writer writer(out);
  for (const auto& entry : entries)
    EXPECT_TRUE(writer.add(entry.name, entry.bytes, 1700000000).has_value());
  EXPECT_TRUE(writer.finish().has_value());
  return out.str();
}

Result<std::vector<Entry>> read_back(const std::string& bytes, std::size_t max_entry = 1 << 20,
                                     std::size_t max_entries = 100) {
  std::istringstream in(bytes);
  return read(in, max_entry, max_entries);
}

TEST(Tar, WhatIsWrittenReadsBackExactly) {
  const std::vector<Entry> entries{{"2026-03-02/records/1", std::string("<a>\0\xFF</a>", 10)},
                                   {"2026-03-02/records/2", std::string(512, 'x')},
                                   {"2026-03-02/manifest.json", ""}};
  const auto bytes = archive(entries);
  EXPECT_EQ(bytes.size() % 512, 0U);
  auto back = read_back(bytes);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  ASSERT_EQ(back.value().size(), 3U);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(back.value()[i].name, entries[i].name);
    EXPECT_EQ(back.value()[i].bytes, entries[i].bytes);
  }
  std::ostringstream out;
  Writer writer(out);
  EXPECT_FALSE(writer.add(std::string(101, 'n'), "", 0).has_value()) << "no ustar prefix used";
}

TEST(Tar, DamagedOrForeignArchivesAreRefused) {
  const auto bytes = archive({{"a", "hello"}, {"b", "world"}});
  auto header_altered = bytes;
  header_altered[0] = 'z';
  EXPECT_THAT(read_back(header_altered).error().message, HasSubstr("checksum"));
  EXPECT_THAT(read_back(bytes.substr(0, 700)).error().message, HasSubstr("cut short"));
  EXPECT_THAT(read_back(bytes, 4).error().message, HasSubstr("over 4 bytes"));
  EXPECT_THAT(read_back(bytes, 1 << 20, 1).error().message, HasSubstr("more than 1 entries"));
  // A symbolic link (type 2), its checksum made right: not a regular file.
  auto link = bytes;
  const auto old_sum = std::stoul(link.substr(148, 6), nullptr, 8);
  link[156] = '2';
  const auto new_sum = old_sum - '0' + '2';
  const auto text = fmt::format("{:06o}", new_sum);
  std::copy(text.begin(), text.end(), link.begin() + 148);
  EXPECT_THAT(read_back(link).error().message, HasSubstr("not a regular file"));
  EXPECT_THAT(read_back("").error().message, HasSubstr("cut short"));
}

}  // namespace
}  // namespace nqs::tar
