#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

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

// The system clock shifted by an offset (tests and rehearsals: configuration `clock`); the
// offset may be moved forward while the daemon runs (`nqs-adapter clock advance`).
class OffsetClock final : public Clock {
 public:
  explicit OffsetClock(std::chrono::milliseconds offset) : offset_(offset.count()) {}
  [[nodiscard]] Instant now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now()) +
           std::chrono::milliseconds{offset_.load()};
  }
  void set_offset(std::chrono::milliseconds offset) { offset_ = offset.count(); }
  [[nodiscard]] std::chrono::milliseconds offset() const {
    return std::chrono::milliseconds{offset_.load()};
  }

 private:
  std::atomic<std::int64_t> offset_;
};

}  // namespace nqs
