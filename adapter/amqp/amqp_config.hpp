#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "amqp/names.hpp"
#include "amqp/url.hpp"
#include "common/result.hpp"
#include "yaml/reader.hpp"

namespace nqs::amqp {

// The `amqp` section of the configuration.
struct AmqpTlsConfig {
  std::filesystem::path ca_file;  // empty: the system's CAs
  std::filesystem::path certificate;
  std::filesystem::path key;
  bool verify_hostname = true;
};

// The queue and exchange names are amqp::Names, which it extends.
struct AmqpConfig : amqp::Names {
  // One URL, or the nodes of one cluster (same scheme, credentials and vhost), checked by
  // amqp::parse_amqp_urls when read.
  std::vector<std::string> urls{"amqp://guest:guest@127.0.0.1:5672/"};
  AmqpTlsConfig tls;
  std::chrono::milliseconds heartbeat{60000};
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds reconnect_initial_delay{500};
  std::chrono::milliseconds reconnect_max_delay{30000};
  std::int64_t prefetch = kDefaultPrefetch;
  std::int64_t max_header_bytes = 32768;
  std::int64_t delivery_limit = 20;
};

// Reads the `amqp` section; NQS_AMQP_URL overrides amqp.url.
void read_amqp_config(yaml::Reader amqp, AmqpConfig& out);

// The broker nodes of amqp.urls with the connection settings of the section (already checked
// when it was read).
Result<std::vector<amqp::ConnectionSettings>> broker_nodes(const AmqpConfig& amqp);

}  // namespace nqs::amqp
