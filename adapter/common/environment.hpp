#pragma once

#include <cstdlib>
#include <optional>
#include <string>

namespace nqs {

// An environment variable that overrides a key (architecture.md: NQS_AMQP_URL, NQS_STORE_URL).
inline std::optional<std::string> from_environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

}  // namespace nqs
