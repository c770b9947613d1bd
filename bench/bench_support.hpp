#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "amqp/url.hpp"
#include "broker_support.hpp"
#include "test_support.hpp"

namespace nqs::test {

// A benchmark setting from the environment variable `name`, if set: an integer from `low` to
// `high` (the range the daemon's key accepts), or the benchmark stops with status 2.
inline std::optional<long> bench_setting(const char* name, long low, long high) {
  const char* text = std::getenv(name);
  if (text == nullptr) return std::nullopt;
  const long value = std::strtol(text, nullptr, 10);
  if (value < low || value > high) {
    std::fprintf(stderr, "%s: '%s' is not %ld to %ld\n", name, text, low, high);
    std::exit(2);
  }
  return value;
}

// The prefetch the benchmarks give the daemon and the null relay alike: NQS_BENCH_PREFETCH
// (what amqp.prefetch accepts; 0 would be no limit for the null relay alone), or the daemon's
// default.
inline std::uint16_t bench_prefetch() {
  return static_cast<std::uint16_t>(
      bench_setting("NQS_BENCH_PREFETCH", 1, 65535).value_or(amqp::kDefaultPrefetch));
}

// store.sqlite_cache_mib for the benchmark's daemon from NQS_BENCH_SQLITE_CACHE_MIB, to compare
// page caches; without it the key is left out and the daemon's default holds.
inline std::string bench_store_cache() {
  const auto mib = bench_setting("NQS_BENCH_SQLITE_CACHE_MIB", 1, 16384);
  return mib ? fmt::format(", sqlite_cache_mib: {}", *mib) : "";
}

// The daemon's configuration for the benchmarks: warnings only, the application mapping, the
// test PKI, the benchmark broker's vhost, a SQLite store in `dir`; the operations endpoints on
// `ops_port` if given (else the default). Written as `name`.yaml. With `gost`, as NCA issues keys
// now: both hierarchies trusted (RSA and GOST, as in production) and the adapter signing with its
// GOST 34.10-2015/512 key.
inline std::filesystem::path bench_config(const TempDir& dir, const std::string& name,
                                          const std::string& amqp_url,
                                          const std::filesystem::path& store, int ops_port = 0,
                                          bool gost = false) {
  std::string calendar;
  for (int year = 2023; year <= 2027; ++year) {
    calendar += fmt::format("    - {}\n",
                            source_path(fmt::format("config/calendar/kz-{}.yaml", year)).string());
  }
  const std::string pki = NQS_TEST_PKI_DIR;
  return dir.write(
      name + ".yaml",
      fmt::format(
          R"(log: {{level: warn}}
calendar:
  files:
{}intake:
  envelope_schema: {}
  mappings: [{}]
{}domain: {{mci: {{2025: 3932}}}}
signing: {}
outbound: {{mappings: [{}]}}
amqp: {{url: '{}', prefetch: {}}}
store: {{url: 'sqlite:{}'{}}}
{})",
          calendar, source_path("xsd/envelope.xsd").string(),
          source_path("mappings/voucher-application.yaml").string(), trust_section(pki, gost),
          signing_value(pki, gost), outbound_mappings(), amqp_url, bench_prefetch(), store.string(),
          bench_store_cache(),
          ops_port > 0 ? fmt::format("ops: {{listen: '127.0.0.1:{}'}}\n", ops_port) : ""));
}

}  // namespace nqs::test
