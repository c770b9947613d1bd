#include "configuration/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>

#include "calendar/calendar_files.hpp"
#include "gost/algorithms.hpp"
#include "intake/intake.hpp"
#include "mapping/mapping.hpp"
#include "notify/outbound.hpp"
#include "revocation/crl_refresher.hpp"
#include "revocation/http_fetch.hpp"
#include "revocation/x509_facts.hpp"
#include "store/store.hpp"
#include "workflow/application_json.hpp"
#include "workflow/workflow.hpp"
#include "xmldsig/signature.hpp"

namespace nqs::configuration {

using yaml::Diagnostics;
using yaml::Reader;
namespace {

// The files of a list of paths, each checked to exist; an empty or absent list is reported with
// `if_empty` (a list whose entries are all missing is already reported entry by entry).
std::vector<std::filesystem::path> existing_files(Reader& section, std::string_view key,
                                                  std::string_view if_empty) {
  std::vector<std::filesystem::path> files;
  const auto entries = section.list(key);
  for (const auto& entry : entries) {
    if (auto path = entry.as_existing_file()) files.push_back(*path);
  }
  if (entries.empty()) {
    auto field = section.required(key);
    if (field && field->is_list_or_null()) field->problem(if_empty);
  }
  return files;
}

void read_intake(Reader intake, intake::IntakeSettings& out) {
  // Checked before parsing: a larger message is xml.too_large without being read.
  out.max_message_bytes =
      static_cast<std::size_t>(intake.integer("max_message_bytes", 1024, 64 * 1024 * 1024,
                                              static_cast<std::int64_t>(out.max_message_bytes)));
  out.strict_identifiers = intake.flag("strict_identifiers", out.strict_identifiers);
  // The structure a message may have, checked before the parser works on it (xml.too_complex).
  auto limits = intake.section("limits");
  auto limit = [&](const char* key, std::size_t& value, std::int64_t max) {
    value = static_cast<std::size_t>(limits.integer(key, 1, max, static_cast<std::int64_t>(value)));
  };
  limit("max_depth", out.limits.max_depth, 256);
  limit("max_elements", out.limits.max_elements, 1'000'000);
  limit("max_attributes", out.limits.max_attributes, 1'000'000);
  limit("max_attributes_total", out.limits.max_attributes_total, 1'000'000);
  limit("max_namespace_declarations", out.limits.max_namespace_declarations, 256);
  limit("max_namespaces_in_scope", out.limits.max_namespaces_in_scope, 1024);
  limit("max_text_bytes", out.limits.max_text_bytes, 64 * 1024 * 1024);
  // What the structure limits let through still costs at most this much CPU time (intake runs on
  // worker threads, never on the event loop, whatever it costs).
  out.cpu_time = limits.duration("cpu_time", std::chrono::milliseconds{10}, std::chrono::minutes{1},
                                 out.cpu_time);
  limits.finish();
  out.require_transport_signature =
      intake.flag("require_transport_signature", out.require_transport_signature);
  for (auto& sender : intake.list("transport_senders")) {
    auto id = sender.required("sender_id");
    auto bin = sender.required("bin");
    auto id_text = id ? id->as_text() : std::nullopt;
    auto bin_text = bin ? bin->as_text() : std::nullopt;
    if (bin_text &&
        (bin_text->size() != 12 || !std::all_of(bin_text->begin(), bin_text->end(),
                                                [](char c) { return c >= '0' && c <= '9'; }))) {
      bin->problem(fmt::format("'{}' is not a BIN (12 digits)", *bin_text));
      bin_text.reset();
    }
    sender.finish();
    if (id_text && bin_text) out.transport_senders.push_back({*id_text, *bin_text});
  }
  if (out.require_transport_signature && out.transport_senders.empty()) {
    intake.problem(
        "intake.require_transport_signature needs at least one entry in "
        "intake.transport_senders (whose certificate signs)");
  }
  if (auto schema = intake.required("envelope_schema")) {
    out.envelope_schema = schema->as_existing_file().value_or("");
  }
  out.mappings = existing_files(intake, "mappings", "list at least one mapping");
  intake.finish();
}

std::vector<std::string> default_allowed_algorithms() {
  std::vector<std::string> out;
  for (const auto& algorithm : gost::algorithms()) {
    out.emplace_back(algorithm.signature_uri);
    out.emplace_back(algorithm.digest_uri);
  }
  for (auto uri : {xmldsig::kRsaSha256, xmldsig::kEcdsaSha256, xmldsig::kSha256})
    out.emplace_back(uri);
  return out;
}

void read_trust(Reader trust, TrustConfig& out) {
  // Fail closed: with no anchor every signature would be refused, so say it now.
  out.anchors = existing_files(trust, "anchors", "list at least one trust anchor");
  // Files an operator replaces (the offline option); fetched CRLs and OCSP may stand instead.
  for (const auto& entry : trust.list("crls")) {
    if (auto path = entry.as_existing_file()) out.crls.push_back(*path);
  }
  if (auto policy = trust.field("revocation")) {
    std::initializer_list<std::string_view> policies{xmldsig::kRevocationPolicies[0],
                                                     xmldsig::kRevocationPolicies[1],
                                                     xmldsig::kRevocationPolicies[2]};
    if (auto chosen = policy->as_choice(policies)) {
      out.revocation = *chosen == "ocsp"  ? xmldsig::RevocationPolicy::ocsp
                       : *chosen == "crl" ? xmldsig::RevocationPolicy::crl
                                          : xmldsig::RevocationPolicy::ocsp_then_crl;
    }
  }
  out.crl_fetch = trust.flag("crl_fetch", out.crl_fetch);
  // Revocation is always checked: without CRL files, fetching or OCSP nothing could be accepted.
  if (out.crls.empty() && !out.crl_fetch && out.revocation == xmldsig::RevocationPolicy::crl) {
    if (auto crls = trust.field("crls")) {
      crls->problem(
          "list the CRLs of the anchors, or let the daemon fetch them (trust.crl_fetch) or ask "
          "OCSP (trust.revocation): revocation is always checked");
    } else {
      trust.problem(
          "give trust.crls, or let the daemon fetch them (trust.crl_fetch) or ask OCSP "
          "(trust.revocation): revocation is always checked");
    }
  }
  for (const auto& entry : trust.list("crl_urls")) {
    auto url = entry.as_text();
    if (!url) continue;
    if (auto parsed = revocation::parse_http_url(*url); !parsed) {
      entry.problem(parsed.error().message);
      continue;
    }
    out.crl_urls.push_back(*url);
  }
  {
    std::filesystem::path dir(trust.text("crl_cache_dir", "../var/crls"));
    if (dir.is_relative()) dir = (trust.file().parent_path() / dir).lexically_normal();
    out.crl_cache_dir = dir;
  }
  using std::chrono::hours;
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  out.crl_refresh_interval = trust.duration("crl_refresh_interval", milliseconds{100},
                                            hours{24 * 7}, out.crl_refresh_interval);
  out.crl_refresh_before =
      trust.duration("crl_refresh_before", milliseconds{0}, hours{24 * 30}, out.crl_refresh_before);
  out.crl_warn_before =
      trust.duration("crl_warn_before", milliseconds{0}, hours{24 * 30}, out.crl_warn_before);
  out.crl_fetch_timeout = trust.duration("crl_fetch_timeout", milliseconds{100},
                                         std::chrono::minutes{10}, out.crl_fetch_timeout);
  out.crl_max_bytes = trust.integer("crl_max_bytes", 1024, 1024LL * 1024 * 1024, out.crl_max_bytes);
  if (auto url = trust.field("ocsp_url")) {
    if (auto text = url->as_text()) {
      if (auto parsed = revocation::parse_http_url(*text); !parsed) {
        url->problem(parsed.error().message);
      } else {
        out.ocsp_url = *text;
      }
    }
  }
  out.ocsp_timeout =
      trust.duration("ocsp_timeout", milliseconds{100}, std::chrono::minutes{1}, out.ocsp_timeout);
  out.ocsp_max_age = trust.duration("ocsp_max_age", seconds{1}, hours{24 * 7}, out.ocsp_max_age);
  out.ocsp_cache_size = trust.integer("ocsp_cache_size", 0, 10'000'000, out.ocsp_cache_size);
  out.expiry_warn_before = trust.duration("expiry_warn_before", milliseconds{0}, hours{24 * 365},
                                          out.expiry_warn_before);
  if (trust.field("allowed_algorithms")) {
    for (const auto& entry : trust.list("allowed_algorithms")) {
      auto uri = entry.as_text();
      if (!uri) continue;
      if (!xmldsig::is_supported_algorithm(*uri)) {
        entry.problem(
            fmt::format("'{}' is not a signature or digest algorithm xmlsec supports here", *uri));
        continue;
      }
      out.allowed_algorithms.push_back(*uri);
    }
  } else {
    // messages.md: NCA's GOST methods, RSA-SHA256 and ECDSA-SHA256 with SHA-256 digests; SHA-1
    // is off by default.
    out.allowed_algorithms = default_allowed_algorithms();
  }
  out.certificate_cache_size = static_cast<std::size_t>(
      trust.integer("certificate_cache_size", 0, 10'000'000,
                    static_cast<std::int64_t>(out.certificate_cache_size)));
  out.min_rsa_bits = static_cast<int>(trust.integer("min_rsa_bits", 1024, 16384, out.min_rsa_bits));
  if (trust.field("ec_curves")) {
    out.ec_curves.clear();
    for (const auto& entry : trust.list("ec_curves")) {
      std::initializer_list<std::string_view> curves{xmldsig::kEcCurves[0], xmldsig::kEcCurves[1],
                                                     xmldsig::kEcCurves[2]};
      if (auto curve = entry.as_choice(curves)) out.ec_curves.push_back(*curve);
    }
  }
  trust.finish();
}

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// An environment variable that overrides a key (architecture.md: NQS_AMQP_URL, NQS_STORE_URL).
std::optional<std::string> from_environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

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
    for (auto& url : amqp::split_url_list(*environment))
      given.emplace_back(std::move(url), report_list);
  }
  if (given.empty()) return;  // the default, or a problem already recorded
  out.urls.clear();
  bool each_valid = true;
  for (auto& [url, report] : given) {
    out.urls.push_back(url);
    if (auto parsed = amqp::parse_amqp_url(url); !parsed) {
      report(parsed.error().message);
      each_valid = false;
    }
  }
  if (!each_valid) return;
  if (auto nodes = amqp::parse_amqp_urls(out.urls); !nodes) report_list(nodes.error().message);
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
    const auto parsed = amqp::parse_amqp_url(url);
    return parsed && parsed.value().tls.enabled;
  });
  if (!any_tls && (!out.tls.ca_file.empty() || certificate.has_value())) {
    tls.problem("TLS files are given but no amqp.url is amqps://");
  }
}

void read_amqp(Reader amqp, AmqpConfig& out) {
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

void read_store(Reader store, StoreConfig& out) {
  auto url_field = store.field("url");
  out.url = store.text("url", "sqlite:../var/nqs-adapter.sqlite");
  if (auto url = from_environment("NQS_STORE_URL")) out.url = *url;
  out.busy_timeout = store.duration("busy_timeout", milliseconds{0}, minutes{5}, out.busy_timeout);
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
  if (store::is_postgres_url(out.url)) {
    // libpq's own parser (hosts, ports, options), and the adapter's rules on top of it.
    if (auto checked = store::check_postgres_url(out.url); !checked)
      report(checked.error().message);
    return;
  }
  const auto problem = fmt::format(
      "'{}' is not a store URL (sqlite:PATH, or postgresql://user@host:port/database)", out.url);
  report(problem);
}

void read_outbound(Reader signing, Reader outbound, OutboundConfig& out) {
  // Either a PKCS#12 as NCA RK delivers the key (its password never in this file), or an
  // unencrypted PEM key and its certificate chain.
  if (auto pkcs12 = signing.field("pkcs12")) {
    out.signing_pkcs12 = pkcs12->as_existing_file().value_or("");
    if (auto password_file = signing.field("password_file")) {
      out.signing_password_file = password_file->as_existing_file().value_or("");
    } else if (!from_environment("NQS_SIGNING_PASSWORD")) {
      pkcs12->problem(
          "its password is needed: signing.password_file, or the environment variable "
          "NQS_SIGNING_PASSWORD");
    }
    for (const char* pem : {"key", "certificate"}) {
      if (auto given = signing.field(pem)) {
        given->problem("give either signing.pkcs12 or signing.key and signing.certificate");
      }
    }
  } else {
    if (auto key = signing.required("key")) out.signing_key = key->as_existing_file().value_or("");
    if (auto certificate = signing.required("certificate")) {
      out.signing_certificate = certificate->as_existing_file().value_or("");
    }
    if (auto password_file = signing.field("password_file")) {
      password_file->problem("is the password of signing.pkcs12, which is not given");
    }
  }
  signing.finish();
  out.sender_id = outbound.text("sender_id", out.sender_id);
  out.service_id = outbound.text("service_id", out.service_id);
  out.mappings = existing_files(outbound, "mappings", "list the outbound document mappings");
  outbound.finish();
}

void read_domain(Reader domain, DomainConfig& out) {
  auto mci = domain.section("mci");
  for (auto& [key, value] : mci.entries()) {
    int year = 0;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), year);
    if (ec != std::errc{} || end != key.data() + key.size() || year < 2000 || year > 2100) {
      value.problem(fmt::format("'{}' is not a year", key));
      continue;
    }
    if (auto tenge = value.as_integer(1, 1'000'000)) out.mci[year] = *tenge;
  }
  if (out.mci.empty()) {
    mci.problem("give the MCI of at least one year (art. 14-15 caps and assistance depend on it)");
  }
  // Art. 3 "до 15 октября": the last day an application may be submitted, MM-DD, included.
  if (auto deadline = domain.field("application_deadline")) {
    const auto text = deadline->as_text().value_or("");
    const auto digit = [&](std::size_t at) { return text[at] >= '0' && text[at] <= '9'; };
    const bool shaped =
        text.size() == 5 && text[2] == '-' && digit(0) && digit(1) && digit(3) && digit(4);
    const unsigned month =
        shaped ? static_cast<unsigned>((text[0] - '0') * 10 + (text[1] - '0')) : 0;
    const unsigned day = shaped ? static_cast<unsigned>((text[3] - '0') * 10 + (text[4] - '0')) : 0;
    // A day every year has (not 29 February).
    if (!shaped || !(date::month{month} / date::day{day}).ok() || (month == 2 && day == 29)) {
      deadline->problem(fmt::format("'{}' is not a day of the year as MM-DD", text));
    } else {
      out.policy.application_deadline = {month, day};
    }
  }
  // Audit point 6: working days after the last valid day before an unused voucher is annulled
  // (the protocol follows the exam by up to 2 working days, Rules 374 art. 17).
  if (auto grace = domain.field("annulment_grace")) {
    if (auto days = grace->as_integer(0, 30)) out.policy.annulment_grace = static_cast<int>(*days);
  }
  // Audit point 12: the LMC of each oblast, the customer its acts must name.
  auto lmcs = domain.section("lmc_bins");
  for (auto& [key, value] : lmcs.entries()) {
    const auto digits = [](std::string_view text, std::size_t n) {
      return text.size() == n &&
             std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    const auto bin = value.as_text().value_or("");
    if (!digits(key, 9)) {
      value.problem(fmt::format("'{}' is not a KATO code (9 digits)", key));
    } else if (!digits(bin, 12)) {
      value.problem(fmt::format("'{}' is not a BIN (12 digits)", bin));
    } else if (!out.policy.lmc_bins.emplace(domain::oblast_of(key), bin).second) {
      value.problem(fmt::format("oblast {} is given twice", domain::oblast_of(key)));
    }
  }
  // Audit point 4: whether an annulled voucher's unit returns to the allocation.
  if (auto release = domain.field("release_quota_on_annulment")) {
    if (auto flag = release->as_flag()) out.policy.release_quota_on_annulment = *flag;
  }
  domain.finish();
}

bool is_step_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// deadlines: the statutory deadline table (domain.md), each step checked on its own.
void read_deadlines(Reader deadlines, domain::DeadlineTable& out) {
  if (auto warning = deadlines.field("warning_at")) {
    const auto text = warning->as_text();
    int hours = -1;
    int minutes_of_hour = -1;
    if (text && text->size() == 5 && (*text)[2] == ':' &&
        std::from_chars(text->data(), text->data() + 2, hours).ec == std::errc{} &&
        std::from_chars(text->data() + 3, text->data() + 5, minutes_of_hour).ec == std::errc{} &&
        hours >= 0 && hours < 24 && minutes_of_hour >= 0 && minutes_of_hour < 60) {
      out.warning_at = minutes{hours * 60 + minutes_of_hour};
    } else if (text) {
      warning->problem(fmt::format("'{}' is not a local time HH:MM", *text));
    }
  }
  if (deadlines.field("steps")) {
    out.rules.clear();
    std::set<std::string> names;
    for (auto& entry : deadlines.list("steps")) {
      domain::DeadlineRule rule;
      rule.step = entry.text("step", "");
      if (!is_step_name(rule.step)) {
        entry.problem(
            fmt::format("step: '{}' is not a name of lowercase letters, digits and _", rule.step));
      } else if (!names.insert(rule.step).second) {
        entry.problem(fmt::format("step: '{}' is given twice", rule.step));
      }
      rule.responsible = entry.text("responsible", "");
      if (rule.responsible.empty()) entry.problem("responsible: say who must act");
      for (const auto& stage : entry.list("stages")) {
        auto name = stage.as_text();
        if (!name) continue;
        const auto named = domain::stage_named(*name);
        if (!named) {
          stage.problem(fmt::format("'{}' is not a stage of the voucher process", *name));
          continue;
        }
        rule.stages.push_back(*named);
      }
      if (rule.stages.empty()) entry.problem("stages: list the stages the deadline covers");
      const bool working = entry.field("working_days").has_value();
      const bool calendar_days = entry.field("calendar_days").has_value();
      const bool until = entry.field("until").has_value();
      if (working + calendar_days + until != 1) {
        entry.problem("give exactly one of working_days, calendar_days and until");
      }
      rule.working_days = static_cast<int>(entry.integer("working_days", 1, 365, 0));
      rule.calendar_days = static_cast<int>(entry.integer("calendar_days", 1, 3650, 0));
      if (until) rule.until_valid = entry.choice("until", {"valid_until"}, "") == "valid_until";
      rule.from = entry.text("from", "");
      if (until && !rule.from.empty()) entry.problem("from: not with until");
      rule.basis = entry.text("basis", "");
      if (rule.basis.empty()) entry.problem("basis: cite the article that sets the deadline");
      entry.finish();
      out.rules.push_back(std::move(rule));
    }
  }
  deadlines.finish();
}

void read_clock(Reader clock, const std::string& profile, ClockConfig& out) {
  out.offset = clock.duration("offset", milliseconds{0}, std::chrono::hours{24 * 3650}, out.offset);
  if (clock.field("control_file")) {
    std::filesystem::path path(clock.text("control_file", ""));
    if (path.is_relative()) path = (clock.file().parent_path() / path).lexically_normal();
    out.control_file = path;
  }
  // Production runs on the real clock: a shifted one would move every deadline.
  if (profile == "production" && out.offset != milliseconds{0}) {
    clock.field("offset")->problem("not allowed in the production profile");
  }
  if (profile == "production" && !out.control_file.empty()) {
    clock.field("control_file")->problem("not allowed in the production profile");
  }
  clock.finish();
}

void read_ops(Reader ops, OpsConfig& out) {
  out.listen = ops.text("listen", out.listen);
  if (!out.listen.empty()) {
    const auto colon = out.listen.rfind(':');
    int port = 0;
    if (colon == std::string::npos ||
        std::from_chars(out.listen.data() + colon + 1, out.listen.data() + out.listen.size(), port)
                .ec != std::errc{} ||
        port < 0 || port > 65535) {
      ops.field("listen")->problem(
          fmt::format("'{}' is not HOST:PORT (port 0: any free one; empty turns the endpoints off)",
                      out.listen));
    }
  }
  out.replay_cap = ops.integer("replay_cap", 1, 1000, out.replay_cap);
  out.queue_poll_interval =
      ops.duration("queue_poll_interval", milliseconds{100}, minutes{10}, out.queue_poll_interval);
  out.management_url = ops.text("management_url", out.management_url);
  if (!out.management_url.empty() && !out.management_url.starts_with("http://")) {
    ops.field("management_url")
        ->problem("give http://user:password@host:port of the RabbitMQ management API");
  }
  out.dead_letter_alert_after =
      ops.duration("dead_letter_alert_after", seconds{1}, std::chrono::hours{24 * 30},
                   out.dead_letter_alert_after);
  out.outbox_stuck_after = ops.duration("outbox_stuck_after", seconds{1}, std::chrono::hours{24},
                                        out.outbox_stuck_after);
  ops.finish();
}

void read_processing(Reader processing, ProcessingConfig& out) {
  out.retry_initial_delay = processing.duration("retry_initial_delay", milliseconds{10}, minutes{5},
                                                out.retry_initial_delay);
  out.retry_max_delay =
      processing.duration("retry_max_delay", milliseconds{10}, minutes{60}, out.retry_max_delay);
  out.outbox_scan_interval = processing.duration("outbox_scan_interval", milliseconds{100},
                                                 minutes{10}, out.outbox_scan_interval);
  out.max_in_flight = processing.integer("max_in_flight", 1, 100000, out.max_in_flight);
  out.max_attempts =
      static_cast<int>(processing.integer("max_attempts", 1, 1000, out.max_attempts));
  out.grace_period = processing.duration("grace_period", seconds{0}, minutes{10}, out.grace_period);
  out.workers = processing.integer("workers", 0, 64, out.workers);
  processing.finish();
}

}  // namespace

Result<std::chrono::milliseconds> read_clock_control(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string text;
  if (in) std::getline(in, text);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.pop_back();
  if (text.empty()) return milliseconds{0};
  auto parsed = yaml::parse_duration(text);
  if (!parsed) {
    return make_error(
        fmt::format("{}: '{}' is not a duration (such as 36h or 70d)", file.string(), text));
  }
  return *parsed;
}

Result<std::chrono::milliseconds> advance_clock_control(const std::filesystem::path& file,
                                                        std::chrono::milliseconds by) {
  BOOST_OUTCOME_TRY(auto current, read_clock_control(file));
  const auto next = current + by;
  const auto temporary = file.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    // In the largest whole unit, so that parse_duration's bound (10^9 of the unit) is far.
    const auto ms = next.count();
    if (ms % 86'400'000 == 0) {
      out << ms / 86'400'000 << "d\n";
    } else if (ms % 3'600'000 == 0) {
      out << ms / 3'600'000 << "h\n";
    } else if (ms % 60'000 == 0) {
      out << ms / 60'000 << "m\n";
    } else if (ms % 1000 == 0) {
      out << ms / 1000 << "s\n";
    } else {
      out << ms << "ms\n";
    }
    if (!out) return make_error(fmt::format("cannot write {}", temporary));
  }
  std::error_code ec;
  std::filesystem::rename(temporary, file, ec);
  if (ec) return make_error(fmt::format("cannot replace {}: {}", file.string(), ec.message()));
  return next;
}

Result<std::vector<amqp::ConnectionSettings>> broker_nodes(const AmqpConfig& amqp) {
  amqp::ConnectionSettings base;
  base.heartbeat = std::chrono::duration_cast<std::chrono::seconds>(amqp.heartbeat);
  base.connect_timeout = amqp.connect_timeout;
  base.prefetch = static_cast<std::uint16_t>(amqp.prefetch);
  base.max_header_bytes = static_cast<std::size_t>(amqp.max_header_bytes);
  base.tls.ca_file = amqp.tls.ca_file.string();
  base.tls.certificate = amqp.tls.certificate.string();
  base.tls.key = amqp.tls.key.string();
  base.tls.verify_hostname = amqp.tls.verify_hostname;
  return amqp::parse_amqp_urls(amqp.urls, base);
}

store::PostgresSettings postgres_settings(const StoreConfig& store,
                                          std::function<void(const std::string&)> on_notice) {
  store::PostgresSettings out;
  out.url = store.url;
  out.connect_timeout = store.connect_timeout;
  out.statement_timeout = store.statement_timeout;
  out.on_notice = std::move(on_notice);
  return out;
}

std::optional<Config> read_config(Reader root, Diagnostics& diagnostics) {
  const auto problems_before = diagnostics.problems().size();
  Config config;
  config.source = root.file();

  config.profile = root.choice("profile", {"local", "production"}, "local");
  read_clock(root.section("clock"), config.profile, config.clock);
  read_deadlines(root.section("deadlines"), config.deadlines);

  auto log = root.section("log");
  config.log.level = log.choice("level", {"trace", "debug", "info", "warn", "error"}, "info");
  config.log.format = log.choice("format", {"text", "json"}, "text") == "json"
                          ? log::LogFormat::json
                          : log::LogFormat::text;
  log.finish();

  auto calendar = root.section("calendar");
  config.calendar.time_zone = calendar.text("time_zone", config.calendar.time_zone);
  if (auto zone_field = calendar.field("time_zone")) {
    std::string problem;
    if (calendar::find_time_zone(config.calendar.time_zone, problem) == nullptr) {
      zone_field->problem(problem);
    }
  }
  config.calendar.files = existing_files(calendar, "files", "list at least one calendar file");
  calendar.finish();

  read_intake(root.section("intake"), config.intake);
  read_trust(root.section("trust"), config.trust);
  read_domain(root.section("domain"), config.domain);
  read_outbound(root.section("signing"), root.section("outbound"), config.outbound);
  read_amqp(root.section("amqp"), config.amqp);
  read_store(root.section("store"), config.store);
  read_processing(root.section("processing"), config.processing);
  read_ops(root.section("ops"), config.ops);

  root.finish();
  if (diagnostics.problems().size() != problems_before) return std::nullopt;
  return config;
}

// The adapter's signing key from signing.pkcs12 (with its password from signing.password_file,
// else NQS_SIGNING_PASSWORD) or from signing.key and signing.certificate.
static Result<notify::Signer> load_signer(const OutboundConfig& config) {
  if (config.signing_pkcs12.empty()) {
    return notify::load_signer(config.signing_key, config.signing_certificate);
  }
  std::string password = from_environment("NQS_SIGNING_PASSWORD").value_or("");
  if (!config.signing_password_file.empty()) {
    std::ifstream in(config.signing_password_file, std::ios::binary);
    std::getline(in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
  }
  return notify::load_pkcs12_signer(config.signing_pkcs12, password);
}

// How the trust store checks revocation: offline (inspect --offline), by the CRL files and the
// cached CRLs alone.
static xmldsig::TrustSettings trust_settings(const TrustConfig& trust, bool offline) {
  xmldsig::TrustSettings settings;
  settings.anchors = trust.anchors;
  settings.crls = trust.crls;
  settings.cache_size = trust.certificate_cache_size;
  settings.min_rsa_bits = trust.min_rsa_bits;
  settings.ec_curves = trust.ec_curves;
  settings.revocation = offline ? xmldsig::RevocationPolicy::crl : trust.revocation;
  if (settings.revocation != xmldsig::RevocationPolicy::crl) {
    revocation::OcspSettings ocsp;
    ocsp.url = trust.ocsp_url;
    ocsp.limits.timeout = trust.ocsp_timeout;
    ocsp.max_age = trust.ocsp_max_age;
    ocsp.cache_size = static_cast<std::size_t>(trust.ocsp_cache_size);
    settings.ocsp = std::make_shared<revocation::OcspClient>(std::move(ocsp));
  }
  return settings;
}

std::optional<Setup> load_setup(const std::filesystem::path& file, Diagnostics& diagnostics,
                                bool offline) {
  auto root = Reader::open(file, diagnostics);
  if (!root) return std::nullopt;
  auto config = read_config(*root, diagnostics);
  if (!config) return std::nullopt;

  std::string problem;
  const auto* zone = calendar::find_time_zone(config->calendar.time_zone, problem);
  if (zone == nullptr) {
    diagnostics.add(fmt::format("{}: calendar.time_zone: {}", file.string(), problem));
    return std::nullopt;
  }
  auto working_calendar = calendar::load_calendar(config->calendar.files, *zone, diagnostics);

  xmldsig::ensure_xml_security_initialised();
  std::string schema_problem;
  auto envelope = xml::Schema::load(config->intake.envelope_schema, schema_problem);
  if (!envelope) {
    diagnostics.add(fmt::format("{}: intake.envelope_schema: {}", file.string(), schema_problem));
  }
  std::vector<std::shared_ptr<const mapping::DocumentMapping>> mappings;
  std::set<std::pair<std::string, std::string>> documents;
  for (const auto& mapping_file : config->intake.mappings) {
    auto mapping = mapping::load_mapping(mapping_file, diagnostics);
    if (!mapping) continue;
    if (!documents.emplace(mapping->ns, mapping->element).second) {
      diagnostics.add(fmt::format("{}: a second mapping for {{{}}}{}", mapping_file.string(),
                                  mapping->ns, mapping->element));
    }
    if (!workflow::takes_command(mapping->command)) {
      diagnostics.add(fmt::format("{}: command: '{}' is not one the workflow takes ({})",
                                  mapping_file.string(), mapping->command,
                                  fmt::join(workflow::kCommands, ", ")));
    }
    mappings.push_back(std::move(mapping));
  }
  std::vector<std::string> trust_problems;
  auto trust = xmldsig::TrustStore::load(trust_settings(config->trust, offline), trust_problems);
  for (auto& trust_problem : trust_problems)
    diagnostics.add(std::move(trust_problem));
  // The CRLs fetched in an earlier run (trust.crl_cache_dir): a start without network begins
  // with the last good set. Each is checked again as if fetched now.
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) +
      config->clock.offset;
  if (trust) {
    std::vector<std::shared_ptr<X509_CRL>> cached;
    for (const auto& entry : revocation::read_crl_cache(config->trust.crl_cache_dir)) {
      if (!trust->check_crl(entry.crl.get(), now)) cached.push_back(entry.crl);
    }
    if (!cached.empty()) trust = trust->with_crls(cached, {});
  }

  std::vector<std::shared_ptr<const notify::OutboundMapping>> outbound;
  std::set<std::string, std::less<>> outbound_documents;
  for (const auto& mapping_file : config->outbound.mappings) {
    if (auto mapping = notify::load_outbound_mapping(mapping_file, diagnostics)) {
      outbound_documents.insert(mapping->element);
      outbound.push_back(std::move(mapping));
    }
  }
  // The lifecycle sends each of these: one without its mapping would fail at the worst moment.
  for (const auto document : workflow::kNotifications) {
    if (!outbound_documents.contains(document)) {
      diagnostics.add(fmt::format("{}: outbound.mappings: no mapping for the notification {}",
                                  file.string(), document));
    }
  }
  auto signer = load_signer(config->outbound);
  if (!signer) {
    diagnostics.add(fmt::format("{}: signing: {}", file.string(), signer.error().message));
  } else if (auto until = revocation::to_instant(
                 X509_get0_notAfter(signer.value().certificates.front().get()));
             !until || *until <= now) {
    // Nobody would accept what it signs: refused before the first notification, not after.
    diagnostics.add(fmt::format(
        "{}: signing: the certificate '{}' has ended ({}); install the renewed one", file.string(),
        revocation::name_text(X509_get_subject_name(signer.value().certificates.front().get())),
        until ? to_utc_string(*until) : std::string("no readable notAfter")));
  }

  if (!working_calendar || !envelope || !trust || !signer || !diagnostics.empty())
    return std::nullopt;
  auto notifications = std::make_shared<const notify::NotificationBuilder>(
      std::move(outbound), std::move(signer).value(),
      notify::EnvelopeSettings{config->outbound.sender_id, config->outbound.service_id});
  xmldsig::AlgorithmPolicy policy;
  policy.allowed.insert(config->trust.allowed_algorithms.begin(),
                        config->trust.allowed_algorithms.end());
  auto intake_pipeline =
      std::make_shared<const intake::Intake>(config->intake, std::move(policy), std::move(envelope),
                                             std::move(mappings), std::move(trust));
  return Setup{std::move(*config),
               std::make_shared<const calendar::WorkingCalendar>(std::move(*working_calendar)),
               std::move(intake_pipeline), std::move(notifications)};
}

}  // namespace nqs::configuration
