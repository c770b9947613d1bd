#pragma once

#include <chrono>

#include "common/instant.hpp"

namespace nqs {

// The time, injected everywhere the domain or processing needs it, so that tests move time
// instead of waiting for it.
class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual Instant now() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] Instant now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
  }
};

}  // namespace nqs
