#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amqp/sync_client.hpp"
#include "configuration/config.hpp"

namespace nqs::cli {

using configuration::Parts;

// A day given as YYYY-MM-DD; said on stderr when it is not one.
std::optional<calendar::Date> parse_day_or_report(const std::string& text);
// Every file's bytes, read before any is used (a typo is a usage error, not a verdict); each
// one that cannot be read (`regular_only`: or is not a regular file, such as a FIFO without an
// end) is said on stderr, and nothing is returned.
std::optional<std::vector<std::string>> read_files_or_report(const std::vector<std::string>& files,
                                                             bool regular_only = false);
// Writes `bytes` exactly to `file` (replaced); false, said on stderr, when it cannot.
bool write_file_or_report(const std::string& file, std::string_view bytes);
// Now as the daemon of this configuration sees it (clock.offset and clock.control_file).
Result<Instant> configured_now(const configuration::Config& config);
// Loads the configuration and the parts of it a command uses, printing every problem to standard
// error.
std::optional<configuration::Setup> load_or_report(const std::filesystem::path& config_file,
                                                   configuration::Parts parts,
                                                   bool offline = false);
// The store of the configuration, the server's notices on stderr.
Result<std::unique_ptr<store::Store>> open_configured_store(const configuration::Config& config);
// A client on the first broker node of amqp.url that answers.
Result<std::unique_ptr<amqp::SyncClient>> connect_broker(const configuration::Config& config);

int check_config(const std::filesystem::path& config_file);
int run_daemon(const std::filesystem::path& config_file);
// Runs intake on each file as the daemon would: the CRLs fetched first and OCSP asked by
// trust.revocation, or (`offline`) from trust.crls and the cached CRLs alone; `at` (an instant)
// replaces the current time for certificate validity. One JSON object per line.
int inspect(const std::filesystem::path& config_file, const std::vector<std::string>& files,
            const std::string& at, bool offline);
int calendar_is_working(const std::filesystem::path& config_file, const std::string& day);
int calendar_add(const std::filesystem::path& config_file, const std::string& day, int n);
int calendar_year(const std::filesystem::path& config_file, int year);
// Open deadlines from the store, earliest due first; `overdue_only`: those past due now.
int sla_list(const std::filesystem::path& config_file, bool overdue_only, bool json);
// The configured clock (tests and rehearsals): print it, or move it forward by a duration.
int clock_show(const std::filesystem::path& config_file);
int clock_advance(const std::filesystem::path& config_file, const std::string& by);

// nqs-adapter dlq ... (cli/dlq.cpp).
struct DlqArguments {
  std::string config;
  std::vector<std::string> ids;
  std::string queue;  // gov | ais | a queue name; empty: both
  std::string reason;
  std::string type;
  std::string since;
  std::string until;
  std::size_t limit = 0;
  std::size_t scan = 10000;  // messages read per dead-letter queue at most
  bool json = false;
  bool dry_run = false;
  bool force = false;
  bool yes = false;
  std::string actor;
  std::string raw;  // dlq show: the body's exact bytes written to this file
};
int dlq_list(const DlqArguments& arguments);
int dlq_show(const DlqArguments& arguments);
int dlq_replay(const DlqArguments& arguments);
int dlq_purge(const DlqArguments& arguments);
int dlq_audit(const DlqArguments& arguments);
// nqs-adapter send (cli/send.cpp): saved messages published to an input queue with confirms.
struct SendArguments {
  std::string config;
  std::string queue;  // gov | ais | an input queue's name
  std::vector<std::string> files;
  std::string message_id;  // the AMQP message id of one file; else its own, else a fresh one
  bool yes = false;        // needed under the production profile
};
int send(const SendArguments& arguments);
// nqs-adapter demo (cli/demo.cpp): one voucher and one refusal played against the running daemon.
struct DemoArguments {
  std::string config;
  std::string pki;    // the local test PKI; empty: trust/local next to the configuration file
  bool step = false;  // wait for Enter between steps
};
int play_demo(const DemoArguments& arguments);
// The adapter's queues: ready, consumers, and what an operator must see (exit 1 if any).
int queues(const std::string& config_file, bool json);

// nqs-adapter evidence ... (cli/evidence.cpp).
struct EvidenceArguments {
  std::string config;
  std::string id;   // show: an evidence id, message id or application id
  std::string raw;  // show: write the exact signed bytes to this file
  std::string day;  // list: only the records of this day
  std::size_t limit = 0;
  bool json = false;
  std::string from;  // export: the first day and the last (YYYY-MM-DD)
  std::string to;
  std::string dir;                   // export: where the day files are written
  std::vector<std::string> exports;  // verify: exported day files, checked without the store
  std::string before;                // purge: the records of the days before this one
  bool yes = false;                  // purge: do it
  std::string actor;                 // purge: who, for the audit (default: the OS user)
};
int evidence_show(const EvidenceArguments& arguments);
int evidence_list(const EvidenceArguments& arguments);
// The store's chain checked whole: every document against its hash, every record against its
// own, every link, and the head (exit 1 with each problem named).
int evidence_verify(const EvidenceArguments& arguments);
// Seals the ended days not sealed yet, as the daemon does each minute (exit 0; 1 on a failure).
int evidence_seal(const EvidenceArguments& arguments);
// One tar file a sealed day from `from` to `to` into `dir` (store/evidence_export.hpp).
int evidence_export(const EvidenceArguments& arguments);
// The records of the days before --before, each exported and verified and unchanged since, older
// than evidence.retention: removed with --yes, audited; the chain then starts after them.
int evidence_purge(const EvidenceArguments& arguments);

}  // namespace nqs::cli
