#pragma once

#include <cstddef>
#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

// POSIX ustar archives of regular files (what `tar -tf` and `tar -xf` read): the evidence
// archive's export writes one a day (issue 18), and `evidence verify` reads it back.
namespace nqs::tar {

// Writes entries one after the other; finish() writes the end-of-archive blocks.
class Writer {
 public:
  explicit Writer(std::ostream& out) : out_(out) {}
  // `name` at most 100 bytes (no prefix field is used).
  Result<void> add(std::string_view name, std::string_view bytes, std::int64_t mtime_seconds);
  Result<void> finish();

 private:
  std::ostream& out_;
};

struct Entry {
  std::string name;
  std::string bytes;
};

// The regular files of an archive, in order; refused: a header whose checksum does not hold,
// another type than a regular file, an entry over `max_entry_bytes`, more than `max_entries`, or
// an archive cut short.
Result<std::vector<Entry>> read(std::istream& in, std::size_t max_entry_bytes,
                                std::size_t max_entries);

}  // namespace nqs::tar
