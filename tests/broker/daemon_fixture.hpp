// The daemon against a real RabbitMQ: the test's side of the broker (queues bound to the
// adapter's exchanges), the daemon's configuration, and signed inputs.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "broker_support.hpp"
#include "intake_support.hpp"

namespace nqs::test {

constexpr const char* kGovIn = "nqs.gov.in";
constexpr const char* kDeadLetters = "nqs.gov.in.dlq";
constexpr const char* kCommands = "test.commands";  // the test's queue on ais.commands
constexpr const char* kOutbound = "test.outbound";  // the test's queue on gov.outbound
constexpr const char* kAisEvents = "nqs.ais.events";
constexpr const char* kAisDeadLetters = "nqs.ais.events.dlq";

// The fixture's application, signed by the applicant.
inline const std::string& signed_application() {
  static const std::string bytes = Envelope("voucher-application").sign("individual-sign").bytes();
  return bytes;
}

// Application number n: its own applicationId (so each is a new application) and messageId.
inline std::string application_message(int n) {
  static std::map<int, std::string> signed_once;
  auto& bytes = signed_once[n];
  if (bytes.empty()) {
    Envelope envelope("voucher-application");
    envelope.set_text("ApplicationId", fmt::format("a0000000-0000-4000-8000-{:012d}", n));
    bytes = envelope.sign("individual-sign").bytes();
  }
  return with_message_id(bytes, message_id_of(n));
}

// What a command of nqs-adapter printed and how it ended.
struct Cli {
  int status = 0;
  std::string out;
  std::vector<boost::json::object> lines;  // stdout as JSON lines, when it is
};

class DaemonWithBroker : public ::testing::Test {
 protected:
  // nqs-adapter ARGUMENTS --config <the test's configuration>, run to its end.
  Cli cli(const std::string& arguments, const std::string& environment = "") {
    const auto out = dir_.path() / "cli.out";
    const auto command = fmt::format("{} {} {} --config {} >{} 2>&1", environment,
                                     NQS_ADAPTER_BINARY, arguments, config_.string(), out.string());
    Cli result;
    const int raw = std::system(command.c_str());
    result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    result.out = read_file(out);
    std::istringstream lines(result.out);
    std::string line;
    while (std::getline(lines, line)) {
      boost::system::error_code ec;
      auto json = boost::json::parse(line, ec);
      if (!ec && json.is_object()) result.lines.push_back(json.as_object());
    }
    return result;
  }

  // On the test broker, or on a node of a cluster (the test's own queues then quorum queues).
  explicit DaemonWithBroker(BrokerNode node = {}, bool quorum = false)
      : node_(std::move(node)), quorum_(quorum), vhost_(node_) {}

  void SetUp() override {
    client_ = std::make_unique<TestClient>(vhost_.name(), node_.port, quorum_);
    write_config();
  }

  void write_config(bool bind_commands = true) {
    if (bind_commands) client_->bind_queue(kCommands, "ais.commands", "#");
    client_->bind_queue(kOutbound, "gov.outbound", "#");
    std::string calendar;
    for (int year = 2023; year <= 2027; ++year) {
      calendar += fmt::format(
          "    - {}\n", source_path(fmt::format("config/calendar/kz-{}.yaml", year)).string());
    }
    std::string mappings;
    for (const char* name : {"voucher-application", "recognition-center-decision",
                             "sick-leave-notice", "recognition-outcome", "service-act"}) {
      mappings += fmt::format("    - {}\n",
                              source_path(std::string("mappings/") + name + ".yaml").string());
    }
    const std::string pki = NQS_TEST_PKI_DIR;
    // NCA's two hierarchies, as in production: RSA and GOST.
    const auto trust = !trust_.empty() ? trust_ : trust_section(pki, true);
    // The MCI of every year a test's clock may reach: the daemon is not ready on a day of a year
    // without it (2027's is a stand-in until its budget law).
    config_ = dir_.write(
        "adapter.yaml",
        fmt::format(
            R"(log: {{level: info, format: text}}
calendar:
  files:
{}intake:
  envelope_schema: {}
  mappings:
{}{}domain: {{mci: {{2025: 3932, 2026: 4325, 2027: 4600}}}}
signing: {}
outbound: {{mappings: [{}]}}
amqp:
  url: {}
  heartbeat: 10s
  reconnect_initial_delay: 100ms
  reconnect_max_delay: 1s
  prefetch: 8
{}store:
  url: {}
  busy_timeout: 100ms
processing:
  retry_initial_delay: 50ms
  retry_max_delay: 1s
  outbox_scan_interval: 200ms
  grace_period: 20s
{})",
            calendar, source_path("xsd/envelope.xsd").string(), mappings, trust,
            signing_.empty() ? signing_value(pki, false) : signing_, outbound_mappings(),
            amqp_url_.empty() ? vhost_.url() : amqp_url_, amqp_extra_,
            store_url_.empty() ? "sqlite:" + (dir_.path() / "store.sqlite").string() : store_url_,
            extra_config_));
  }

  void start_daemon() {
    daemon_ = std::make_unique<DaemonProcess>(config_, dir_.path() / "daemon.log");
    daemon_->start();
    ASSERT_TRUE(eventually([&] {
      auto state = client_->queue_state(kGovIn);
      return state && state->second >= 1;
    })) << "the daemon did not start consuming:\n"
        << daemon_->log_text();
  }

  // Waits until the input queue is empty and all of it acknowledged (ready 0 and the daemon done).
  void wait_until_drained(std::size_t expected_outputs) {
    ASSERT_TRUE(eventually([&] {
      collect();
      return commands_.size() + dead_letters_.size() >= expected_outputs;
    })) << "outputs: "
        << commands_.size() << " commands, " << dead_letters_.size() << " dead letters\n"
        << daemon_->log_text();
  }

  void collect() {
    for (auto& message : client_->drain(kCommands))
      commands_.push_back(std::move(message));
    for (auto& message : client_->drain(kDeadLetters))
      dead_letters_.push_back(std::move(message));
  }

  // Until `count` distinct commands have arrived (a command published twice counts once).
  void wait_for_distinct_commands(std::size_t count) {
    ASSERT_TRUE(eventually([&] {
      collect();
      return distinct_command_ids().size() == count;
    })) << distinct_command_ids().size()
        << " distinct commands\n"
        << daemon_->log_text();
  }

  std::set<std::string> distinct_command_ids() const {
    std::set<std::string> ids;
    for (const auto& command : commands_)
      ids.insert(command.properties.message_id);
    return ids;
  }

  std::int64_t evidence_count(const char* outcome) const {
    return count_of("SELECT count(*) FROM evidence WHERE outcome = ?", outcome);
  }
  std::int64_t inbox_count(const char* outcome) const {
    return count_of("SELECT count(*) FROM inbox WHERE outcome = ?", outcome);
  }
  // A count the test's SQLite store answers, its one parameter bound.
  std::int64_t count_of(const char* sql, const char* value) const {
    sqlite3* db = nullptr;
    sqlite3_open((dir_.path() / "store.sqlite").c_str(), &db);
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, sql, -1, &statement, nullptr);
    sqlite3_bind_text(statement, 1, value, -1, SQLITE_STATIC);
    sqlite3_step(statement);
    const auto count = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return count;
  }

  TempDir dir_;
  BrokerNode node_;
  bool quorum_ = false;
  TestVhost vhost_;
  std::unique_ptr<TestClient> client_;
  std::filesystem::path config_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::string extra_config_;  // appended to adapter.yaml by write_config
  std::string signing_;       // the signing section (YAML flow); empty: the RSA test key
  std::string trust_;         // the trust section (block YAML); empty: the test PKI's files
  std::string store_url_;     // store.url; empty: a SQLite file in the test's folder
  std::string amqp_url_;      // amqp.url (one URL or a YAML flow list); empty: the test vhost
  std::string amqp_extra_;    // further lines of the amqp section, each indented by two spaces
  std::vector<Received> commands_;
  std::vector<Received> dead_letters_;
};

}  // namespace nqs::test
