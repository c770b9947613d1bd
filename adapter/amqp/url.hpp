#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace nqs::amqp {

// Headers beyond this many bytes (amqp.max_header_bytes) are not carried: a dead letter adds its
// own and must still fit the 128 KiB frame.
inline constexpr std::size_t kMaxHeaderBytes = 32768;
// Unacknowledged deliveries the broker may send ahead, a consumer. An input holds its slot from
// its delivery until what it caused is committed and confirmed (messages.md), so the window, not
// the cores, capped the batches: with 32 (64) a burst's batches were small, and the daemon and
// the broker spent 1.5 to 2 times the CPU a document that they spend with 256 (scripts/bench.sh).
inline constexpr std::uint16_t kDefaultPrefetch = 256;

// TLS to the broker (amqps://), with rabbitmq-c's OpenSSL socket.
struct TlsSettings {
  bool enabled = false;     // the URL's scheme is amqps
  std::string ca_file;      // CAs the broker's certificate must chain to; empty: the system's
  std::string certificate;  // the client's certificate (PEM), with `key`; empty: none
  std::string key;
  bool verify_hostname = true;  // the certificate must name the host of the URL
};

// How to reach one broker node and what to ask of the connection.
struct ConnectionSettings {
  std::size_t max_header_bytes = kMaxHeaderBytes;
  std::string host = "127.0.0.1";
  int port = 5672;
  std::string vhost = "/";
  std::string user = "guest";
  std::string password = "guest";
  TlsSettings tls;
  std::chrono::seconds heartbeat{60};
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds rpc_timeout{10000};
  std::uint16_t prefetch = kDefaultPrefetch;

  // host:port, as logs and metrics name the node.
  [[nodiscard]] std::string node() const;
};

// A broker's product and version as it announces them at connection.start, e.g. RabbitMQ and
// 3.10.8.
struct ServerVersion {
  std::string product;
  std::string version;
};

// Parses one URL of RabbitMQ's URI specification: amqp[s]://user:password@host:port/vhost, the
// vhost one percent-encoded path segment ("/" when absent or empty; %2F for a vhost named "/"),
// the port 5672 (amqps: 5671) when absent. The host is a name, an IPv4 address or an IPv6 one in
// brackets; anything else (a comma-separated list of hosts, a query, a fragment) is refused with
// what to write instead. Fields not given by the URL keep `base`'s values.
Result<ConnectionSettings> parse_amqp_url(std::string_view url, ConnectionSettings base = {});

// Whether a RabbitMQ version ("3.10.8", "4.3.3") is one the adapter runs on: 3.10 and later, the
// first with at-least-once dead-lettering for quorum queues (x-dead-letter-strategy), which the
// input queues need so that no dead letter is lost. An empty or unreadable version is accepted
// (another product, or a broker that does not say).
bool supported_rabbitmq_version(std::string_view version);

// The nodes of one cluster, one URL each: all with the same scheme, credentials and vhost (the
// daemon moves between them as if they were one broker), and no node twice.
Result<std::vector<ConnectionSettings>> parse_amqp_urls(const std::vector<std::string>& urls,
                                                        const ConnectionSettings& base = {});

// The URLs of NQS_AMQP_URL: separated by commas (a comma never appears in an AMQP URL unencoded).
std::vector<std::string> split_url_list(std::string_view text);

}  // namespace nqs::amqp
