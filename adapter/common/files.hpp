#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace nqs {

// The whole of a file as bytes; empty when it cannot be read (the caller says what it expected).
inline std::string read_file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace nqs
