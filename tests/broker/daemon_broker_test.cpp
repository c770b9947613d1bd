// The daemon against a real RabbitMQ: inputs become commands or dead letters, exactly once in
// effect, through broker restarts, kill -9, duplicates, unroutable publishes and deleted queues.
// After each: commands + dead letters + duplicates account for every input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "amqp/fields.hpp"
#include "common/ids.hpp"
#include "daemon_fixture.hpp"
#include "domain/commands.hpp"
#include "ops/dead_letters.hpp"

namespace nqs::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST_F(DaemonWithBroker, InputsBecomeCommandsOrDeadLettersWithTheirReasons) {
  start_daemon();
  for (int n = 1; n <= 5; ++n) {
    client_->publish(kGovIn, application_message(n), message_id_of(n));
  }
  const std::string altered = with_message_id(signed_application(), message_id_of(6))
                                  .replace(signed_application().find("Сварщик"), 14, "Инженер");
  client_->publish(kGovIn, altered, "altered-1");
  client_->publish(kGovIn, "<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>",
                   "xxe-1");
  wait_until_drained(7);

  ASSERT_EQ(commands_.size(), 5U);
  EXPECT_EQ(distinct_command_ids().size(), 5U);
  // No allocation for the region: each application is refused by the automatic checks (ground
  // (b) of art. 3), to the AIS and, signed, to the bus.
  const auto first = std::find_if(commands_.begin(), commands_.end(), [](const Received& c) {
    return boost::json::parse(c.body).at("causationId").as_string() == message_id_of(1);
  });
  ASSERT_NE(first, commands_.end());
  const auto& command = *first;
  EXPECT_EQ(command.routing_key, "RecordAutomaticRefusal");
  EXPECT_EQ(command.properties.content_type, "application/json");
  EXPECT_TRUE(command.properties.persistent);
  EXPECT_TRUE(command.properties.timestamp.has_value());
  const auto body = boost::json::parse(command.body).as_object();
  EXPECT_EQ(body.at("type").as_string(), "RecordAutomaticRefusal");
  const std::string application = "a0000000-0000-4000-8000-000000000001";
  EXPECT_EQ(body.at("correlationId").as_string(), application);
  EXPECT_EQ(command.properties.correlation_id, application);
  // Deterministic: the id is a function of the input's messageId and the command type.
  EXPECT_EQ(body.at("commandId").as_string(),
            domain::command_id_for(message_id_of(1), "RecordAutomaticRefusal"));
  EXPECT_EQ(command.properties.message_id, body.at("commandId").as_string());
  EXPECT_EQ(body.at("payload").at("applicant").at("iin").as_string(), "850101300124");
  auto notifications = client_->drain(kOutbound);
  ASSERT_EQ(notifications.size(), 5U);
  for (const auto& notification : notifications) {
    EXPECT_EQ(notification.routing_key, "ApplicationRefused");
    EXPECT_EQ(notification.properties.content_type, "text/xml");
    EXPECT_THAT(notification.body, HasSubstr("no_quota_left"));
    EXPECT_THAT(notification.body, Not(HasSubstr("not_registered_unemployed")))
        << "an applicant the AIS never mentioned is not refused for it";
  }

  ASSERT_EQ(dead_letters_.size(), 2U);
  std::map<std::string, Received> by_id;
  for (const auto& letter : dead_letters_)
    by_id[std::string(letter.properties.headers.at("x-nqs-message-id").as_string())] = letter;
  const auto& invalid = by_id.at("altered-1");
  // A dead letter's own id is its rejection's key: any copy of it is recognisably the same.
  EXPECT_THAT(invalid.properties.message_id, ::testing::StartsWith("gov:rejected:"));
  EXPECT_EQ(invalid.body, altered) << "the original body, unchanged";
  EXPECT_EQ(invalid.properties.content_type, "text/xml");
  EXPECT_EQ(invalid.properties.headers.at("x-test-origin").as_string(), "nqs-tests")
      << "original headers kept";
  EXPECT_EQ(invalid.properties.headers.at("x-nqs-reason").as_string(), "signature.invalid");
  EXPECT_THAT(std::string(invalid.properties.headers.at("x-nqs-detail").as_string()),
              HasSubstr("changed after signing"));
  EXPECT_TRUE(
      parse_instant(std::string(invalid.properties.headers.at("x-nqs-failed-at").as_string())));
  EXPECT_EQ(by_id.at("xxe-1").properties.headers.at("x-nqs-reason").as_string(),
            "xml.forbidden_construct");

  // Everything acknowledged: nothing left in the input queue.
  ASSERT_TRUE(eventually([&] { return client_->queue_state(kGovIn)->first == 0; }));
  EXPECT_EQ(daemon_->stop(), 0);
  EXPECT_EQ(inbox_count("processed"), 5);
  EXPECT_EQ(inbox_count("rejected"), 2);
  EXPECT_THAT(daemon_->log_text(),
              HasSubstr("nqs-adapter stopped processed=5 rejected=2 duplicates=0"));
  EXPECT_EQ(evidence_count("rejected"), 0) << "evidence.keep_rejected is off by default";
  EXPECT_EQ(evidence_count("accepted"), 5);
}

// Issue 18: under evidence.keep_rejected each message refused from the bus is archived too, with
// its reason, its exact bytes and its dead letter, in the transaction that refuses it; the chain
// stays unbroken, and only accepted documents are verified again.
TEST_F(DaemonWithBroker, UnderKeepRejectedEachRefusedMessageIsArchivedWithItsReason) {
  extra_config_ = "evidence: {keep_rejected: true}\n";
  write_config();
  start_daemon();
  client_->publish(kGovIn, application_message(1), message_id_of(1));
  const std::string altered = with_message_id(signed_application(), message_id_of(6))
                                  .replace(signed_application().find("Сварщик"), 14, "Инженер");
  client_->publish(kGovIn, altered, "altered-1");
  client_->publish(kGovIn, "<a>not a bus message</a>", "junk-1");
  wait_until_drained(3);
  ASSERT_TRUE(eventually([&] { return client_->queue_state(kGovIn)->first == 0; }));
  EXPECT_EQ(daemon_->stop(), 0);
  EXPECT_EQ(evidence_count("rejected"), 2);

  auto listed = cli("evidence list --json");
  std::map<std::string, boost::json::object> rejected;
  for (const auto& line : listed.lines) {
    if (line.at("outcome").as_string() == "rejected")
      rejected[std::string(line.at("reason").as_string())] = line;
  }
  ASSERT_EQ(rejected.size(), 2U) << listed.out;
  const auto& invalid = rejected.at("signature.invalid");
  EXPECT_EQ(invalid.at("messageId").as_string(), message_id_of(6)) << "as it claims";
  EXPECT_EQ(invalid.at("documentType").as_string(), "VoucherApplication");
  EXPECT_EQ(invalid.at("bodySha256").as_string(), sha256_hex(altered));
  EXPECT_EQ(invalid.at("caused").as_array().size(), 1U) << "its dead letter";
  EXPECT_THAT(std::string(invalid.at("evidenceId").as_string()),
              ::testing::StartsWith("rejected:gov:rejected:"));
  EXPECT_TRUE(rejected.contains("soap.invalid_envelope")) << listed.out;
  const auto raw = dir_.path() / "refused.xml";
  EXPECT_EQ(cli("evidence show " + std::string(invalid.at("evidenceId").as_string()) + " --raw " +
                raw.string())
                .status,
            0);
  EXPECT_EQ(read_file(raw), altered);
  const auto verified = cli("evidence verify");
  EXPECT_EQ(verified.status, 0) << verified.out;
  EXPECT_THAT(verified.out,
              HasSubstr("4 records, the chain is unbroken; 1 signatures checked again"));
}

TEST_F(DaemonWithBroker, DuplicatesAreAcknowledgedWithoutNewEffects) {
  start_daemon();
  const auto message = application_message(1);
  for (int i = 0; i < 3; ++i)
    client_->publish(kGovIn, message, message_id_of(1));
  // The same messageId with other content is kept as a dead letter, not dropped.
  auto other = with_message_id(Envelope("sick-leave-notice").sign("individual-sign").bytes(),
                               message_id_of(1));
  client_->publish(kGovIn, other, "reused-id");
  wait_until_drained(2);
  ASSERT_TRUE(eventually([&] { return client_->queue_state(kGovIn)->first == 0; }));
  EXPECT_EQ(daemon_->stop(), 0);
  collect();
  EXPECT_EQ(commands_.size(), 1U);
  ASSERT_EQ(dead_letters_.size(), 1U);
  EXPECT_EQ(dead_letters_[0].properties.headers.at("x-nqs-reason").as_string(),
            "domain.inconsistent");
  EXPECT_THAT(std::string(dead_letters_[0].properties.headers.at("x-nqs-detail").as_string()),
              HasSubstr("was already used by another message"));
  EXPECT_EQ(inbox_count("processed"), 1);
  EXPECT_THAT(daemon_->log_text(), HasSubstr("duplicates=2"));
  // Every input's line has the same fields: the duplicates' and the reused id's too.
  std::istringstream lines(daemon_->log_text());
  int input_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("input processed") == std::string::npos &&
        line.find("duplicate input") == std::string::npos &&
        line.find("messageId reused") == std::string::npos) {
      continue;
    }
    ++input_lines;
    for (const char* field : {"messageId=", "correlationId=", "documentType=", "outcome=",
                              "reason=", "detail=", "latencyMs="}) {
      EXPECT_NE(line.find(field), std::string::npos) << field << " missing in: " << line;
    }
  }
  EXPECT_EQ(input_lines, 4) << "one processed, two duplicates, one reused id";
}

TEST_F(DaemonWithBroker, AnUnroutableCommandHoldsItsInputUntilItCanBeDelivered) {
  // No queue is bound to ais.commands: the command is returned, so not confirmed.
  ASSERT_EQ(broker_ctl(fmt::format("delete_queue -p {} {}", vhost_.name(), kCommands)), 0);
  start_daemon();
  client_->publish(kGovIn, application_message(1), message_id_of(1));
  ASSERT_TRUE(eventually([&] {
    return daemon_->log_text().find("unroutable") != std::string::npos;
  })) << daemon_->log_text();
  // Not acknowledged: the input is still the daemon's, unacked, not dead-lettered.
  EXPECT_TRUE(client_->drain(kDeadLetters).empty());
  EXPECT_EQ(inbox_count("processed"), 1) << "the effect is committed";
  // Once a queue takes commands, the relay's retry delivers it and the input is acknowledged.
  client_->bind_queue(kCommands, "ais.commands", "#");
  wait_until_drained(1);
  EXPECT_EQ(commands_.size(), 1U);
  EXPECT_EQ(daemon_->stop(), 0);
}

TEST_F(DaemonWithBroker, ABrokerRestartMidStreamLosesNothing) {
  start_daemon();
  constexpr int kInputs = 40;
  for (int n = 1; n <= kInputs / 2; ++n) {
    client_->publish(kGovIn, application_message(n), message_id_of(n));
  }
  client_.reset();  // the test client's connection drops with the restart too
  restart_broker_app();
  client_ = std::make_unique<TestClient>(vhost_.name());
  for (int n = kInputs / 2 + 1; n <= kInputs; ++n) {
    client_->publish(kGovIn, application_message(n), message_id_of(n));
  }
  ASSERT_TRUE(eventually([&] {
    collect();
    return distinct_command_ids().size() == kInputs;
  })) << distinct_command_ids().size()
      << " distinct commands\n"
      << daemon_->log_text();
  EXPECT_THAT(daemon_->log_text(), HasSubstr("connected to the broker"));
  ASSERT_TRUE(eventually([&] { return client_->queue_state(kGovIn)->first == 0; }));
  EXPECT_EQ(daemon_->stop(), 0);
  EXPECT_EQ(inbox_count("processed"), kInputs) << "each input applied once";
  EXPECT_TRUE(dead_letters_.empty());
}

TEST_F(DaemonWithBroker, KillMinus9MidStreamAndRestartLosesAndRepeatsNothing) {
  start_daemon();
  constexpr int kInputs = 60;
  for (int n = 1; n <= kInputs; ++n) {
    client_->publish(kGovIn, application_message(n), message_id_of(n));
  }
  ASSERT_TRUE(eventually([&] {
    collect();
    return !commands_.empty();
  }));
  daemon_->kill_hard();
  const auto before = inbox_count("processed");
  start_daemon();
  ASSERT_TRUE(eventually([&] {
    collect();
    return distinct_command_ids().size() == kInputs;
  })) << distinct_command_ids().size()
      << " distinct commands after kill -9 at " << before << "\n"
      << daemon_->log_text();
  ASSERT_TRUE(eventually([&] { return client_->queue_state(kGovIn)->first == 0; }));
  EXPECT_EQ(daemon_->stop(), 0);
  // Every input applied exactly once; a command may have been published twice, with one id.
  EXPECT_EQ(inbox_count("processed"), kInputs);
  EXPECT_GE(commands_.size(), static_cast<std::size_t>(kInputs));
  // Issue 18: the archive is written in each input's transaction: after the kill, one record for
  // each document and each refusal it caused, in one unbroken chain.
  const auto verified = cli("evidence verify");
  EXPECT_EQ(verified.status, 0) << verified.out;
  EXPECT_THAT(verified.out, HasSubstr(fmt::format(
                                "{} records, the chain is unbroken; {} signatures checked again",
                                2 * kInputs, kInputs)));
}

TEST_F(DaemonWithBroker, AQueueDeletedUnderTheConsumerIsDeclaredAgain) {
  start_daemon();
  ASSERT_EQ(broker_ctl(fmt::format("delete_queue -p {} {}", vhost_.name(), kGovIn)), 0);
  ASSERT_TRUE(eventually([&] {
    auto state = client_->queue_state(kGovIn);
    return state && state->second >= 1;
  })) << daemon_->log_text();
  EXPECT_THAT(daemon_->log_text(), HasSubstr("cancelled the consumer"));
  client_->publish(kGovIn, application_message(1), message_id_of(1));
  wait_until_drained(1);
  EXPECT_EQ(commands_.size(), 1U);
  EXPECT_EQ(daemon_->stop(), 0);
}

TEST_F(DaemonWithBroker, ABusyStoreHoldsTheInputUntilItCanCommitNeverDeadLettersIt) {
  start_daemon();
  // Another process holds the store's write lock: every commit of the daemon times out.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "store.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  client_->publish(kGovIn, application_message(1), message_id_of(1));
  ASSERT_TRUE(eventually([&] {
    return daemon_->log_text().find("transient failure; the input is held") != std::string::npos;
  })) << daemon_->log_text();
  collect();
  EXPECT_TRUE(commands_.empty());
  EXPECT_TRUE(dead_letters_.empty()) << "a transient failure is never a dead letter";
  // The lock goes away: the held input is processed and acknowledged.
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  wait_until_drained(1);
  EXPECT_EQ(commands_.size(), 1U);
  EXPECT_TRUE(dead_letters_.empty());
  ASSERT_TRUE(eventually([&] { return client_->queue_state(kGovIn)->first == 0; }));
  EXPECT_EQ(daemon_->stop(), 0);
  EXPECT_EQ(inbox_count("processed"), 1);
}

TEST_F(DaemonWithBroker, APermanentStoreFailureDeadLettersTheInputAndHoldsNothing) {
  start_daemon();
  // The store refuses the second input's row every time (a trigger's RAISE(ABORT), as a
  // constraint on bad data would): retrying could never commit it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "store.sqlite").c_str(), &db), SQLITE_OK);
  const auto trigger = fmt::format(
      "CREATE TRIGGER test_refuses BEFORE INSERT ON inbox WHEN NEW.input_key = 'gov:{}' BEGIN "
      "SELECT "
      "RAISE(ABORT, 'a value this store will never take'); END",
      message_id_of(2));
  ASSERT_EQ(sqlite3_exec(db, trigger.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  // More than the prefetch window after it: none of them may wait behind it.
  for (int n = 1; n <= 12; ++n)
    client_->publish(kGovIn, application_message(n), message_id_of(n));
  wait_until_drained(12);
  EXPECT_EQ(commands_.size(), 11U);
  ASSERT_EQ(dead_letters_.size(), 1U);
  const auto& letter = dead_letters_.front();
  EXPECT_EQ(letter.properties.headers.at("x-nqs-reason").as_string(), "processing.failed");
  EXPECT_THAT(std::string(letter.properties.headers.at("x-nqs-detail").as_string()),
              HasSubstr("a value this store will never take"));
  EXPECT_EQ(letter.body, application_message(2)) << "the input as it came";
  ASSERT_TRUE(eventually([&] { return client_->queue_state(kGovIn)->first == 0; }));
  EXPECT_EQ(daemon_->stop(), 0);
  EXPECT_EQ(inbox_count("processed"), 11);
  EXPECT_THAT(daemon_->log_text(), HasSubstr("input given up and dead-lettered"));
  EXPECT_THAT(daemon_->log_text(), ::testing::Not(HasSubstr("transient failure")))
      << "a permanent failure is never retried";
}

TEST_F(DaemonWithBroker, KilledBetweenCommittingARejectionAndAcknowledgingItOneDeadLetter) {
  // The daemon dies right after committing the rejection, before publishing its dead letter and
  // acknowledging the input.
  daemon_ = std::make_unique<DaemonProcess>(config_, dir_.path() / "daemon.log");
  daemon_->start({"NQS_FAULT_EXIT_AFTER_COMMIT=1"});
  ASSERT_TRUE(eventually([&] {
    auto state = client_->queue_state(kGovIn);
    return state && state->second >= 1;
  })) << daemon_->log_text();
  const std::string altered = with_message_id(signed_application(), message_id_of(6))
                                  .replace(signed_application().find("Сварщик"), 14, "Инженер");
  client_->publish(kGovIn, altered, "altered-1");
  ASSERT_TRUE(eventually([&] { return !daemon_->running(); })) << daemon_->log_text();
  // Restarted: the broker redelivers the input (redelivered), which is the committed rejection,
  // not a new one: its dead letter goes out once.
  start_daemon();
  ASSERT_TRUE(eventually([&] {
    collect();
    return !dead_letters_.empty() && client_->queue_state(kGovIn)->first == 0;
  })) << daemon_->log_text();
  EXPECT_EQ(daemon_->stop(), 0);
  collect();
  ASSERT_EQ(dead_letters_.size(), 1U) << "one bad input, one dead letter";
  EXPECT_THAT(dead_letters_.front().properties.message_id, ::testing::EndsWith(":1"));
  EXPECT_EQ(inbox_count("rejected"), 1);
  EXPECT_THAT(daemon_->log_text(), HasSubstr("duplicate input"));
}

// Properties as a hostile sender can set them: `message_id` any bytes, and one header.
amqp_basic_properties_t hostile_properties(const std::string& message_id,
                                           amqp_table_entry_t* header) {
  amqp_basic_properties_t properties{};
  properties._flags =
      AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
  properties.delivery_mode = 2;
  properties.content_type = amqp_cstring_bytes("text/xml");
  properties.message_id = amqp_bytes_t{message_id.size(), const_cast<char*>(message_id.data())};
  if (header != nullptr) {
    properties._flags |= AMQP_BASIC_HEADERS_FLAG;
    properties.headers = amqp_table_t{1, header};
  }
  return properties;
}

TEST_F(DaemonWithBroker, EveryHostileMessageIsOneDeadLetterAndValidTrafficFlowsWithoutAReconnect) {
  start_daemon();
  std::map<std::string, std::string> expected;  // the input's own id -> reason
  int valid = 0;
  auto publish_valid = [&] {
    ++valid;
    client_->publish(kGovIn, application_message(valid), message_id_of(valid));
  };
  // A header of 120 KB: the dead letter, with what it adds, would not fit a frame.
  std::string big(120000, 'x');
  amqp_table_entry_t big_header{amqp_cstring_bytes("big"), {}};
  big_header.value.kind = AMQP_FIELD_KIND_UTF8;
  big_header.value.value.bytes = amqp_bytes_t{big.size(), big.data()};
  publish_valid();
  client_->publish_raw(kGovIn, application_message(100),
                       hostile_properties("big-header", &big_header));
  expected["big-header"] = "amqp.invalid_properties";
  // A message_id, and a header name, that are not UTF-8.
  publish_valid();
  client_->publish_raw(kGovIn, application_message(101), hostile_properties("\xff\xfeid", nullptr));
  char bad_name[] = {'\xc3', '\x28'};
  amqp_table_entry_t bad_header{amqp_bytes_t{2, bad_name}, {}};
  bad_header.value.kind = AMQP_FIELD_KIND_BOOLEAN;
  client_->publish_raw(kGovIn, application_message(102),
                       hostile_properties("bad-header-name", &bad_header));
  expected["bad-header-name"] = "amqp.invalid_properties";
  // An attribute bomb and a namespace bomb (with a valid signature).
  publish_valid();
  std::string bomb = "<a";
  for (int i = 0; i < 79000; ++i)
    bomb += fmt::format(" a{}=\"\"", i);
  client_->publish(kGovIn, bomb + "/>", "attribute-bomb");
  expected["attribute-bomb"] = "xml.too_complex";
  std::string declarations;
  for (int i = 0; i < 6000; ++i)
    declarations += fmt::format(" xmlns:x{}=\"urn:x{}\"", i, i);
  client_->publish(
      kGovIn, replaced(application_message(103), "<soap:Envelope", "<soap:Envelope" + declarations),
      "namespace-bomb");
  expected["namespace-bomb"] = "xml.too_complex";
  // Unicode digits, and a weak key.
  publish_valid();
  Envelope digits("voucher-application");
  digits.set_text("ApplicationId", "a0000000-0000-4000-8000-000000000104");
  digits.set_text("Region", "٧٥٠٠٠٠٠٠٠");
  client_->publish(kGovIn,
                   with_message_id(digits.sign("individual-sign").bytes(), "unicode-digits"),
                   "unicode-digits");
  expected["unicode-digits"] = "schema.invalid";
  Envelope weak("voucher-application");
  weak.set_text("ApplicationId", "a0000000-0000-4000-8000-000000000105");
  client_->publish(kGovIn, with_message_id(weak.sign("individual-rsa1024").bytes(), "weak-key"),
                   "weak-key");
  expected["weak-key"] = "certificate.untrusted";
  // An AIS event whose payload gives a key twice.
  publish_valid();
  client_->publish(
      kAisEvents,
      R"({"eventId": "e9000000-0000-4000-8000-000000000001", "type": "UnemployedStatusChanged",
                       "occurredAt": "2025-09-01T09:00:00+05:00", "payload": {"iin": "850101300124",
                       "iin": "900515401230", "registered": true, "region": "750000000",
                       "since": "2025-01-10"}})",
      "duplicate-keys", "application/json");
  publish_valid();

  std::vector<Received> letters;
  ASSERT_TRUE(eventually([&] {
    collect();
    for (auto& letter : client_->drain(kAisDeadLetters))
      letters.push_back(std::move(letter));
    return commands_.size() >= static_cast<std::size_t>(valid) &&
           dead_letters_.size() + letters.size() >= expected.size() + 2;
  })) << commands_.size()
      << " commands, " << dead_letters_.size() + letters.size() << " dead letters\n"
      << daemon_->log_text();
  for (auto& letter : dead_letters_)
    letters.push_back(letter);
  EXPECT_EQ(commands_.size(), static_cast<std::size_t>(valid)) << "every valid input processed";
  ASSERT_EQ(letters.size(), expected.size() + 2) << "one dead letter per hostile message";
  std::map<std::string, std::string> reasons;
  int invalid_ids = 0;
  for (const auto& letter : letters) {
    const auto& headers = letter.properties.headers;
    const auto original = amqp::header_text(headers, "x-nqs-message-id");
    const auto reason = amqp::header_text(headers, "x-nqs-reason");
    if (original.empty()) {
      // The id that was not UTF-8 could not be carried: the detail says so.
      ++invalid_ids;
      EXPECT_EQ(reason, "amqp.invalid_properties");
      EXPECT_THAT(amqp::header_text(headers, "x-nqs-detail"),
                  HasSubstr("the property message_id is not UTF-8 (hex fffe6964)"));
      continue;
    }
    reasons[original] = reason;
    if (original == "big-header") {
      EXPECT_FALSE(headers.contains("big")) << "left out, so that it fits";
      EXPECT_THAT(amqp::header_text(headers, "x-nqs-detail"), HasSubstr("the header 'big'"));
    }
  }
  EXPECT_EQ(invalid_ids, 1);
  expected["duplicate-keys"] = "json.invalid";
  EXPECT_EQ(reasons, expected);
  ASSERT_TRUE(eventually([&] {
    return client_->queue_state(kGovIn)->first == 0 && client_->queue_state(kAisEvents)->first == 0;
  }));
  auto connections = [&] {
    const auto log = daemon_->log_text();
    std::size_t count = 0;
    for (auto at = log.find("connected to the broker"); at != std::string::npos;
         at = log.find("connected to the broker", at + 1)) {
      ++count;
    }
    return count;
  };
  EXPECT_EQ(connections(), 1U) << "never reconnected\n" << daemon_->log_text();
  EXPECT_EQ(daemon_->stop(), 0);

  // Restarted: nothing comes back, nothing goes out again; a new input after it is the only work.
  start_daemon();
  ++valid;
  client_->publish(kGovIn, application_message(valid), message_id_of(valid));
  const auto before = commands_.size();
  ASSERT_TRUE(eventually([&] {
    collect();
    return commands_.size() > before;
  })) << daemon_->log_text();
  EXPECT_EQ(commands_.size(), before + 1);
  collect();
  EXPECT_TRUE(client_->drain(kAisDeadLetters).empty());
  EXPECT_EQ(dead_letters_.size() + 1, letters.size()) << "no dead letter again";
  EXPECT_EQ(daemon_->stop(), 0);
}

TEST_F(DaemonWithBroker, AMessageOverItsQueuesLimitIsNeverHeldAndTheBrokerDeadLettersItWhole) {
  start_daemon();
  const auto peak_kib = [&] {
    std::ifstream status(fmt::format("/proc/{}/status", daemon_->pid()));
    std::string line;
    while (std::getline(status, line)) {
      if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
    }
    return 0L;
  };
  const auto peak_before = peak_kib();
  // 48 times intake.max_message_bytes (1 MiB): 384 frames the daemon drops as they come.
  const std::string huge_document(48 * 1024 * 1024, 'x');
  client_->publish(kGovIn, huge_document, "huge-document");
  // An AIS event over the events' 256 KiB, and a valid one of 200 KiB (two frames), read whole.
  const auto event = [](int n, std::size_t padding) {
    return fmt::format(
        R"({{{}"eventId": "e9000000-0000-4000-8000-{:012}", "type": "UnemployedStatusChanged",
             "occurredAt": "2025-09-01T09:00:00+05:00", "payload": {{"iin": "900515401230",
             "registered": true, "region": "750000000", "since": "2025-01-10"}}}})",
        std::string(padding, ' '), n);
  };
  const auto huge_event = event(1, 300 * 1024);
  client_->publish(kAisEvents, huge_event, "huge-event", "application/json");
  client_->publish(kAisEvents, event(2, 200 * 1024), "padded-event", "application/json");
  client_->publish(kGovIn, application_message(1), message_id_of(1));

  std::vector<Received> ais_letters;
  ASSERT_TRUE(eventually([&] {
    collect();
    for (auto& letter : client_->drain(kAisDeadLetters))
      ais_letters.push_back(std::move(letter));
    return !commands_.empty() && !dead_letters_.empty() && !ais_letters.empty() &&
           client_->queue_state(kAisEvents)->first == 0;
  })) << daemon_->log_text();
  ASSERT_EQ(dead_letters_.size(), 1U);
  ASSERT_EQ(ais_letters.size(), 1U) << "the padded event was read whole and processed";
  const auto check = [](const std::string& dlq, const Received& letter, const std::string& body,
                        const std::string& queue) {
    EXPECT_EQ(letter.body.size(), body.size()) << "the broker's dead letter is the message whole";
    EXPECT_TRUE(letter.body == body);
    const auto seen =
        ops::describe(dlq, {0, "", letter.routing_key, false, letter.properties, letter.body});
    EXPECT_EQ(seen.reason, "broker:rejected") << "dead-lettered by the broker, not the daemon";
    EXPECT_EQ(seen.original_queue, queue);
  };
  // Neither kept by the connection nor by rabbitmq-c's frame pools (read and held, or left in
  // the pool until the turn ended, it was 48 MiB and more).
  EXPECT_LT(peak_kib() - peak_before, 16 * 1024) << "the daemon's peak memory grew, in KiB";
  check(kDeadLetters, dead_letters_[0], huge_document, kGovIn);
  check(kAisDeadLetters, ais_letters[0], huge_event, kAisEvents);
  const auto log = daemon_->log_text();
  EXPECT_THAT(log, HasSubstr("input too large to be read"));
  EXPECT_THAT(log, HasSubstr("xml.too_large"));
  EXPECT_THAT(log, HasSubstr("json.invalid"));
  EXPECT_EQ(log.find("connected to the broker"), log.rfind("connected to the broker"))
      << "never reconnected";
  EXPECT_EQ(daemon_->stop(), 0);
}

TEST_F(DaemonWithBroker, APublishTheBrokerRefusesIsRetriedUntilConfirmed) {
  // The only queue for commands holds one message and refuses the rest (basic.nack).
  ASSERT_EQ(broker_ctl(fmt::format("delete_queue -p {} {}", vhost_.name(), kCommands)), 0);
  client_->bind_full_queue("test.full", "ais.commands", "#", 1);
  start_daemon();
  for (int n = 1; n <= 3; ++n) {
    client_->publish(kGovIn, application_message(n), message_id_of(n));
  }
  ASSERT_TRUE(eventually([&] {
    return daemon_->log_text().find("basic.nack") != std::string::npos;
  })) << daemon_->log_text();
  // Taking messages out makes room: the refused commands are published again and confirmed.
  std::set<std::string> ids;
  ASSERT_TRUE(eventually([&] {
    while (auto message = client_->get("test.full"))
      ids.insert(message->properties.message_id);
    return ids.size() == 3;
  })) << ids.size()
      << "\n"
      << daemon_->log_text();
  ASSERT_TRUE(eventually([&] { return client_->queue_state(kGovIn)->first == 0; }));
  EXPECT_EQ(daemon_->stop(), 0);
  EXPECT_EQ(inbox_count("processed"), 3);
}

// Raises the broker's memory alarm for as long as it lives (even if the test fails).
class MemoryAlarm {
 public:
  MemoryAlarm() { raised_ = broker_ctl("set_vm_memory_high_watermark 0.0001") == 0; }
  ~MemoryAlarm() { clear(); }
  MemoryAlarm(const MemoryAlarm&) = delete;
  MemoryAlarm& operator=(const MemoryAlarm&) = delete;
  [[nodiscard]] bool raised() const { return raised_; }
  void clear() {
    if (raised_) broker_ctl("set_vm_memory_high_watermark 0.4");
    raised_ = false;
  }

 private:
  bool raised_ = false;
};

TEST_F(DaemonWithBroker, ABrokerAlarmBlocksPublishingVisiblyAndLosesNothing) {
  start_daemon();  // declares the topology
  EXPECT_EQ(daemon_->stop(), 0);
  for (int n = 1; n <= 3; ++n) {
    client_->publish(kGovIn, application_message(n), message_id_of(n));
  }
  MemoryAlarm alarm;
  ASSERT_TRUE(alarm.raised());
  start_daemon();  // consuming is allowed under an alarm; publishing is blocked
  ASSERT_TRUE(eventually([&] {
    return daemon_->log_text().find("the broker blocked publishing") != std::string::npos;
  })) << daemon_->log_text();
  collect();
  EXPECT_TRUE(commands_.empty());
  alarm.clear();
  wait_until_drained(3);
  EXPECT_EQ(distinct_command_ids().size(), 3U);
  EXPECT_THAT(daemon_->log_text(), HasSubstr("the broker unblocked publishing"));
  ASSERT_TRUE(eventually([&] { return client_->queue_state(kGovIn)->first == 0; }));
  EXPECT_EQ(daemon_->stop(), 0);
}

TEST_F(DaemonWithBroker, TheTopologyIsDeclared) {
  start_daemon();
  for (const char* queue :
       {"nqs.gov.in", "nqs.ais.events", "nqs.gov.in.dlq", "nqs.ais.events.dlq"}) {
    EXPECT_TRUE(client_->queue_state(queue).has_value()) << queue;
  }
  // nqs.gov.in is a quorum queue with the dead-letter settings of messages.md: declaring it
  // with other arguments is refused by the broker.
  EXPECT_EQ(broker_ctl(fmt::format("list_queues -p {} name type | grep -q 'nqs.gov.in.*quorum'",
                                   vhost_.name())),
            0);
  EXPECT_EQ(daemon_->stop(), 0);
}

}  // namespace
}  // namespace nqs::test
