#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"

namespace nqs::ops {

// What the RabbitMQ management HTTP API says of a queue (GET /api/queues/VHOST/NAME).
struct ManagedQueue {
  std::int64_t ready = 0;
  std::int64_t unacked = 0;
  std::int64_t consumers = 0;
};

// `url`: http://user:password@host:port (ops.management_url; plain HTTP, meant for loopback or a
// protected network). A blocking GET with a 5-second deadline.
Result<ManagedQueue> managed_queue(const std::string& url, const std::string& vhost,
                                   const std::string& queue);

}  // namespace nqs::ops
