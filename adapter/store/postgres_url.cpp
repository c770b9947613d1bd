// PostgreSQL URLs: libpq's parse and the adapter's rules on it, the connection string the driver
// is given, and which store a `store.url` names.
#include "store/postgres_url.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <charconv>

#include "common/redact.hpp"
#include "store/sql_store.hpp"

namespace nqs::store {
namespace {

Result<ConnInfo> parse_conninfo(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    return make_error(message, Failure::permanent);
  }
  ConnInfo out;
  for (const auto* option = options; option->keyword != nullptr; ++option) {
    if (option->val != nullptr) out.emplace_back(option->keyword, option->val);
  }
  PQconninfoFree(options);
  return out;
}

std::optional<std::string> value_of(const ConnInfo& info, std::string_view keyword) {
  for (const auto& [key, value] : info) {
    if (key == keyword) return value;
  }
  return std::nullopt;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    items.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

}  // namespace

Result<ConnInfo> connection_keywords(const PostgresSettings& settings) {
  BOOST_OUTCOME_TRY(auto given, parse_conninfo(settings.url));
  ConnInfo out{{"dbname", settings.url}};
  if (!value_of(given, "connect_timeout")) {
    // libpq counts whole seconds, at least 2.
    const auto seconds = std::max<std::int64_t>(
        2, std::chrono::duration_cast<std::chrono::seconds>(settings.connect_timeout).count());
    out.emplace_back("connect_timeout", std::to_string(seconds));
  }
  std::string options = value_of(given, "options").value_or("");
  if (options.find("statement_timeout") == std::string::npos) {
    options += fmt::format(" -c statement_timeout={}", settings.statement_timeout.count());
  }
  if (options.find("client_min_messages") == std::string::npos) {
    options += " -c client_min_messages=warning";
  }
  out.emplace_back("options", options);
  if (!value_of(given, "target_session_attrs"))
    out.emplace_back("target_session_attrs", "read-write");
  if (!value_of(given, "application_name")) out.emplace_back("application_name", "nqs-adapter");
  return out;
}

Result<void> check_postgres_url(const std::string& url) {
  const auto shown = redact_password(url);
  auto parsed = parse_conninfo(url);
  if (!parsed) return make_error(fmt::format("'{}': {}", shown, parsed.error().message));
  const auto& info = parsed.value();
  const auto hosts = split_commas(value_of(info, "host").value_or(""));
  if (const auto ports = value_of(info, "port")) {
    const auto each = split_commas(*ports);
    if (each.size() != 1 && each.size() != hosts.size()) {
      return make_error(fmt::format("'{}': {} ports for {} hosts (give one, or one a host)", shown,
                                    each.size(), hosts.size()));
    }
    for (const auto& port : each) {
      int number = 0;
      const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
      if (!port.empty() &&
          (ec != std::errc{} || end != port.data() + port.size() || number < 1 || number > 65535)) {
        return make_error(fmt::format("'{}': '{}' is not a port (1 to 65535)", shown, port));
      }
    }
  }
  if (const auto attributes = value_of(info, "target_session_attrs")) {
    if (*attributes != "read-write" && *attributes != "primary") {
      return make_error(fmt::format(
          "'{}': target_session_attrs={} may land on a standby, where nothing can be written "
          "(read-write or primary, the default read-write)",
          shown, *attributes));
    }
  }
  if (const auto timeout = value_of(info, "connect_timeout")) {
    int seconds = 0;
    const auto [end, ec] =
        std::from_chars(timeout->data(), timeout->data() + timeout->size(), seconds);
    if (ec != std::errc{} || end != timeout->data() + timeout->size() || seconds < 1) {
      return make_error(
          fmt::format("'{}': connect_timeout={} is not a number of seconds (or leave it to "
                      "store.connect_timeout)",
                      shown, *timeout));
    }
  }
  return outcome::success();
}

std::string PostgresSettings::redacted() const {
  return redact_password(url);
}

bool is_postgres_url(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

Result<std::unique_ptr<SqlStore>> open_store(const std::string& url, const SqliteSettings& sqlite,
                                             PostgresSettings postgres) {
  if (!is_postgres_url(url)) return open_sqlite(sqlite);
  postgres.url = url;
  return open_postgres(postgres);
}

}  // namespace nqs::store
