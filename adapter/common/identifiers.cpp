#include "common/identifiers.hpp"

#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace nqs {
namespace {

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int digit(char c) {
  return c - '0';
}

}  // namespace

std::optional<std::string> check_iin_or_bin(std::string_view value) {
  if (value.size() != 12 || !all_digits(value)) {
    return fmt::format("'{}' is not 12 digits", value);
  }
  int sum = 0;
  for (int i = 0; i < 11; ++i)
    sum += digit(value[static_cast<std::size_t>(i)]) * (i + 1);
  int check = sum % 11;
  if (check == 10) {
    static constexpr std::array<int, 11> kSecondWeights{3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2};
    sum = 0;
    for (std::size_t i = 0; i < 11; ++i)
      sum += digit(value[i]) * kSecondWeights[i];
    check = sum % 11;
    if (check == 10) return fmt::format("'{}' has no valid check digit", value);
  }
  if (check != digit(value[11])) {
    return fmt::format("'{}' fails its check digit (expected {}, found {})", value, check,
                       value[11]);
  }
  return std::nullopt;
}

std::string with_check_digit(std::string_view first_eleven) {
  for (char digit = '0'; digit <= '9'; ++digit) {
    auto number = std::string(first_eleven) + digit;
    if (!check_iin_or_bin(number)) return number;
  }
  return {};
}

std::optional<std::string> check_iban(std::string_view value) {
  if (value.size() < 5 || value.size() > 34) {
    return fmt::format("'{}' is not an IBAN (wrong length)", value);
  }
  // Country and check digits go to the end; letters become 10..35; the number mod 97 must be 1.
  const std::string rearranged = std::string(value.substr(4)) + std::string(value.substr(0, 4));
  int remainder = 0;
  for (char c : rearranged) {
    if (c >= '0' && c <= '9') {
      remainder = (remainder * 10 + digit(c)) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      remainder = (remainder * 100 + (c - 'A' + 10)) % 97;
    } else {
      return fmt::format("'{}' is not an IBAN (character '{}')", value, c);
    }
  }
  if (remainder != 1) return fmt::format("'{}' fails the IBAN mod-97 check", value);
  return std::nullopt;
}

std::optional<std::string> check_certificate_number(std::string_view value) {
  static constexpr std::array<std::size_t, 6> kGroups{5, 8, 1, 6, 4, 8};
  std::size_t pos = 0;
  std::array<std::string_view, 6> groups;
  for (std::size_t i = 0; i < kGroups.size(); ++i) {
    if (i > 0) {
      if (pos >= value.size() || value[pos] != '-') {
        return fmt::format("'{}' is not XXXXX-XXXXXXXX-X-XXXXXX-XXXX-XXXXXXXX", value);
      }
      ++pos;
    }
    groups[i] = value.substr(pos, kGroups[i]);
    if (groups[i].size() != kGroups[i] || !all_digits(groups[i])) {
      return fmt::format("'{}' is not XXXXX-XXXXXXXX-X-XXXXXX-XXXX-XXXXXXXX", value);
    }
    pos += kGroups[i];
  }
  if (pos != value.size()) {
    return fmt::format("'{}' is not XXXXX-XXXXXXXX-X-XXXXXX-XXXX-XXXXXXXX", value);
  }
  const int level = digit(groups[2][0]);
  if (level < 1 || level > 8) {
    return fmt::format("'{}': qualification level {} is not 1 to 8", value, level);
  }
  const auto& exam = groups[3];
  const date::year_month_day exam_date{
      date::year{2000 + digit(exam[4]) * 10 + digit(exam[5])},
      date::month{static_cast<unsigned>(digit(exam[2]) * 10 + digit(exam[3]))},
      date::day{static_cast<unsigned>(digit(exam[0]) * 10 + digit(exam[1]))}};
  if (!exam_date.ok()) {
    return fmt::format("'{}': exam date {} is not a date DDMMYY", value, exam);
  }
  return std::nullopt;
}

}  // namespace nqs
