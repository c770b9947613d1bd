#include "amqp/amqp_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "common/environment.hpp"

namespace nqs::amqp {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using yaml::Reader;
namespace {

// amqp.url: one URL or a list of them (the nodes of one cluster); NQS_AMQP_URL overrides it with
// URLs separated by commas. Each is checked here, with its key path, so that `run` never starts
// with one it cannot use.
void read_amqp_urls(Reader& amqp, AmqpConfig& out) {
  using Report = std::function<void(const std::string&)>;
  auto field = amqp.field("url");
  std::vector<std::pair<std::string, Report>> given;  // each URL, and where its problem goes
  Report report_list;                                 // where a problem of them all goes
  auto at = [](const Reader& where) {
    return Report([where](const std::string& problem) { where.problem(problem); });
  };
  if (field && field->is_scalar()) {
    if (auto url = field->as_text()) given.emplace_back(*url, at(*field));
  } else if (field && field->is_list_or_null() && !field->is_null()) {
    for (auto& item : amqp.list("url")) {
      if (auto url = item.as_text()) given.emplace_back(*url, at(item));
    }
    if (given.empty()) field->problem("an empty list: give at least one broker URL");
  } else if (field) {
    field->problem("expected a URL or a list of URLs");
  }
  if (field) report_list = at(*field);
  if (auto environment = from_environment("NQS_AMQP_URL")) {
    report_list = [amqp](const std::string& problem) {
      amqp.problem(fmt::format("NQS_AMQP_URL: {}", problem));
    };
    given.clear();
    for (auto& url : split_url_list(*environment))
      given.emplace_back(std::move(url), report_list);
  }
  if (given.empty()) return;  // the default, or a problem already recorded
  out.urls.clear();
  bool each_valid = true;
  for (auto& [url, report] : given) {
    out.urls.push_back(url);
    if (auto parsed = parse_amqp_url(url); !parsed) {
      report(parsed.error().message);
      each_valid = false;
    }
  }
  if (!each_valid) return;
  if (auto nodes = parse_amqp_urls(out.urls); !nodes) report_list(nodes.error().message);
}

void read_amqp_tls(Reader tls, AmqpConfig& out) {
  if (auto ca = tls.field("ca_file")) out.tls.ca_file = ca->as_existing_file().value_or("");
  auto certificate = tls.field("certificate");
  auto key = tls.field("key");
  if (certificate) out.tls.certificate = certificate->as_existing_file().value_or("");
  if (key) out.tls.key = key->as_existing_file().value_or("");
  out.tls.verify_hostname = tls.flag("verify_hostname", out.tls.verify_hostname);
  tls.finish();
  if (certificate.has_value() != key.has_value()) {
    tls.problem("a client certificate needs its key: give both certificate and key, or neither");
  }
  const bool any_tls = std::any_of(out.urls.begin(), out.urls.end(), [](const std::string& url) {
    const auto parsed = parse_amqp_url(url);
    return parsed && parsed.value().tls.enabled;
  });
  if (!any_tls && (!out.tls.ca_file.empty() || certificate.has_value())) {
    tls.problem("TLS files are given but no amqp.url is amqps://");
  }
}

}  // namespace

void read_amqp_config(Reader amqp, AmqpConfig& out) {
  read_amqp_urls(amqp, out);
  read_amqp_tls(amqp.section("tls"), out);
  out.heartbeat = amqp.duration("heartbeat", seconds{0}, minutes{10}, out.heartbeat);
  out.connect_timeout =
      amqp.duration("connect_timeout", milliseconds{100}, minutes{5}, out.connect_timeout);
  out.reconnect_initial_delay = amqp.duration("reconnect_initial_delay", milliseconds{10},
                                              minutes{5}, out.reconnect_initial_delay);
  out.reconnect_max_delay =
      amqp.duration("reconnect_max_delay", milliseconds{10}, minutes{60}, out.reconnect_max_delay);
  out.prefetch = amqp.integer("prefetch", 1, 65535, out.prefetch);
  // What a delivery's headers may take to be carried (a dead letter adds its own and must fit
  // the 128 KiB frame).
  out.max_header_bytes = amqp.integer("max_header_bytes", 1024, 65536, out.max_header_bytes);
  // A message that makes the adapter crash is redelivered; after this many deliveries the broker
  // dead-letters it instead of letting it loop.
  out.delivery_limit = amqp.integer("delivery_limit", 1, 1000, out.delivery_limit);
  auto names = amqp.section("names");
  out.gov_in = names.text("gov_in", out.gov_in);
  out.ais_events = names.text("ais_events", out.ais_events);
  out.ais_commands = names.text("ais_commands", out.ais_commands);
  out.gov_outbound = names.text("gov_outbound", out.gov_outbound);
  out.notifications = names.text("notifications", out.notifications);
  out.sla_queue = names.text("sla_queue", out.sla_queue);
  out.dead_letters = names.text("dead_letters", out.dead_letters);
  names.finish();
  amqp.finish();
  if (out.reconnect_initial_delay > out.reconnect_max_delay) {
    amqp.problem("reconnect_initial_delay is longer than reconnect_max_delay");
  }
}

Result<std::vector<ConnectionSettings>> broker_nodes(const AmqpConfig& config) {
  ConnectionSettings base;
  base.heartbeat = std::chrono::duration_cast<std::chrono::seconds>(config.heartbeat);
  base.connect_timeout = config.connect_timeout;
  base.prefetch = static_cast<std::uint16_t>(config.prefetch);
  base.max_header_bytes = static_cast<std::size_t>(config.max_header_bytes);
  base.tls.ca_file = config.tls.ca_file.string();
  base.tls.certificate = config.tls.certificate.string();
  base.tls.key = config.tls.key.string();
  base.tls.verify_hostname = config.tls.verify_hostname;
  return parse_amqp_urls(config.urls, base);
}

}  // namespace nqs::amqp
