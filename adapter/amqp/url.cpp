#include "amqp/url.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "common/redact.hpp"

namespace nqs::amqp {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;  // a '%' needs two hex digits after it
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    if (high == 0 && low == 0) return std::nullopt;  // a NUL would cut the value short
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

bool is_name_character(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.' || c == '_';
}

bool is_ipv6_character(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

// Reads "host", "host:port" or "[ipv6]:port" (what follows the credentials) into settings.
Result<void> read_host_and_port(std::string_view authority, std::string_view shown,
                                ConnectionSettings& settings) {
  if (authority.find(',') != std::string_view::npos) {
    return make_error(fmt::format(
        "'{}' names several hosts in one URL; give amqp.url a list of URLs, one a node (in "
        "NQS_AMQP_URL, separated by commas)",
        shown));
  }
  std::string_view host = authority;
  std::optional<std::string_view> port_text;
  const bool ipv6 = authority.starts_with('[');
  if (ipv6) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      return make_error(fmt::format("'{}': an IPv6 address without its ']'", shown));
    }
    host = authority.substr(1, close - 1);
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) {
        return make_error(fmt::format("'{}': '{}' after the IPv6 address", shown, after));
      }
      port_text = after.substr(1);
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_ipv6_character)) {
      return make_error(fmt::format("'{}': '{}' is not an IPv6 address", shown, host));
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  }
  if (port_text) {
    int port = 0;
    const auto [end, ec] =
        std::from_chars(port_text->data(), port_text->data() + port_text->size(), port);
    if (port_text->empty() || ec != std::errc{} || end != port_text->data() + port_text->size() ||
        port < 1 || port > 65535) {
      return make_error(fmt::format("'{}': '{}' is not a port (1 to 65535)", shown, *port_text));
    }
    settings.port = port;
  }
  if (host.empty()) return make_error(fmt::format("'{}' names no host", shown));
  if (!ipv6 && !std::all_of(host.begin(), host.end(), is_name_character)) {
    return make_error(fmt::format(
        "'{}': '{}' is not a host name or address (letters, digits, '-', '.', '_')", shown, host));
  }
  settings.host = std::string(host);
  return outcome::success();
}

}  // namespace

std::string ConnectionSettings::node() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

Result<ConnectionSettings> parse_amqp_url(std::string_view url, ConnectionSettings base) {
  const auto shown = redact_password(url);
  std::string_view rest;
  if (starts_with_ignoring_case(url, "amqps://")) {
    base.tls.enabled = true;
    base.port = 5671;
    rest = url.substr(8);
  } else if (starts_with_ignoring_case(url, "amqp://")) {
    base.tls.enabled = false;
    base.port = 5672;
    rest = url.substr(7);
  } else {
    return make_error(fmt::format("'{}' is not an amqp:// or amqps:// URL", shown));
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return make_error(fmt::format(
        "'{}': a query or fragment is not read (set heartbeat, timeouts and TLS under amqp)",
        shown));
  }
  if (std::any_of(rest.begin(), rest.end(), [](char c) {
        return std::isspace(static_cast<unsigned char>(c)) != 0 ||
               std::iscntrl(static_cast<unsigned char>(c)) != 0;
      })) {
    return make_error(fmt::format("'{}': a URL has no spaces or control characters", shown));
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    const auto path = rest.substr(slash + 1);
    if (path.find('/') != std::string_view::npos) {
      return make_error(
          fmt::format("'{}': the vhost is one path segment; write a '/' inside it as %2F", shown));
    }
    const auto vhost = percent_decode(path);
    if (!vhost) return make_error(fmt::format("'{}': bad percent-encoding in the vhost", shown));
    base.vhost = vhost->empty() ? "/" : *vhost;
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const auto credentials = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = credentials.find(':');
    auto user = percent_decode(credentials.substr(0, colon));
    auto password = colon == std::string_view::npos ? std::optional<std::string>(std::string())
                                                    : percent_decode(credentials.substr(colon + 1));
    if (!user || !password) {
      return make_error(fmt::format("'{}': bad percent-encoding in the user or password", shown));
    }
    base.user = *user;
    base.password = *password;
  }
  BOOST_OUTCOME_TRY(read_host_and_port(authority, shown, base));
  return base;
}

bool supported_rabbitmq_version(std::string_view version) {
  int major = 0;
  int minor = 0;
  const auto* end = version.data() + version.size();
  auto [after_major, ec] = std::from_chars(version.data(), end, major);
  if (ec != std::errc{} || after_major == end || *after_major != '.') return true;
  if (std::from_chars(after_major + 1, end, minor).ec != std::errc{}) return true;
  return major > 3 || (major == 3 && minor >= 10);
}

Result<std::vector<ConnectionSettings>> parse_amqp_urls(const std::vector<std::string>& urls,
                                                        const ConnectionSettings& base) {
  if (urls.empty()) return make_error("no broker URL is given");
  std::vector<ConnectionSettings> nodes;
  for (const auto& url : urls) {
    BOOST_OUTCOME_TRY(auto node, parse_amqp_url(url, base));
    if (!nodes.empty()) {
      const auto& first = nodes.front();
      if (node.tls.enabled != first.tls.enabled || node.user != first.user ||
          node.password != first.password || node.vhost != first.vhost) {
        return make_error(fmt::format(
            "'{}': the nodes of one broker share the scheme, the user, the password and the vhost "
            "of '{}'",
            redact_password(url), redact_password(urls.front())));
      }
      for (const auto& earlier : nodes) {
        if (earlier.host == node.host && earlier.port == node.port) {
          return make_error(
              fmt::format("'{}': the node {} is given twice", redact_password(url), node.node()));
        }
      }
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

std::vector<std::string> split_url_list(std::string_view text) {
  std::vector<std::string> urls;
  while (true) {
    const auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front())) != 0)
      item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back())) != 0)
      item.remove_suffix(1);
    urls.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return urls;
}

}  // namespace nqs::amqp
