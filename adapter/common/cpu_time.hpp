#pragma once

#include <time.h>

#include <chrono>

namespace nqs {

// The CPU time the calling thread has used so far: what one input costs on the worker thread
// that processes it, whatever else the machine is doing.
inline std::chrono::nanoseconds thread_cpu_time() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return std::chrono::seconds{now.tv_sec} + std::chrono::nanoseconds{now.tv_nsec};
}

}  // namespace nqs
