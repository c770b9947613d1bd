#include "mapping/amounts.hpp"

#include <cstddef>

namespace nqs::mapping {

std::optional<std::int64_t> parse_money_tiyn(std::string_view text) {
  std::int64_t tenge = 0;
  std::int64_t tiyn = 0;
  std::size_t fraction_digits = 0;
  bool in_fraction = false;
  std::size_t whole_digits = 0;
  for (char c : text) {
    if (c == '.') {
      if (in_fraction || whole_digits == 0) return std::nullopt;
      in_fraction = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    if (in_fraction) {
      if (++fraction_digits > 2) return std::nullopt;
      tiyn = tiyn * 10 + (c - '0');
    } else {
      if (++whole_digits > 15) return std::nullopt;
      tenge = tenge * 10 + (c - '0');
    }
  }
  if (whole_digits == 0 || (in_fraction && fraction_digits == 0)) return std::nullopt;
  if (fraction_digits == 1) tiyn *= 10;
  return tenge * 100 + tiyn;
}

std::optional<std::int64_t> parse_thousandths(std::string_view text) {
  std::int64_t whole = 0;
  std::int64_t fraction = 0;
  std::size_t fraction_digits = 0;
  bool in_fraction = false;
  for (char c : text) {
    if (c == '.') {
      if (in_fraction) return std::nullopt;
      in_fraction = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    if (in_fraction) {
      if (++fraction_digits > 3) return std::nullopt;
      fraction = fraction * 10 + (c - '0');
    } else {
      whole = whole * 10 + (c - '0');
      if (whole > 1'000'000'000'000) return std::nullopt;
    }
  }
  while (fraction_digits++ < 3)
    fraction *= 10;
  return whole * 1000 + fraction;
}

}  // namespace nqs::mapping
