#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "amqp/url.hpp"
#include "broker_support.hpp"
#include "test_support.hpp"

namespace nqs::test {

// The prefetch the benchmarks give the daemon and the null relay alike: NQS_BENCH_PREFETCH, or
// the daemon's default.
inline std::uint16_t bench_prefetch() {
  const char* text = std::getenv("NQS_BENCH_PREFETCH");
  if (text == nullptr) return amqp::kDefaultPrefetch;
  // What amqp.prefetch accepts: 1 to 65,535 (0 would be no limit for the null relay alone).
  const long value = std::strtol(text, nullptr, 10);
  if (value < 1 || value > 65535) {
    std::fprintf(stderr, "NQS_BENCH_PREFETCH: '%s' is not 1 to 65535\n", text);
    std::exit(2);
  }
  return static_cast<std::uint16_t>(value);
}

// The daemon's configuration for the benchmarks: warnings only, the application mapping, the
// test PKI, the benchmark broker's vhost, a SQLite store in `dir`; the operations endpoints on
// `ops_port` if given (else the default). Written as `name`.yaml.
inline std::filesystem::path bench_config(const TempDir& dir, const std::string& name,
                                          const std::string& amqp_url,
                                          const std::filesystem::path& store, int ops_port = 0) {
  std::string calendar;
  for (int year = 2023; year <= 2027; ++year) {
    calendar += fmt::format("    - {}\n",
                            source_path(fmt::format("config/calendar/kz-{}.yaml", year)).string());
  }
  const std::string pki = NQS_TEST_PKI_DIR;
  return dir.write(
      name + ".yaml",
      fmt::format(R"(log: {{level: warn}}
calendar:
  files:
{}intake:
  envelope_schema: {}
  mappings: [{}]
trust:
  anchors: [{}/ca-chain.pem]
  crls: [{}/root.crl.pem, {}/issuing.crl.pem]
domain: {{mci: {{2025: 3932}}}}
signing: {{key: {}/adapter-sign.key, certificate: {}/adapter-chain.pem}}
outbound: {{mappings: [{}]}}
amqp: {{url: '{}', prefetch: {}}}
store: {{url: 'sqlite:{}'}}
{})",
                  calendar, source_path("xsd/envelope.xsd").string(),
                  source_path("mappings/voucher-application.yaml").string(), pki, pki, pki, pki,
                  pki, outbound_mappings(), amqp_url, bench_prefetch(), store.string(),
                  ops_port > 0 ? fmt::format("ops: {{listen: '127.0.0.1:{}'}}\n", ops_port) : ""));
}

}  // namespace nqs::test
