#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "amqp/names.hpp"
#include "amqp/url.hpp"
#include "calendar/working_calendar.hpp"
#include "common/result.hpp"
#include "domain/deadlines.hpp"
#include "domain/rules.hpp"
#include "intake/intake.hpp"
#include "log/logging.hpp"
#include "store/store.hpp"
#include "xml/xml_limits.hpp"
#include "xmldsig/trust_store.hpp"
#include "yaml/reader.hpp"

namespace nqs::intake {
class Intake;
}
namespace nqs::notify {
class NotificationBuilder;
}

namespace nqs::configuration {

struct CalendarSettings {
  std::string time_zone = "Asia/Almaty";
  std::vector<std::filesystem::path> files;
};

struct TrustConfig {
  std::vector<std::filesystem::path> anchors;
  std::vector<std::filesystem::path> crls;  // the offline option: files an operator replaces
  std::vector<std::string> allowed_algorithms;
  std::size_t certificate_cache_size = 10000;
  int min_rsa_bits = 2048;
  std::vector<std::string> ec_curves = {"P-256"};
  xmldsig::RevocationPolicy revocation = xmldsig::RevocationPolicy::crl;
  // CRLs fetched from the anchors' distribution points, these URLs, and those that verified
  // signer certificates name; kept in crl_cache_dir.
  bool crl_fetch = true;
  std::vector<std::string> crl_urls;
  std::filesystem::path crl_cache_dir;  // resolved against the configuration file's folder
  std::chrono::milliseconds crl_refresh_interval{std::chrono::hours{1}};
  std::chrono::milliseconds crl_refresh_before{std::chrono::hours{2}};
  std::chrono::milliseconds crl_warn_before{std::chrono::hours{1}};
  std::chrono::milliseconds crl_fetch_timeout{std::chrono::seconds{30}};
  std::int64_t crl_max_bytes = 128LL * 1024 * 1024;
  std::string ocsp_url;  // instead of the certificates' AIA
  std::chrono::milliseconds ocsp_timeout{std::chrono::seconds{3}};
  std::chrono::milliseconds ocsp_max_age{std::chrono::minutes{10}};
  std::int64_t ocsp_cache_size = 10000;
  // The adapter's signing certificate, the anchors and the CRL signers: said ahead of their end.
  std::chrono::milliseconds expiry_warn_before{std::chrono::hours{24 * 30}};
};

// The monthly calculation index of each financial year, in tenge (domain.md "Money": set by the
// budget law each year).
struct DomainConfig {
  std::map<int, std::int64_t> mci;
  domain::Policy policy;  // what the Rules leave open (domain.md, "Readings settled by the audit")
};

// The adapter's own signature on its notifications to the bus, and how they are built.
struct OutboundConfig {
  std::filesystem::path signing_key;
  std::filesystem::path signing_certificate;    // PEM: the adapter's certificate, then its CAs
  std::filesystem::path signing_pkcs12;         // or both in a PKCS#12, as NCA RK delivers them
  std::filesystem::path signing_password_file;  // its password (else NQS_SIGNING_PASSWORD)
  std::string sender_id = "nqs-adapter";
  std::string service_id = "NQS_VOUCHER";
  std::vector<std::filesystem::path> mappings;
};

struct AmqpTlsConfig {
  std::filesystem::path ca_file;  // empty: the system's CAs
  std::filesystem::path certificate;
  std::filesystem::path key;
  bool verify_hostname = true;
};

// The queue and exchange names are amqp::Names, which it extends.
struct AmqpConfig : amqp::Names {
  // One URL, or the nodes of one cluster (same scheme, credentials and vhost), checked by
  // amqp::parse_amqp_urls when read.
  std::vector<std::string> urls{"amqp://guest:guest@127.0.0.1:5672/"};
  AmqpTlsConfig tls;
  std::chrono::milliseconds heartbeat{60000};
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds reconnect_initial_delay{500};
  std::chrono::milliseconds reconnect_max_delay{30000};
  std::int64_t prefetch = 32;
  std::int64_t max_header_bytes = 32768;
  std::int64_t delivery_limit = 20;
};

struct StoreConfig {
  std::string url;          // sqlite:PATH or postgresql://...
  std::string sqlite_path;  // resolved against the configuration file's folder
  std::chrono::milliseconds busy_timeout{5000};
  // PostgreSQL: how long a connection attempt to one host, and one statement, may take.
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{15000};
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

// config/adapter.yaml as read, with every relative path resolved against the file's folder.
struct Config {
  std::filesystem::path source;
  std::string profile = "local";  // local | production
  ClockConfig clock;
  domain::DeadlineTable deadlines = domain::statutory_deadlines();
  log::LogSettings log;
  CalendarSettings calendar;
  intake::IntakeSettings intake;
  TrustConfig trust;
  DomainConfig domain;
  OutboundConfig outbound;
  AmqpConfig amqp;
  StoreConfig store;
  ProcessingConfig processing;
  OpsConfig ops;
};

// Everything the daemon loads from its configuration at start-up, checked as a whole.
struct Setup {
  Config config;
  std::shared_ptr<const calendar::WorkingCalendar> calendar;
  std::shared_ptr<const intake::Intake> intake;
  std::shared_ptr<const notify::NotificationBuilder> notifications;
};

// The further offset held by clock.control_file: zero when the file is missing or empty, an
// error when it holds something other than a duration.
Result<std::chrono::milliseconds> read_clock_control(const std::filesystem::path& file);
// Adds `by` to what clock.control_file holds (written whole, then renamed into place).
Result<std::chrono::milliseconds> advance_clock_control(const std::filesystem::path& file,
                                                        std::chrono::milliseconds by);

// The broker nodes of amqp.urls with the connection settings of the amqp section (already checked
// when the configuration was read).
Result<std::vector<amqp::ConnectionSettings>> broker_nodes(const AmqpConfig& amqp);

// The PostgreSQL settings of the store section; the server's notices go to `on_notice`.
store::PostgresSettings postgres_settings(const StoreConfig& store,
                                          std::function<void(const std::string&)> on_notice);

// Reads config/adapter.yaml alone (no referenced files are parsed).
std::optional<Config> read_config(yaml::Reader root, yaml::Diagnostics& diagnostics);

// Reads the configuration and every file it names: calendars, the envelope schema, the mappings
// with their schemas, the trust anchors and CRLs. Every problem is recorded; the result is empty if
// there was any.
// `offline`: revocation from the CRL files and the cached CRLs only, never OCSP (inspect
// --offline).
std::optional<Setup> load_setup(const std::filesystem::path& file, yaml::Diagnostics& diagnostics,
                                bool offline = false);

}  // namespace nqs::configuration
