#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace nqs::mapping {

// Parses tenge with at most 2 fraction digits to integer tiyn; nothing if not exact money.
std::optional<std::int64_t> parse_money_tiyn(std::string_view text);

// Quantity with at most 3 fraction digits, in thousandths.
std::optional<std::int64_t> parse_thousandths(std::string_view text);

}  // namespace nqs::mapping
