#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace nqs {

using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

// Parses an instant written YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), the xs:dateTime
// form with a mandatory offset (messages.md: "instants xs:dateTime with offset"). A fraction
// finer than a millisecond is truncated. Anything else, including a missing offset (which would
// leave the moment ambiguous), gives nothing.
std::optional<Instant> parse_instant(std::string_view text);

// Formats an instant as YYYY-MM-DDTHH:MM:SS.mmmZ.
std::string to_utc_string(Instant instant);

}  // namespace nqs
