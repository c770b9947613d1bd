#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "store/store.hpp"
#include "yaml/reader.hpp"

namespace nqs::store {

// The `store` section of the configuration.
struct StoreConfig {
  std::string url;          // sqlite:PATH or postgresql://...
  std::string sqlite_path;  // resolved against the configuration file's folder
  std::chrono::milliseconds busy_timeout{5000};
  std::int64_t sqlite_cache_mib = SqliteSettings{}.cache_mib;  // SQLite's page cache
  // PostgreSQL: how long a connection attempt to one host, and one statement, may take.
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{15000};
};

// Reads the `store` section; NQS_STORE_URL overrides store.url.
void read_store_config(yaml::Reader store, StoreConfig& out);

// The PostgreSQL settings of the store section; the server's notices go to `on_notice`.
store::PostgresSettings postgres_settings(const StoreConfig& store,
                                          std::function<void(const std::string&)> on_notice);

}  // namespace nqs::store
