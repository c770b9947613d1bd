#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "amqp/amqp_config.hpp"
#include "calendar/calendar_files.hpp"
#include "calendar/working_calendar.hpp"
#include "common/result.hpp"
#include "domain/deadlines.hpp"
#include "domain/rules.hpp"
#include "intake/intake.hpp"
#include "log/logging.hpp"
#include "notify/outbound_config.hpp"
#include "store/store_config.hpp"
#include "xml/xml_limits.hpp"
#include "xmldsig/trust_config.hpp"
#include "yaml/reader.hpp"

namespace nqs::intake {
class Intake;
}
namespace nqs::notify {
class NotificationBuilder;
}

namespace nqs::configuration {

// The settings of each component, read beside it; the configuration is their sum.
using amqp::AmqpConfig;
using amqp::broker_nodes;
using calendar::CalendarConfig;
using notify::OutboundConfig;
using store::postgres_settings;
using store::StoreConfig;
using xmldsig::TrustConfig;

// The monthly calculation index of each financial year, in tenge (domain.md "Money": set by the
// budget law each year).
struct DomainConfig {
  std::map<int, std::int64_t> mci;
  domain::Policy policy;  // what the Rules leave open (domain.md, "Readings settled by the audit")
};

struct ProcessingConfig {
  std::chrono::milliseconds retry_initial_delay{200};
  std::chrono::milliseconds retry_max_delay{30000};
  std::chrono::milliseconds outbox_scan_interval{5000};
  std::int64_t max_in_flight = 256;
  int max_attempts = 5;  // an input failing alone this often is dead-lettered (processing.failed)
  std::int64_t workers = 0;  // threads for intake and signing; 0: one per core
  std::chrono::milliseconds grace_period{30000};
};

// The clock of the daemon: the system's, shifted for tests and rehearsals only (refused in the
// production profile).
struct ClockConfig {
  std::chrono::milliseconds offset{0};
  // A file holding a further offset (e.g. "36h") that the running daemon reads every second:
  // `nqs-adapter clock advance` moves the running clock forward through it.
  std::filesystem::path control_file;
};

// What operators use: the HTTP endpoints and the dead-letter tools.
struct OpsConfig {
  std::string listen = "127.0.0.1:9464";  // /healthz, /readyz, /metrics; empty: off
  std::int64_t replay_cap = 3;            // replays of one dead letter before --force is needed
  std::chrono::milliseconds queue_poll_interval{15000};        // queue depths and consumers
  std::chrono::milliseconds outbox_stuck_after{120000};        // /readyz fails past this age
  std::chrono::milliseconds dead_letter_alert_after{3600000};  // `queues` flags older ones
  std::string management_url;  // RabbitMQ management API, http://user:password@host:port
};

// The evidence archive (issue 18) beyond what it always keeps (every accepted signed document,
// every signed notification, the daily seals).
struct EvidenceConfig {
  // Also every message refused from the bus, with its reason and bytes (forensics). One over
  // intake.max_message_bytes is never read (amqp::Connection): the broker dead-letters it.
  bool keep_rejected = false;
  // How long records are kept at least: `evidence purge` refuses days younger than this.
  std::chrono::milliseconds retention{std::chrono::hours{24 * 1826}};
};

// config/adapter.yaml as read, with every relative path resolved against the file's folder.
// What only a restart changes: the broker, the store, the loop, the clock and the logs.
struct StartupConfig {
  std::filesystem::path source;
  std::string profile = "local";  // local | production
  ClockConfig clock;
  log::LogConfig log;
  AmqpConfig amqp;
  StoreConfig store;
  ProcessingConfig processing;
  OpsConfig ops;
  EvidenceConfig evidence;
};

// What SIGHUP reads again and replaces as a whole: the rules, the calendars, the documents and
// the trust.
struct ReloadableConfig {
  domain::DeadlineTable deadlines = domain::statutory_deadlines();
  CalendarConfig calendar;
  intake::IntakeConfig intake;
  TrustConfig trust;
  DomainConfig domain;
  OutboundConfig outbound;
};

struct Config : StartupConfig, ReloadableConfig {};

// Everything the daemon loads from its configuration at start-up, checked as a whole.
struct Setup {
  Config config;
  // Built from the reloadable part of the configuration.
  std::shared_ptr<const calendar::WorkingCalendar> calendar;
  std::shared_ptr<const intake::Intake> intake;
  std::shared_ptr<const notify::NotificationBuilder> notifications;

  // SIGHUP: the reloadable part of `fresh` (a whole set, checked) replaces this one's; the
  // startup part stays until a restart. Returns those of the connection settings that differ and
  // wait for it: amqp.urls, the input queues' names, store.url, ops.listen.
  std::vector<std::string> take_reloadable(const Setup& fresh);
};

// The further offset held by clock.control_file: zero when the file is missing or empty, an
// error when it holds something other than a duration.
Result<std::chrono::milliseconds> read_clock_control(const std::filesystem::path& file);
// Adds `by` to what clock.control_file holds (written whole, then renamed into place).
Result<std::chrono::milliseconds> advance_clock_control(const std::filesystem::path& file,
                                                        std::chrono::milliseconds by);

// Reads config/adapter.yaml alone (no referenced files are parsed).
std::optional<Config> read_config(yaml::Reader root, yaml::Diagnostics& diagnostics);

// What a command loads beyond the configuration file; each part includes the ones before it, and
// a part not loaded is null in the Setup (its files need not exist; the rest of its keys are
// still checked).
enum class Parts {
  calendar,  // the working-day calendar and its time zone
  intake,    // and the envelope schema, the document mappings, the trust anchors and CRLs
  all,       // and the notifications: their mappings and the signing key
};

// Reads the configuration and every file it names: calendars, the envelope schema, the mappings
// with their schemas, the trust anchors and CRLs, the signing key (those `parts` needs). Every
// problem is recorded; the result is empty if there was any.
// `offline`: revocation from the CRL files and the cached CRLs only, never OCSP (inspect
// --offline).
std::optional<Setup> load_setup(const std::filesystem::path& file, yaml::Diagnostics& diagnostics,
                                bool offline = false, Parts parts = Parts::all);

}  // namespace nqs::configuration
