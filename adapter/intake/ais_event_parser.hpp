#pragma once

#include <cstddef>
#include <string_view>
#include <variant>

#include "common/reason.hpp"
#include "domain/ais_events.hpp"

namespace nqs::intake {

// The largest AIS event read; the daemon's consumer does not even read a larger body.
inline constexpr std::size_t kMaxAisEventBytes = 256 * 1024;

// Parses one AIS event strictly: every field of its type and format, nothing missing, nothing
// unknown, no duplicate key. A body that is not such an event is json.invalid (what is wrong,
// where); an IIN with a wrong check digit is domain.invalid_identifier.
std::variant<domain::AisEvent, Rejection> parse_ais_event(
    std::string_view body, std::size_t max_bytes = kMaxAisEventBytes);

}  // namespace nqs::intake
