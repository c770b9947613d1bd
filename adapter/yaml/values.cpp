// The scalar formats of the configuration, also used for JSON inputs: dates and durations.
#include <algorithm>
#include <charconv>

#include "yaml/reader.hpp"

namespace nqs::yaml {

std::optional<date::year_month_day> parse_date(std::string_view text) {
  // Exactly YYYY-MM-DD: YAML's own timestamp forms and dates like 2025-3-1 are refused so that
  // what an operator reads in the file is what the adapter uses.
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto number = [&](std::size_t from, std::size_t length) -> std::optional<int> {
    int value = 0;
    const char* first = text.data() + from;
    const char* last = first + length;
    if (!std::all_of(first, last, [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    std::from_chars(first, last, value);
    return value;
  };
  const auto y = number(0, 4);
  const auto m = number(5, 2);
  const auto d = number(8, 2);
  if (!y || !m || !d) return std::nullopt;
  const date::year_month_day ymd{date::year{*y}, date::month{static_cast<unsigned>(*m)},
                                 date::day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return std::nullopt;
  return ymd;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::int64_t amount = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), amount);
  if (ec != std::errc{} || end == text.data() || amount < 0) return std::nullopt;
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  // Bounded so that no unit conversion below can overflow.
  if (amount > 1'000'000'000) return std::nullopt;
  if (unit == "ms") return std::chrono::milliseconds{amount};
  if (unit == "s") return std::chrono::seconds{amount};
  if (unit == "m") return std::chrono::minutes{amount};
  if (unit == "h") return std::chrono::hours{amount};
  if (unit == "d" && amount <= 100'000) return std::chrono::hours{24 * amount};
  return std::nullopt;
}

}  // namespace nqs::yaml
