#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "configuration/config.hpp"
#include "intake/intake.hpp"
#include "mapping/mapping.hpp"
#include "notify/outbound.hpp"
#include "revocation/crl_refresher.hpp"
#include "revocation/x509_facts.hpp"
#include "workflow/workflow.hpp"
#include "xmldsig/signature.hpp"

namespace nqs::configuration {

using yaml::Diagnostics;
namespace {

// The document mappings of intake.mappings: one a document, each for a command the workflow
// takes.
std::vector<std::shared_ptr<const mapping::DocumentMapping>> load_mappings(
    const Config& config, Diagnostics& diagnostics) {
  std::vector<std::shared_ptr<const mapping::DocumentMapping>> mappings;
  std::set<std::pair<std::string, std::string>> documents;
  for (const auto& mapping_file : config.intake.mappings) {
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
  return mappings;
}

// The trust anchors and CRL files, with the CRLs fetched in an earlier run (trust.crl_cache_dir):
// a start without network begins with the last good set, each checked again as if fetched now.
std::shared_ptr<xmldsig::TrustStore> load_trust(const Config& config, bool offline, Instant now,
                                                Diagnostics& diagnostics) {
  std::vector<std::string> trust_problems;
  auto trust = xmldsig::TrustStore::load(trust_settings(config.trust, offline), trust_problems);
  for (auto& trust_problem : trust_problems)
    diagnostics.add(std::move(trust_problem));
  if (trust) {
    std::vector<std::shared_ptr<X509_CRL>> cached;
    for (const auto& entry : revocation::read_crl_cache(config.trust.crl_cache_dir)) {
      if (!trust->check_crl(entry.crl.get(), now)) cached.push_back(entry.crl);
    }
    if (!cached.empty()) trust = trust->with_crls(cached, {});
  }
  return trust;
}

// The notifications the adapter signs: a mapping for each the lifecycle sends, and a signing
// certificate still valid (nobody would accept what an ended one signs: refused before the first
// notification, not after).
std::shared_ptr<const notify::NotificationBuilder> load_notifications(const Config& config,
                                                                      Instant now,
                                                                      Diagnostics& diagnostics) {
  const auto& file = config.source;
  std::vector<std::shared_ptr<const notify::OutboundMapping>> outbound;
  std::set<std::string, std::less<>> outbound_documents;
  for (const auto& mapping_file : config.outbound.mappings) {
    if (auto mapping = notify::load_outbound_mapping(mapping_file, diagnostics)) {
      outbound_documents.insert(mapping->element);
      outbound.push_back(std::move(mapping));
    }
  }
  for (const auto document : workflow::kNotifications) {
    if (!outbound_documents.contains(document)) {
      diagnostics.add(fmt::format("{}: outbound.mappings: no mapping for the notification {}",
                                  file.string(), document));
    }
  }
  auto signer = notify::load_configured_signer(config.outbound);
  if (!signer) {
    diagnostics.add(fmt::format("{}: signing: {}", file.string(), signer.error().message));
    return nullptr;
  }
  const auto* certificate = signer.value().certificates.front().get();
  if (auto until = revocation::to_instant(X509_get0_notAfter(certificate));
      !until || *until <= now) {
    diagnostics.add(
        fmt::format("{}: signing: the certificate '{}' has ended ({}); install the renewed one",
                    file.string(), revocation::name_text(X509_get_subject_name(certificate)),
                    until ? to_utc_string(*until) : std::string("no readable notAfter")));
    return nullptr;
  }
  return std::make_shared<const notify::NotificationBuilder>(
      std::move(outbound), std::move(signer).value(),
      notify::EnvelopeSettings{config.outbound.sender_id, config.outbound.service_id});
}

// The intake pipeline: the envelope schema, the document mappings and the trust store.
std::shared_ptr<const intake::Intake> load_intake(const Config& config, bool offline, Instant now,
                                                  Diagnostics& diagnostics) {
  std::string schema_problem;
  auto envelope = xml::Schema::load(config.intake.envelope_schema, schema_problem);
  if (!envelope) {
    diagnostics.add(
        fmt::format("{}: intake.envelope_schema: {}", config.source.string(), schema_problem));
  }
  auto mappings = load_mappings(config, diagnostics);
  auto trust = load_trust(config, offline, now, diagnostics);
  if (!envelope || !trust) return nullptr;
  xmldsig::AlgorithmPolicy policy;
  policy.allowed.insert(config.trust.allowed_algorithms.begin(),
                        config.trust.allowed_algorithms.end());
  return std::make_shared<const intake::Intake>(
      config.intake, std::move(policy), std::move(envelope), std::move(mappings), std::move(trust));
}

// A local configuration whose test PKI was never made names files in a folder that does not
// exist: one line says how to make it, after the problems it causes.
void hint_local_pki(const std::filesystem::path& file, Diagnostics& diagnostics) {
  const auto folder = (file.parent_path() / "trust" / "local").lexically_normal();
  std::error_code ec;
  if (diagnostics.empty() || std::filesystem::exists(folder, ec)) return;
  const bool named = std::any_of(diagnostics.problems().begin(), diagnostics.problems().end(),
                                 [&](const std::string& problem) {
                                   return problem.find(folder.string()) != std::string::npos;
                                 });
  if (named) {
    diagnostics.add(fmt::format(
        "{}: the local test PKI is missing: make it with scripts/make-local-pki.sh (after "
        "scripts/build.sh)",
        folder.string()));
  }
}

std::vector<std::string> files_not_opened(Parts parts) {
  switch (parts) {
    case Parts::calendar:
      return {"intake", "trust", "signing", "outbound"};
    case Parts::intake:
      return {"signing", "outbound"};
    case Parts::all:
      break;
  }
  return {};
}

}  // namespace

std::optional<Setup> load_setup(const std::filesystem::path& file, Diagnostics& diagnostics,
                                bool offline, Parts parts) {
  diagnostics.files_not_opened_under(files_not_opened(parts));
  auto root = yaml::Reader::open(file, diagnostics);
  if (!root) return std::nullopt;
  auto config = read_config(*root, diagnostics);
  if (!config) {
    hint_local_pki(file, diagnostics);
    return std::nullopt;
  }

  std::string problem;
  const auto* zone = calendar::find_time_zone(config->calendar.time_zone, problem);
  if (zone == nullptr) {
    diagnostics.add(fmt::format("{}: calendar.time_zone: {}", file.string(), problem));
    return std::nullopt;
  }
  auto working_calendar = calendar::load_calendar(config->calendar.files, *zone, diagnostics);
  Setup setup{std::move(*config), nullptr, nullptr, nullptr};
  if (working_calendar) {
    setup.calendar =
        std::make_shared<const calendar::WorkingCalendar>(std::move(*working_calendar));
  }
  if (parts != Parts::calendar) {
    xmldsig::ensure_xml_security_initialised();
    const auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) +
        setup.config.clock.offset;
    setup.intake = load_intake(setup.config, offline, now, diagnostics);
    if (parts == Parts::all)
      setup.notifications = load_notifications(setup.config, now, diagnostics);
  }
  hint_local_pki(file, diagnostics);
  const bool loaded = setup.calendar && (parts == Parts::calendar || setup.intake) &&
                      (parts != Parts::all || setup.notifications);
  if (!loaded || !diagnostics.empty()) return std::nullopt;
  return setup;
}

std::vector<std::string> Setup::take_reloadable(const Setup& fresh) {
  std::vector<std::string> waiting;
  const auto& next = fresh.config;
  if (next.amqp.urls != config.amqp.urls) waiting.emplace_back("amqp.urls");
  if (next.amqp.gov_in != config.amqp.gov_in) waiting.emplace_back("amqp.names.gov_in");
  if (next.amqp.ais_events != config.amqp.ais_events) waiting.emplace_back("amqp.names.ais_events");
  if (next.store.url != config.store.url) waiting.emplace_back("store.url");
  if (next.ops.listen != config.ops.listen) waiting.emplace_back("ops.listen");
  static_cast<ReloadableConfig&>(config) = next;
  calendar = fresh.calendar;
  intake = fresh.intake;
  notifications = fresh.notifications;
  return waiting;
}

}  // namespace nqs::configuration
