#include "common/tar.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>

namespace nqs::tar {
namespace {

constexpr std::size_t kBlock = 512;
using Block = std::array<char, kBlock>;

// ustar header field offsets and sizes (POSIX.1-1988).
struct Field {
  std::size_t at;
  std::size_t size;
};
constexpr Field kName{0, 100}, kMode{100, 8}, kUid{108, 8}, kGid{116, 8}, kSize{124, 12},
    kMtime{136, 12}, kChecksum{148, 8}, kType{156, 1}, kMagic{257, 6}, kVersion{263, 2};

void put_octal(Block& block, Field field, std::uint64_t value) {
  // Zero-padded octal, NUL-terminated, as tar writes it.
  const auto text = fmt::format("{:0{}o}", value, field.size - 1);
  std::copy(text.begin(), text.end(), block.begin() + static_cast<std::ptrdiff_t>(field.at));
}

std::uint64_t checksum(const Block& block) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    const bool in_field = i >= kChecksum.at && i < kChecksum.at + kChecksum.size;
    sum += in_field ? static_cast<unsigned char>(' ') : static_cast<unsigned char>(block[i]);
  }
  return sum;
}

std::optional<std::uint64_t> read_octal(const Block& block, Field field) {
  std::string_view text(block.data() + field.at, field.size);
  const auto begin = text.find_first_not_of(' ');
  if (begin == std::string_view::npos) return std::nullopt;
  text.remove_prefix(begin);
  text = text.substr(0, text.find_first_of(std::string_view(" \0", 2)));
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::size_t padding(std::size_t size) {
  return (kBlock - size % kBlock) % kBlock;
}

}  // namespace

Result<void> Writer::add(std::string_view name, std::string_view bytes,
                         std::int64_t mtime_seconds) {
  if (name.empty() || name.size() > kName.size)
    return make_error(fmt::format("'{}' cannot be a name in a tar archive", name));
  Block header{};
  std::copy(name.begin(), name.end(), header.begin());
  put_octal(header, kMode, 0644);
  put_octal(header, kUid, 0);
  put_octal(header, kGid, 0);
  put_octal(header, kSize, bytes.size());
  put_octal(header, kMtime, static_cast<std::uint64_t>(std::max<std::int64_t>(mtime_seconds, 0)));
  header[kType.at] = '0';
  std::copy_n("ustar", 6, header.begin() + static_cast<std::ptrdiff_t>(kMagic.at));
  std::copy_n("00", 2, header.begin() + static_cast<std::ptrdiff_t>(kVersion.at));
  const auto sum = fmt::format("{:06o}", checksum(header));
  std::copy(sum.begin(), sum.end(), header.begin() + static_cast<std::ptrdiff_t>(kChecksum.at));
  header[kChecksum.at + 6] = '\0';
  header[kChecksum.at + 7] = ' ';
  out_.write(header.data(), kBlock);
  out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  const Block zeros{};
  out_.write(zeros.data(), static_cast<std::streamsize>(padding(bytes.size())));
  if (!out_) return make_error("the tar archive cannot be written");
  return outcome::success();
}

Result<void> Writer::finish() {
  const Block zeros{};
  out_.write(zeros.data(), kBlock);
  out_.write(zeros.data(), kBlock);
  out_.flush();
  if (!out_) return make_error("the tar archive cannot be written");
  return outcome::success();
}

Result<std::vector<Entry>> read(std::istream& in, std::size_t max_entry_bytes,
                                std::size_t max_entries) {
  std::vector<Entry> entries;
  for (;;) {
    Block header{};
    if (!in.read(header.data(), kBlock)) return make_error("the tar archive is cut short");
    if (std::all_of(header.begin(), header.end(), [](char c) { return c == '\0'; })) return entries;
    const auto stated = read_octal(header, kChecksum);
    if (!stated || *stated != checksum(header)) {
      return make_error(
          fmt::format("entry {}: the tar header's checksum does not hold", entries.size() + 1));
    }
    const auto size = read_octal(header, kSize);
    if (!size || *size > max_entry_bytes) {
      return make_error(fmt::format("entry {}: its size is not readable or over {} bytes",
                                    entries.size() + 1, max_entry_bytes));
    }
    if (header[kType.at] != '0' && header[kType.at] != '\0') {
      return make_error(fmt::format("entry {}: not a regular file", entries.size() + 1));
    }
    if (entries.size() == max_entries)
      return make_error(fmt::format("more than {} entries", max_entries));
    Entry entry;
    entry.name.assign(header.data(), strnlen(header.data(), kName.size));
    entry.bytes.resize(*size);
    Block skip{};
    if (!in.read(entry.bytes.data(), static_cast<std::streamsize>(*size)) ||
        !in.read(skip.data(), static_cast<std::streamsize>(padding(*size)))) {
      return make_error("the tar archive is cut short");
    }
    entries.push_back(std::move(entry));
  }
}

}  // namespace nqs::tar
