#include "store/store_config.hpp"

#include <fmt/format.h>

#include "common/environment.hpp"

namespace nqs::store {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using yaml::Reader;

void read_store_config(Reader store, StoreConfig& out) {
  auto url_field = store.field("url");
  out.url = store.text("url", "sqlite:../var/nqs-adapter.sqlite");
  if (auto url = from_environment("NQS_STORE_URL")) out.url = *url;
  out.busy_timeout = store.duration("busy_timeout", milliseconds{0}, minutes{5}, out.busy_timeout);
  out.sqlite_cache_mib = store.integer("sqlite_cache_mib", 1, 16384, out.sqlite_cache_mib);
  out.connect_timeout =
      store.duration("connect_timeout", seconds{2}, minutes{5}, out.connect_timeout);
  out.statement_timeout =
      store.duration("statement_timeout", seconds{1}, minutes{60}, out.statement_timeout);
  store.finish();
  constexpr std::string_view kSqlite = "sqlite:";
  if (out.url.starts_with(kSqlite) && out.url.size() > kSqlite.size()) {
    std::filesystem::path path(out.url.substr(kSqlite.size()));
    if (path.is_relative()) path = (store.file().parent_path() / path).lexically_normal();
    out.sqlite_path = path.string();
    return;
  }
  auto report = [&](const std::string& problem) {
    if (url_field) {
      url_field->problem(problem);
    } else {
      store.problem(problem);
    }
  };
  if (is_postgres_url(out.url)) {
    // libpq's own parser (hosts, ports, options), and the adapter's rules on top of it.
    if (auto checked = check_postgres_url(out.url); !checked) report(checked.error().message);
    return;
  }
  const auto problem = fmt::format(
      "'{}' is not a store URL (sqlite:PATH, or postgresql://user@host:port/database)", out.url);
  report(problem);
}

PostgresSettings postgres_settings(const StoreConfig& store,
                                   std::function<void(const std::string&)> on_notice) {
  PostgresSettings out;
  out.url = store.url;
  out.connect_timeout = store.connect_timeout;
  out.statement_timeout = store.statement_timeout;
  out.on_notice = std::move(on_notice);
  return out;
}

}  // namespace nqs::store
