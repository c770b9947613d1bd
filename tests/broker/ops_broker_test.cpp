// Operations against a running daemon: real HTTP requests to /healthz, /readyz (flipping when
// the broker stops and back when it returns) and /metrics after a known traffic mix; and
// `nqs-adapter queues`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/instant.hpp"
#include "ops_fixture.hpp"

namespace nqs::test {
namespace {

using ::testing::HasSubstr;

TEST_F(Operations, ReadinessFollowsTheBrokerWhileHealthStaysUp) {
  const auto health = get(port_, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  ASSERT_TRUE(eventually([&] { return get(port_, "/readyz").status == 200; }))
      << get(port_, "/readyz").body;
  const auto ready = boost::json::parse(get(port_, "/readyz").body).as_object();
  EXPECT_TRUE(ready.at("ready").as_bool());
  for (const char* check : {"broker", "store", "trust", "calendar", "outbox"}) {
    EXPECT_TRUE(ready.at("checks").at(check).at("ok").as_bool()) << check;
  }
  EXPECT_EQ(get(port_, "/nothing").status, 404);

  client_.reset();
  ASSERT_EQ(broker_ctl("stop_app"), 0);
  Answer answer;
  ASSERT_TRUE(eventually([&] {
    answer = get(port_, "/readyz");
    return answer.status == 503;
  })) << answer.body;
  const auto not_ready = boost::json::parse(answer.body).as_object();
  EXPECT_FALSE(not_ready.at("ready").as_bool());
  EXPECT_FALSE(not_ready.at("checks").at("broker").at("ok").as_bool());
  EXPECT_THAT(std::string(not_ready.at("checks").at("broker").at("detail").as_string()),
              HasSubstr("not connected"));
  EXPECT_TRUE(not_ready.at("checks").at("store").at("ok").as_bool());
  EXPECT_EQ(get(port_, "/healthz").status, 200) << "the process and its loop still answer";

  ASSERT_EQ(broker_ctl("start_app"), 0);
  ASSERT_TRUE(eventually([&] { return get(port_, "/readyz").status == 200; }))
      << get(port_, "/readyz").body << daemon_->log_text();
  client_ = std::make_unique<TestClient>(vhost_.name());
  EXPECT_EQ(daemon_->stop(), 0);
}

TEST_F(Operations, MetricsCountAKnownTrafficMix) {
  client_->publish(kGovIn, application_message(1), message_id_of(1));
  client_->publish(kGovIn, application_message(2), message_id_of(2));
  client_->publish(kGovIn, application_message(1), message_id_of(1));  // a duplicate
  const std::string altered = with_message_id(signed_application(), message_id_of(6))
                                  .replace(signed_application().find("Сварщик"), 14, "Инженер");
  client_->publish(kGovIn, altered, "altered");
  client_->publish(kAisEvents, "{not json", "broken", "application/json");
  std::string metrics;
  ASSERT_TRUE(eventually([&] {
    metrics = get(port_, "/metrics").body;
    return sample(metrics, "nqs_input_duration_seconds_count") == 5 &&
           sample(metrics, "nqs_queue_messages{queue=\"nqs.gov.in.dlq\"}") == 1 &&
           sample(metrics, "nqs_outbox_pending") == 0;
  })) << metrics;
  EXPECT_EQ(sample(metrics,
                   "nqs_inputs_total{document_type=\"VoucherApplication\",outcome="
                   "\"processed\",queue=\"nqs.gov.in\",reason=\"\"}"),
            2);
  EXPECT_EQ(sample(metrics,
                   "nqs_inputs_total{document_type=\"VoucherApplication\",outcome="
                   "\"rejected\",queue=\"nqs.gov.in\",reason=\"signature.invalid\"}"),
            1);
  EXPECT_EQ(sample(metrics,
                   "nqs_inputs_total{document_type=\"\",outcome=\"rejected\",queue="
                   "\"nqs.ais.events\",reason=\"json.invalid\"}"),
            1);
  EXPECT_EQ(sample(metrics, "nqs_duplicates_total{queue=\"nqs.gov.in\"}"), 1);
  EXPECT_EQ(sample(metrics, "nqs_intake_duration_seconds_count"), 4) << "the duplicate too";
  EXPECT_EQ(sample(metrics, "nqs_input_duration_seconds_bucket{le=\"+Inf\"}"), 5);
  // Each input in one transaction (several may share one), and each transaction timed.
  EXPECT_EQ(sample(metrics, "nqs_commit_inputs_sum"), 5);
  EXPECT_GE(sample(metrics, "nqs_commit_inputs_count"), 1);
  EXPECT_EQ(sample(metrics, "nqs_commit_duration_seconds_count"),
            sample(metrics, "nqs_commit_inputs_count"));
  EXPECT_GT(sample(metrics, "nqs_commit_duration_seconds_sum"), 0);
  EXPECT_EQ(sample(metrics, "nqs_queue_messages{queue=\"nqs.ais.events.dlq\"}"), 1);
  EXPECT_EQ(sample(metrics, "nqs_queue_consumers{queue=\"nqs.gov.in\"}"), 1);
  EXPECT_EQ(
      sample(metrics, fmt::format("nqs_broker_connected{{node=\"127.0.0.1:{}\"}}", broker_port())),
      1);
  EXPECT_EQ(sample(metrics, "nqs_broker_failovers_total"), 0);
  EXPECT_EQ(sample(metrics, "nqs_ready"), 1);
  EXPECT_EQ(sample(metrics, "nqs_timers_pending"), 0);
  EXPECT_EQ(sample(metrics, "nqs_decided_again_total"), 0) << "one instance: no race lost";
  EXPECT_EQ(sample(metrics, "nqs_outbox_parked"), 0);
  EXPECT_EQ(sample(metrics, "nqs_intake_in_progress"), 0);
  EXPECT_THAT(metrics, HasSubstr("# TYPE nqs_inputs_total counter"));
  EXPECT_THAT(daemon_->log_text(), HasSubstr("the dead-letter queue grows"));

  // Every metric the monitoring pack's alerts and dashboard use is in this scrape
  // (containers/monitoring; promtool checks the rules).
  const auto scrape = dir_.write("scrape.txt", metrics);
  const auto checked = dir_.path() / "monitoring.out";
  const int pack = std::system(
      fmt::format("bash {} {} {} >{} 2>&1",
                  source_path("tests/monitoring/check-monitoring.sh").string(),
                  source_path("containers/monitoring").string(), scrape.string(), checked.string())
          .c_str());
  EXPECT_EQ(WEXITSTATUS(pack), 0) << read_file(checked);

  // The command line's view of the same queues.
  const auto out = dir_.path() / "queues.out";
  const int status = std::system(fmt::format("{} queues --json --config {} >{} 2>&1",
                                             NQS_ADAPTER_BINARY, config_.string(), out.string())
                                     .c_str());
  EXPECT_EQ(WEXITSTATUS(status), 0) << read_file(out);
  EXPECT_THAT(read_file(out),
              HasSubstr(R"x({"queue":"nqs.gov.in.dlq","role":"dead letters",)x"
                        R"x("ready":1,"consumers":0,"unacked":0,"oldestAgeSeconds":)x"));
  EXPECT_THAT(read_file(out),
              HasSubstr(R"x("state":"dead letters waiting (nqs-adapter dlq list)"})x"));
  EXPECT_THAT(read_file(out),
              HasSubstr(R"x("queue":"nqs.gov.in","role":"input","ready":0,)x"
                        R"x("consumers":1,"unacked":0,"oldestAgeSeconds":null,"state":"ok")x"));
  EXPECT_THAT(read_file(out), HasSubstr(R"x({"queue":"outbox","role":"outbox","ready":0,)x"
                                        R"x("parked":0,"oldestAgeSeconds":null,"state":"ok"})x"));
  // A dead letter older than ops.dead_letter_alert_after needs attention (exit 1); it is only
  // looked at, never taken.
  const auto alert = dir_.write(
      "alert.yaml", replaced(read_file(config_), "queue_poll_interval: 200ms,",
                             "queue_poll_interval: 200ms, dead_letter_alert_after: 1s,"));
  ASSERT_TRUE(eventually([&] {
    const int code = std::system(fmt::format("{} queues --config {} >{} 2>&1", NQS_ADAPTER_BINARY,
                                             alert.string(), out.string())
                                     .c_str());
    return WEXITSTATUS(code) == 1;
  })) << read_file(out);
  EXPECT_THAT(read_file(out), HasSubstr("dead letters waiting, the oldest for"));
  EXPECT_THAT(read_file(out), HasSubstr("(over 1s)"));
  // Looked at, not taken: back in its queue once the command's connection is closed.
  EXPECT_TRUE(eventually([&] { return client_->queue_state(kDeadLetters)->first == 1U; }));
  EXPECT_EQ(daemon_->stop(), 0);
  // Stopped: nothing consumes, so the input queue's messages would wait with no consumer.
  client_->publish(kGovIn, application_message(3), message_id_of(3));
  const int stopped = std::system(fmt::format("{} queues --config {} >{} 2>&1", NQS_ADAPTER_BINARY,
                                              config_.string(), out.string())
                                      .c_str());
  EXPECT_EQ(WEXITSTATUS(stopped), 1);
  EXPECT_THAT(read_file(out), HasSubstr("messages waiting with no consumer"));
}

// A message in the outbox the broker refuses every time (its user_id is not the connection's
// user: 406 PRECONDITION_FAILED closes the channel) and one whose stored properties cannot be read
// are set aside, counted and shown; they do not hold the connection in a loop of reconnects, and
// the traffic around them flows.
TEST_F(Operations, AnOutboxMessageTheBrokerAlwaysRefusesIsSetAsideAndTrafficFlows) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "store.sqlite").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  const auto now = to_utc_string(
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()));
  const auto rows = fmt::format(
      "INSERT INTO inbox (input_key, source, outcome, body_sha256, received_at) VALUES "
      "('test:refused', 'gov', 'processed', '00', '{0}');"
      "INSERT INTO outbox (message_key, input_key, exchange_name, routing_key, properties, "
      "created_at) VALUES ('refused-1', 'test:refused', 'ais.commands', 'voucher.issue', "
      "'{{\"user_id\":\"someone-else\",\"persistent\":true,\"headers\":{{}}}}', '{0}'),"
      "('refused-2', 'test:refused', 'ais.commands', 'voucher.issue', 'not json', '{0}');"
      "INSERT INTO outbox_bodies (id, body) SELECT id, 'body' FROM outbox WHERE input_key = "
      "'test:refused';",
      now);
  ASSERT_EQ(sqlite3_exec(db, rows.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  for (int n = 1; n <= 3; ++n)
    client_->publish(kGovIn, application_message(n), message_id_of(n));
  wait_for_distinct_commands(3);
  std::string metrics;
  ASSERT_TRUE(eventually([&] {
    metrics = get(port_, "/metrics").body;
    return sample(metrics, "nqs_outbox_parked") == 2 && sample(metrics, "nqs_outbox_pending") == 0;
  })) << metrics
      << daemon_->log_text();
  const auto log = daemon_->log_text();
  EXPECT_THAT(log, HasSubstr("the broker refused it 3 times"));
  EXPECT_THAT(log, HasSubstr("its stored properties cannot be read"));
  // One lost channel per refusal: three alone, perhaps one before in company; then no more.
  // (Counted from the log by their cause: a reconnect attempt that fails on a busy machine is
  // retried, and counted again by nqs_broker_reconnects_total.)
  ASSERT_TRUE(eventually([&] { return get(port_, "/readyz").status == 200; }))
      << get(port_, "/readyz").body;
  const auto refusals = count_lines(daemon_->log_text(), "lost the broker node", "406");
  EXPECT_GE(refusals, 3) << daemon_->log_text();
  EXPECT_LE(refusals, 4) << daemon_->log_text();
  const auto reconnects = sample(get(port_, "/metrics").body, "nqs_broker_reconnects_total");
  EXPECT_GE(reconnects, 3);
  const auto ready = boost::json::parse(get(port_, "/readyz").body).as_object();
  EXPECT_TRUE(ready.at("checks").at("outbox").at("ok").as_bool());
  EXPECT_THAT(std::string(ready.at("checks").at("outbox").at("detail").as_string()),
              HasSubstr("2 set aside"));
  // Set aside for good: later traffic flows on the same connection.
  for (int n = 4; n <= 5; ++n)
    client_->publish(kGovIn, application_message(n), message_id_of(n));
  wait_for_distinct_commands(5);
  EXPECT_EQ(client_->queue_state(kGovIn)->first, 0U);
  EXPECT_EQ(sample(get(port_, "/metrics").body, "nqs_broker_reconnects_total"), reconnects);
  // A command can reach its queue before its confirm deletes its outbox row (a slow, sanitized
  // build shows it): wait for the outbox to hold only the two set aside.
  ASSERT_TRUE(
      eventually([&] { return sample(get(port_, "/metrics").body, "nqs_outbox_pending") == 0; }));
  const auto out = dir_.path() / "queues.out";
  const int status = std::system(fmt::format("{} queues --json --config {} >{} 2>&1",
                                             NQS_ADAPTER_BINARY, config_.string(), out.string())
                                     .c_str());
  EXPECT_EQ(WEXITSTATUS(status), 1) << read_file(out);
  EXPECT_THAT(read_file(out), HasSubstr(R"x({"queue":"outbox","role":"outbox","ready":0,)x"
                                        R"x("parked":2,"oldestAgeSeconds":null,)x"));
  EXPECT_EQ(daemon_->stop(), 0);
}

// A document that costs seconds of CPU (limits raised far enough to let libxml2's quadratic
// duplicate-attribute check through) is read on a worker thread: the event loop keeps the
// heartbeats (1 s here: two missed and the broker closes the connection), answers /healthz and
// /metrics, and the inputs sent after it are processed while it is still being read; then it is
// one dead letter, over its CPU budget.
class SlowInput : public Operations {
 protected:
  void configure() override {
    auto text = read_file(config_);
    text = replaced(text, "heartbeat: 10s", "heartbeat: 1s");
    text = replaced(text, "processing:\n", "processing:\n  workers: 2\n");
    text = replaced(text, "intake:\n",
                    "intake:\n  limits: {max_attributes: 100000, max_attributes_total: 100000, "
                    "cpu_time: 100ms}\n");
    std::ofstream(config_) << text;
  }
};

TEST_F(SlowInput, ADocumentThatCostsSecondsHoldsNeitherTheLoopNorTheOtherInputs) {
  std::string bomb = "<a";
  for (int i = 0; i < 60000; ++i)
    bomb += fmt::format(" a{}=\"1\"", i);
  bomb += "/>";
  client_->publish(kGovIn, bomb, "bomb");
  std::string metrics;
  ASSERT_TRUE(eventually([&] {
    metrics = get(port_, "/metrics").body;
    return sample(metrics, "nqs_intake_in_progress") == 1;
  })) << metrics;
  for (int n = 1; n <= 3; ++n)
    client_->publish(kGovIn, application_message(n), message_id_of(n));
  wait_for_distinct_commands(3);
  // Processed while the bomb is still being read, with the loop answering.
  metrics = get(port_, "/metrics").body;
  EXPECT_EQ(sample(metrics, "nqs_intake_in_progress"), 1) << "the bomb is still being read";
  EXPECT_TRUE(dead_letters_.empty());
  EXPECT_EQ(get(port_, "/healthz").status, 200);
  wait_until_drained(4);
  ASSERT_EQ(dead_letters_.size(), 1U);
  const auto& letter = dead_letters_.front();
  EXPECT_EQ(letter.properties.headers.at("x-nqs-reason").as_string(), "xml.too_complex");
  EXPECT_THAT(std::string(letter.properties.headers.at("x-nqs-detail").as_string()),
              HasSubstr("ms of CPU time by the end of parsing: over the budget of 100 ms"));
  EXPECT_EQ(sample(get(port_, "/metrics").body, "nqs_broker_reconnects_total"), 0)
      << "the heartbeats never stopped\n"
      << daemon_->log_text();
  EXPECT_EQ(daemon_->stop(), 0);
}

// SIGHUP reloads trust, calendars and mappings between inputs; a set with a problem is refused
// and the old one keeps working.
class Reload : public DaemonWithBroker {
 protected:
  void SetUp() override {
    DaemonWithBroker::SetUp();
    full_ = read_file(config_);
    mapping_line_ =
        fmt::format("    - {}\n", source_path("mappings/voucher-application.yaml").string());
    ASSERT_NE(full_.find(mapping_line_), std::string::npos);
    // Started without the application's mapping: applications are unknown documents.
    write(replaced(full_, mapping_line_, ""));
    start_daemon();
  }
  void write(const std::string& text) { dir_.write("adapter.yaml", text); }
  void hangup() { ::kill(daemon_->pid(), SIGHUP); }
  std::string reason_of_next_dead_letter() {
    std::string reason;
    EXPECT_TRUE(eventually([&] {
      auto letters = client_->drain(kDeadLetters);
      if (letters.empty()) return false;
      reason = std::string(letters.front().properties.headers.at("x-nqs-reason").as_string());
      return true;
    })) << daemon_->log_text();
    return reason;
  }

  std::string full_;
  std::string mapping_line_;
};

TEST_F(Reload, SighupLoadsANewMappingAndRefusesABrokenSet) {
  client_->publish(kGovIn, application_message(1), message_id_of(1));
  EXPECT_EQ(reason_of_next_dead_letter(), "soap.unknown_document");

  // A broken set (a mapping file that does not exist): refused, the old set goes on.
  write(replaced(full_, mapping_line_, mapping_line_ + "    - /nonexistent/mapping.yaml\n"));
  hangup();
  ASSERT_TRUE(eventually([&] {
    return daemon_->log_text().find("reload refused") != std::string::npos;
  })) << daemon_->log_text();
  EXPECT_THAT(daemon_->log_text(), HasSubstr("/nonexistent/mapping.yaml"));
  client_->publish(kGovIn, application_message(2), message_id_of(2));
  EXPECT_EQ(reason_of_next_dead_letter(), "soap.unknown_document");

  // The good set: the next application is read with the new mapping.
  write(full_);
  hangup();
  ASSERT_TRUE(eventually([&] {
    return daemon_->log_text().find("reloaded calendar=") != std::string::npos;
  })) << daemon_->log_text();
  client_->publish(kGovIn, application_message(3), message_id_of(3));
  wait_until_drained(1);
  ASSERT_EQ(commands_.size(), 1U);
  EXPECT_EQ(commands_.front().routing_key, "RecordAutomaticRefusal");
  EXPECT_THAT(daemon_->log_text(), HasSubstr("latencyMs="));
  EXPECT_EQ(daemon_->stop(), 0);
}

// The daemon given two nodes, the first of which nothing listens on.
// The daemon's clock moved to 15 November of the last year the shipped calendars cover (2027),
// whose coming year has neither a calendar nor an MCI.
class NextYearNotConfigured : public Operations {
 protected:
  void configure() override {
    const auto target =
        date::sys_days{date::year{2027} / date::November / 15} + std::chrono::hours{6};
    const auto hours =
        std::chrono::duration_cast<std::chrono::hours>(target - std::chrono::system_clock::now());
    ASSERT_GT(hours.count(), 0) << "the shipped calendars end before this test's day";
    std::ofstream(config_, std::ios::app) << fmt::format("clock: {{offset: {}h}}\n", hours.count());
  }
};

TEST_F(NextYearNotConfigured, IsSaidInReadinessMetricsAndTheLogWithoutFailing) {
  ASSERT_TRUE(eventually([&] { return get(port_, "/readyz").status == 200; }))
      << get(port_, "/readyz").body;
  const auto ready = boost::json::parse(get(port_, "/readyz").body).as_object();
  const auto& calendar = ready.at("checks").at("calendar").as_object();
  EXPECT_TRUE(calendar.at("ok").as_bool());
  EXPECT_THAT(std::string(calendar.at("detail").as_string()),
              HasSubstr("2027 configured; 2028 lacks the calendar file (calendar.files: "
                        "kz-2028.yaml) and the MCI (domain.mci: 2028) (add it before 2028-01-01)"));
  EXPECT_EQ(sample(get(port_, "/metrics").body, "nqs_calendar_next_year_missing"), 1);
  EXPECT_THAT(daemon_->log_text(), HasSubstr("the coming year is not configured yet"));
  EXPECT_EQ(daemon_->stop(), 0);
}

class OperationsOnTwoNodes : public Operations {
 protected:
  void configure() override {
    amqp_url_ =
        fmt::format("['amqp://guest:guest@127.0.0.1:1/{}', '{}']", vhost_.name(), vhost_.url());
    write_config();
  }
};

TEST_F(OperationsOnTwoNodes, ReadinessAndMetricsNameTheNodeInUseAndTheOnesThatFailed) {
  const auto live = fmt::format("127.0.0.1:{}", broker_port());
  ASSERT_TRUE(eventually([&] { return get(port_, "/readyz").status == 200; }))
      << get(port_, "/readyz").body;
  auto ready = boost::json::parse(get(port_, "/readyz").body).as_object();
  EXPECT_THAT(std::string(ready.at("checks").at("broker").at("detail").as_string()),
              HasSubstr("connected to " + live + " (RabbitMQ "));
  auto metrics = get(port_, "/metrics").body;
  EXPECT_EQ(sample(metrics, "nqs_broker_connected{node=\"" + live + "\"}"), 1);
  EXPECT_EQ(sample(metrics, "nqs_broker_connected{node=\"127.0.0.1:1\"}"), 0);

  // Both nodes gone: each is tried in the round, and readiness names why each failed.
  client_.reset();
  ASSERT_EQ(broker_ctl("stop_app"), 0);
  Answer answer;
  ASSERT_TRUE(eventually([&] {
    answer = get(port_, "/readyz");
    return answer.status == 503 &&
           answer.body.find("127.0.0.1:1 unreachable") != std::string::npos &&
           answer.body.find(live + " unreachable") != std::string::npos;
  })) << answer.body;
  ASSERT_EQ(broker_ctl("start_app"), 0);
  ASSERT_TRUE(eventually([&] { return get(port_, "/readyz").status == 200; }))
      << get(port_, "/readyz").body << daemon_->log_text();
  ready = boost::json::parse(get(port_, "/readyz").body).as_object();
  EXPECT_THAT(std::string(ready.at("checks").at("broker").at("detail").as_string()),
              ::testing::Not(HasSubstr(live + " unreachable")))
      << "a node's failure is forgotten once it is connected to";
  client_ = std::make_unique<TestClient>(vhost_.name());
  const auto log = daemon_->log_text();
  EXPECT_LT(log.find("lost the broker node"), log.rfind("connected to the broker"));
}

}  // namespace
}  // namespace nqs::test
