// nqs-adapter dlq against a real broker and a running daemon: list and show without removing,
// replay with confirms (the cap, the audit), purge only with --yes, and a replay killed between
// the confirm and the acknowledgement losing nothing and repeating nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <sstream>

#include "amqp/properties_json.hpp"
#include "daemon_fixture.hpp"

namespace nqs::test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kAisDlq = "nqs.ais.events.dlq";
constexpr const char* kGovDlq = "nqs.gov.in.dlq";
constexpr const char* kApplication = "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10";

class DeadLetterTools : public DaemonWithBroker {
 protected:
  void SetUp() override {
    extra_config_ = "ops: {replay_cap: 2}\n";
    DaemonWithBroker::SetUp();
    start_daemon();
  }

  // Ready messages. Messages a command held return to their queue when its connection closes,
  // a moment after the command exits: checks of depth wait for it.
  std::uint32_t depth(const char* queue) { return client_->queue_state(queue)->first; }
  // Every dead letter back in its queue (none held by a command that just ended).
  void back(std::uint32_t ais, std::uint32_t gov) {
    ASSERT_TRUE(eventually([&] { return depth(kAisDlq) == ais && depth(kGovDlq) == gov; }));
  }

  void event(const std::string& id, const std::string& type, const std::string& payload) {
    client_->publish(kAisEvents,
                     fmt::format(R"({{"eventId": "{}", "type": "{}",
                                   "occurredAt": "2025-09-01T09:00:00+05:00", "payload": {}}})",
                                 id, type, payload),
                     id, "application/json");
  }
};

// A header table with one entry of every field kind, nested ones too.
class EveryHeaderKind {
 public:
  EveryHeaderKind() {
    auto add = [&](const char* key, amqp_field_value_t value) {
      entries_.push_back(amqp_table_entry_t{amqp_cstring_bytes(key), value});
    };
    amqp_field_value_t v{};
    v.kind = AMQP_FIELD_KIND_BOOLEAN, v.value.boolean = 1, add("bool", v);
    v = {}, v.kind = AMQP_FIELD_KIND_I8, v.value.i8 = -8, add("i8", v);
    v = {}, v.kind = AMQP_FIELD_KIND_U8, v.value.u8 = 200, add("u8", v);
    v = {}, v.kind = AMQP_FIELD_KIND_I16, v.value.i16 = -300, add("i16", v);
    v = {}, v.kind = AMQP_FIELD_KIND_U16, v.value.u16 = 60000, add("u16", v);
    v = {}, v.kind = AMQP_FIELD_KIND_I32, v.value.i32 = -70000, add("i32", v);
    v = {}, v.kind = AMQP_FIELD_KIND_U32, v.value.u32 = 4000000000U, add("u32", v);
    v = {}, v.kind = AMQP_FIELD_KIND_I64, v.value.i64 = -9000000000, add("i64", v);
    v = {}, v.kind = AMQP_FIELD_KIND_F32, v.value.f32 = 1.5F, add("f32", v);
    v = {}, v.kind = AMQP_FIELD_KIND_F64, v.value.f64 = -2.25, add("f64", v);
    v = {}, v.kind = AMQP_FIELD_KIND_DECIMAL, v.value.decimal = {2, 1250075}, add("decimal", v);
    v = {}, v.kind = AMQP_FIELD_KIND_TIMESTAMP, v.value.u64 = 1756700100, add("timestamp", v);
    v = {}, v.kind = AMQP_FIELD_KIND_UTF8, v.value.bytes = amqp_cstring_bytes("Сварщик"),
    add("utf8", v);
    v = {}, v.kind = AMQP_FIELD_KIND_UTF8, v.value.bytes = amqp_bytes_t{3, binary_},
    add("not-utf8", v);
    v = {}, v.kind = AMQP_FIELD_KIND_BYTES, v.value.bytes = amqp_bytes_t{3, binary_},
    add("bytes", v);
    v = {}, v.kind = AMQP_FIELD_KIND_VOID, add("void", v);
    items_[0].kind = AMQP_FIELD_KIND_I32, items_[0].value.i32 = 7;
    items_[1].kind = AMQP_FIELD_KIND_UTF8, items_[1].value.bytes = amqp_cstring_bytes("x");
    inner_[0] = amqp_table_entry_t{amqp_cstring_bytes("nested"), items_[0]};
    v = {}, v.kind = AMQP_FIELD_KIND_ARRAY, v.value.array = amqp_array_t{2, items_},
    add("array", v);
    v = {}, v.kind = AMQP_FIELD_KIND_TABLE, v.value.table = amqp_table_t{1, inner_},
    add("table", v);
  }
  amqp_table_t table() { return amqp_table_t{static_cast<int>(entries_.size()), entries_.data()}; }

 private:
  char binary_[3] = {'\xff', '\x00', '\xfe'};
  amqp_field_value_t items_[2]{};
  amqp_table_entry_t inner_[1]{};
  std::vector<amqp_table_entry_t> entries_;
};

// The stored form of properties without the adapter's own x-nqs-* headers and the quorum
// queue's x-delivery-count: equal stored forms are equal on the wire (amqp/fields.hpp loses
// nothing; the broker itself sorts a table's names).
boost::json::value without_ours(amqp::Properties properties) {
  for (auto it = properties.headers.begin(); it != properties.headers.end();) {
    const bool ours = it->key().starts_with("x-nqs-") || it->key() == "x-delivery-count";
    it = ours ? properties.headers.erase(it) : std::next(it);
  }
  return boost::json::parse(amqp::properties_to_json(properties));
}

TEST_F(DeadLetterTools, EveryPropertyAndHeaderKindThroughADeadLetterAndAReplayByteForByte) {
  EveryHeaderKind headers;
  amqp_basic_properties_t sent{};
  sent._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG |
                AMQP_BASIC_HEADERS_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG |
                AMQP_BASIC_CORRELATION_ID_FLAG | AMQP_BASIC_REPLY_TO_FLAG |
                AMQP_BASIC_EXPIRATION_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_USER_ID_FLAG |
                AMQP_BASIC_APP_ID_FLAG;
  sent.content_type = amqp_cstring_bytes("text/xml");
  sent.content_encoding = amqp_cstring_bytes("identity");
  sent.headers = headers.table();
  sent.delivery_mode = 2;
  sent.priority = 3;
  sent.correlation_id = amqp_cstring_bytes("correlation-1");
  sent.reply_to = amqp_cstring_bytes("replies");
  sent.expiration = amqp_cstring_bytes("86400000");
  sent.message_id = amqp_cstring_bytes("every-kind");
  sent.timestamp = 1756700100;
  sent.type = amqp_cstring_bytes("VoucherApplication");
  sent.user_id = amqp_cstring_bytes("guest");  // the broker takes only the publisher's own
  sent.app_id = amqp_cstring_bytes("nqs-platform");
  const auto as_sent = without_ours(amqp::read_properties(sent));
  client_->publish_raw(kGovIn, "<a/>", sent);
  ASSERT_TRUE(eventually([&] { return depth(kGovDlq) == 1; })) << daemon_->log_text();

  // The dead letter: every property and header as it came, but its own id, and the two a dead
  // letter cannot keep as they are (an expiration would expire it, a user_id is the publisher's).
  auto letters = client_->drain(kGovDlq);
  ASSERT_EQ(letters.size(), 1U);
  auto letter = letters.front().properties;
  const auto& h = letter.headers;
  EXPECT_EQ(h.at("x-nqs-reason").as_string(), "soap.invalid_envelope");
  EXPECT_EQ(h.at("x-nqs-message-id").as_string(), "every-kind");
  EXPECT_EQ(h.at("x-nqs-expiration").as_string(), "86400000");
  EXPECT_EQ(h.at("x-nqs-user-id").as_string(), "guest");
  EXPECT_THAT(letter.message_id, ::testing::StartsWith("gov:rejected:"));
  EXPECT_TRUE(letter.expiration.empty() && letter.user_id.empty());
  letter.message_id = "every-kind";
  letter.expiration = "86400000";
  letter.user_id = "guest";
  EXPECT_EQ(without_ours(letter), as_sent);

  // Replayed with the daemon stopped: the message in its queue is the one that came in.
  client_->republish(kGovDlq, letters.front());
  ASSERT_TRUE(eventually([&] { return depth(kGovDlq) == 1; }));
  EXPECT_EQ(daemon_->stop(), 0);
  const auto replayed = cli("dlq replay --queue gov --reason soap.invalid_envelope");
  ASSERT_EQ(replayed.status, 0) << replayed.out;
  std::optional<Received> again;
  ASSERT_TRUE(eventually([&] { return (again = client_->get(kGovIn)).has_value(); }));
  EXPECT_EQ(without_ours(again->properties), as_sent);
  EXPECT_EQ(again->body, "<a/>");
  EXPECT_EQ(amqp::header_integer(again->properties.headers, "x-nqs-replay-count"), 1);
}

TEST_F(DeadLetterTools, IdenticalCopiesOfADeadLetterAreListedOnceAndSettledTogether) {
  client_->publish(kAisEvents, "{not json", "broken", "application/json");
  ASSERT_TRUE(eventually([&] { return depth(kAisDlq) == 1; })) << daemon_->log_text();
  // The relay sent it twice (its "sent" mark was lost with the store): the same message again,
  // recognisable by its deterministic id.
  auto letters = client_->drain(kAisDlq);
  ASSERT_EQ(letters.size(), 1U);
  const auto& letter = letters.front();
  EXPECT_THAT(letter.properties.message_id, ::testing::StartsWith("ais:rejected:"));
  for (int copy = 0; copy < 2; ++copy)
    client_->republish(kAisDlq, letter);
  ASSERT_TRUE(eventually([&] { return depth(kAisDlq) == 2; }));
  auto listed = cli("dlq list --json");
  ASSERT_EQ(listed.lines.size(), 1U) << listed.out;
  EXPECT_EQ(listed.lines.front().at("copies").as_int64(), 2);
  EXPECT_EQ(listed.lines.front().at("messageId").as_string(), "broken");
  back(2, 0);
  const std::string id(listed.lines.front().at("id").as_string());
  const auto purged = cli("dlq purge --yes " + id);
  ASSERT_EQ(purged.status, 0) << purged.out;
  ASSERT_TRUE(eventually([&] { return depth(kAisDlq) == 0; })) << "both copies";
}

// A quorum queue counts every return of a message, and past its delivery limit drops it
// (RabbitMQ 4.x sets 20 by default): the tools never return a dead letter, they put a copy back.
TEST_F(DeadLetterTools, ADeadLetterReadFiftyTimesIsStillThereUncountedAndReplayable) {
  client_->publish(kAisEvents, "{not json", "read-often", "application/json");
  ASSERT_TRUE(eventually([&] { return depth(kAisDlq) == 1; })) << daemon_->log_text();
  const auto listed = cli("dlq list --json");
  ASSERT_EQ(listed.lines.size(), 1U) << listed.out;
  const std::string id(listed.lines.front().at("id").as_string());
  for (int read = 1; read < 50; ++read) {
    const auto command = read % 3 == 0   ? "queues --json"
                         : read % 3 == 1 ? "dlq list --json"
                                         : "dlq show " + id;
    const auto result = cli(command);
    ASSERT_NE(result.out.find(read % 3 == 0 ? "nqs.ais.events.dlq" : id), std::string::npos)
        << command << ": " << result.out;
  }
  back(1, 0);
  EXPECT_EQ(cli("dlq list --json").lines.front().at("id").as_string(), id) << "the same letter";
  back(1, 0);
  auto letters = client_->drain(kAisDlq);
  ASSERT_EQ(letters.size(), 1U);
  EXPECT_EQ(amqp::header_integer(letters.front().properties.headers, "x-delivery-count"), 0)
      << "never returned to the queue: "
      << boost::json::serialize(letters.front().properties.headers);
  client_->republish(kAisDlq, letters.front());
  ASSERT_TRUE(eventually([&] { return depth(kAisDlq) == 1; }));
  EXPECT_EQ(daemon_->stop(), 0);
  const auto replayed = cli("dlq replay " + id);
  ASSERT_EQ(replayed.status, 0) << replayed.out;
  std::optional<Received> again;
  ASSERT_TRUE(eventually([&] { return (again = client_->get(kAisEvents)).has_value(); }));
  EXPECT_EQ(again->body, "{not json");
}

// A dead letter's body saved with `dlq show --raw` and published again with `send`: the same
// bytes reach the daemon, which refuses them for the same reason, under the document's own id.
TEST_F(DeadLetterTools, ADeadLetterSavedWithShowRawGoesBackWithSend) {
  const std::string altered = with_message_id(signed_application(), message_id_of(7))
                                  .replace(signed_application().find("Сварщик"), 14, "Инженер");
  client_->publish(kGovIn, altered, "by the bus");
  ASSERT_TRUE(eventually([&] { return depth(kGovDlq) == 1; })) << daemon_->log_text();
  auto listed = cli("dlq list --json");
  ASSERT_EQ(listed.lines.size(), 1U) << listed.out;
  const std::string id(listed.lines.front().at("id").as_string());
  EXPECT_EQ(listed.lines.front().at("reason").as_string(), "signature.invalid");
  back(0, 1);

  const auto saved = dir_.path() / "letter.xml";
  const auto shown = cli(fmt::format("dlq show {} --raw {}", id, saved.string()));
  ASSERT_EQ(shown.status, 0) << shown.out;
  EXPECT_EQ(read_file(saved), altered) << "the body's exact bytes";
  back(0, 1);
  ASSERT_EQ(cli("dlq purge --yes " + id).status, 0);
  ASSERT_TRUE(eventually([&] { return depth(kGovDlq) == 0; }));

  const auto sent = cli("send --queue gov " + saved.string());
  ASSERT_EQ(sent.status, 0) << sent.out;
  EXPECT_THAT(sent.out, HasSubstr(fmt::format("sent to nqs.gov.in ({} bytes, message id {}), "
                                              "confirmed",
                                              altered.size(), message_id_of(7))));
  ASSERT_TRUE(eventually([&] { return depth(kGovDlq) == 1; })) << daemon_->log_text();
  listed = cli("dlq list --json");
  ASSERT_EQ(listed.lines.size(), 1U) << listed.out;
  EXPECT_EQ(listed.lines.front().at("reason").as_string(), "signature.invalid");
  EXPECT_EQ(listed.lines.front().at("messageId").as_string(), message_id_of(7));
  back(0, 1);
  const std::string again(listed.lines.front().at("id").as_string());
  ASSERT_EQ(cli(fmt::format("dlq show {} --raw {}.again", again, saved.string())).status, 0);
  EXPECT_EQ(read_file(saved.string() + ".again"), altered) << "the same bytes went round";
  back(0, 1);

  // An event, by its own eventId; a queue that is not an input is refused before connecting.
  const auto event_file = dir_.write(
      "event.json",
      R"({"eventId": "e7000000-0000-4000-8000-000000000001", "type": "ApplicationForwarded", "occurredAt": "2025-09-01T09:00:00+05:00", "payload": {"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10"}})");
  const auto event_sent = cli("send --queue ais " + event_file.string());
  ASSERT_EQ(event_sent.status, 0) << event_sent.out;
  EXPECT_THAT(event_sent.out, HasSubstr("message id e7000000-0000-4000-8000-000000000001"));
  ASSERT_TRUE(eventually([&] { return depth(kAisDlq) == 1; })) << "an unknown application";
  EXPECT_EQ(cli("send --queue nqs.notifications " + event_file.string()).status, 2);
}

TEST_F(DeadLetterTools, ListShowReplayWithinTheCapPurgeAndAudit) {
  // Three dead letters: an event about an unknown application, a body that is not JSON, a
  // document altered after signing.
  event("e3000000-0000-4000-8000-000000000001", "ApplicationForwarded",
        fmt::format(R"({{"applicationId": "{}"}})", kApplication));
  client_->publish(kAisEvents, "{not json", "broken", "application/json");
  const std::string altered = with_message_id(signed_application(), message_id_of(9))
                                  .replace(signed_application().find("Сварщик"), 14, "Инженер");
  client_->publish(kGovIn, altered, message_id_of(9));
  ASSERT_TRUE(eventually([&] { return depth(kAisDlq) == 2 && depth(kGovDlq) == 1; }))
      << daemon_->log_text();

  auto listed = cli("dlq list --json");
  ASSERT_EQ(listed.status, 0) << listed.out;
  ASSERT_EQ(listed.lines.size(), 3U) << listed.out;
  std::map<std::string, boost::json::object> by_reason;
  for (const auto& line : listed.lines)
    by_reason[std::string(line.at("reason").as_string())] = line;
  EXPECT_EQ(by_reason.at("signature.invalid").at("documentType").as_string(), "VoucherApplication");
  EXPECT_EQ(by_reason.at("signature.invalid").at("queue").as_string(), "nqs.gov.in");
  EXPECT_EQ(by_reason.at("domain.unknown_subject").at("documentType").as_string(),
            "ApplicationForwarded");
  EXPECT_EQ(by_reason.at("json.invalid").at("messageId").as_string(), "broken");
  EXPECT_TRUE(eventually([&] { return depth(kAisDlq) == 2U; })) << "listing removes nothing";
  back(2, 1);
  EXPECT_EQ(cli("dlq list --queue ais --reason json.invalid --json").lines.size(), 1U);
  back(2, 1);
  EXPECT_EQ(cli("dlq list --reason domain. --json").lines.size(), 1U);
  back(2, 1);
  back(2, 1);
  EXPECT_EQ(cli("dlq list --queue gov --json").lines.size(), 1U);
  back(2, 1);
  const auto table = cli("dlq list");
  EXPECT_THAT(table.out, HasSubstr("3 of 3 dead letters in nqs.gov.in.dlq, nqs.ais.events.dlq"));

  const std::string unknown(by_reason.at("domain.unknown_subject").at("id").as_string());
  back(2, 1);
  const auto shown = cli("dlq show " + unknown);
  ASSERT_EQ(shown.status, 0) << shown.out;
  EXPECT_THAT(shown.out, HasSubstr("reason:      domain.unknown_subject"));
  EXPECT_THAT(shown.out, HasSubstr("\"x-nqs-queue\": \"nqs.ais.events\""));
  EXPECT_THAT(shown.out, HasSubstr("\"applicationId\": \"0b5e1c2a")) << "the body, pretty-printed";
  EXPECT_EQ(cli("dlq show 000000000000").status, 1);

  // A dry run touches nothing.
  back(2, 1);
  auto dry = cli("dlq replay --dry-run " + unknown);
  EXPECT_THAT(dry.out, HasSubstr("would replay"));
  EXPECT_TRUE(eventually([&] { return depth(kAisDlq) == 2U; }));

  // Replayed, it is judged again and comes back (still unknown) with its replay count; at the
  // cap (2) a third replay is refused unless forced.
  std::string id = unknown;
  for (int replays = 1; replays <= 2; ++replays) {
    back(2, 1);
    const auto replayed = cli("dlq replay --actor tester " + id);
    ASSERT_EQ(replayed.status, 0) << replayed.out;
    EXPECT_THAT(replayed.out, HasSubstr("replayed"));
    std::optional<boost::json::object> back;
    ASSERT_TRUE(eventually([&] {
      for (const auto& line : cli("dlq list --reason domain.unknown_subject --json").lines) {
        if (line.at("replayCount").as_int64() == replays) back = line;
      }
      return back.has_value();
    })) << daemon_->log_text();
    id = std::string(back->at("id").as_string());
  }
  back(2, 1);
  const auto refused = cli("dlq replay --actor tester " + id);
  EXPECT_EQ(refused.status, 1);
  EXPECT_THAT(refused.out, HasSubstr("refused"));
  EXPECT_THAT(refused.out, HasSubstr("ops.replay_cap 2"));
  EXPECT_TRUE(eventually([&] { return depth(kAisDlq) == 2U; }))
      << "a refused replay leaves it where it is";

  // Purge needs --yes.
  EXPECT_EQ(cli("dlq purge --reason json.invalid").status, 2);
  EXPECT_TRUE(eventually([&] { return depth(kAisDlq) == 2U; }));
  back(2, 1);
  const auto purged = cli("dlq purge --reason json.invalid --yes --actor tester");
  ASSERT_EQ(purged.status, 0) << purged.out;
  EXPECT_TRUE(eventually([&] { return depth(kAisDlq) == 1U; }));

  const auto audit = cli("dlq audit --json");
  ASSERT_EQ(audit.lines.size(), 4U) << audit.out;
  EXPECT_EQ(audit.lines[0].at("action").as_string(), "purge");
  EXPECT_EQ(audit.lines[0].at("actor").as_string(), "tester");
  EXPECT_EQ(audit.lines[1].at("outcome").as_string(), "refused");
  EXPECT_EQ(audit.lines[2].at("outcome").as_string(), "replayed");
  EXPECT_EQ(audit.lines[3].at("deadLetter").as_string(), unknown);
  EXPECT_EQ(daemon_->stop(), 0);
}

TEST_F(DeadLetterTools, AReplayKilledAfterItsConfirmLosesNothingAndRepeatsNothing) {
  // The forwarding comes before the application it is about: dead-lettered.
  client_->bind_queue(kOutbound, "gov.outbound", "#");
  event("e3000000-0000-4000-8000-000000000002", "ApplicationForwarded",
        fmt::format(R"({{"applicationId": "{}"}})", kApplication));
  ASSERT_TRUE(eventually([&] { return depth(kAisDlq) == 1; })) << daemon_->log_text();
  // Now the application arrives and is reviewed.
  event("e3000000-0000-4000-8000-000000000003", "UnemployedStatusChanged",
        R"({"iin": "850101300124", "registered": true, "region": "750000000",
            "since": "2025-01-10"})");
  event("e3000000-0000-4000-8000-000000000004", "QuotaAllocated",
        R"({"periodStart": 2025, "periodEnd": 2027,
            "regions": [{"region": "750000000", "vouchersPerYear": 5}]})");
  ASSERT_TRUE(eventually([&] { return inbox_count("processed") == 2; })) << daemon_->log_text();
  client_->publish(kGovIn, with_message_id(signed_application(), message_id_of(1)),
                   message_id_of(1));
  ASSERT_TRUE(eventually([&] {
    for (const auto& command : client_->drain(kCommands)) {
      if (command.routing_key == "RegisterApplication") return true;
    }
    return false;
  })) << daemon_->log_text();
  event("e3000000-0000-4000-8000-000000000005", "ApplicationReviewed",
        fmt::format(R"({{"applicationId": "{}", "decision": "forward", "reasons": []}})",
                    kApplication));
  ASSERT_TRUE(eventually([&] { return inbox_count("processed") == 4; })) << daemon_->log_text();

  // The replay dies right after the broker confirmed the copy, before removing the original.
  const auto killed = cli("dlq replay --queue ais --reason domain.unknown_subject",
                          "NQS_FAULT_EXIT_AFTER_REPLAY_CONFIRM=1");
  EXPECT_EQ(killed.status, 137) << killed.out;
  std::vector<Received> notifications;
  ASSERT_TRUE(eventually([&] {
    for (auto& message : client_->drain(kOutbound))
      notifications.push_back(std::move(message));
    return !notifications.empty();
  })) << "the copy was processed\n"
      << daemon_->log_text();
  EXPECT_EQ(notifications.front().routing_key, "ApplicationToRecognitionCenter");
  ASSERT_TRUE(eventually([&] { return depth(kAisDlq) == 1; })) << "and the original is still there";

  // Replayed again: the inbox knows the event, so it is absorbed as a duplicate.
  const auto again = cli("dlq replay --queue ais --reason domain.unknown_subject");
  ASSERT_EQ(again.status, 0) << again.out;
  ASSERT_TRUE(eventually([&] { return depth(kAisDlq) == 0 && depth(kAisEvents) == 0; }));
  ASSERT_TRUE(eventually([&] {
    return daemon_->log_text().find("duplicate input") != std::string::npos;
  })) << daemon_->log_text();
  EXPECT_EQ(daemon_->stop(), 0);
  for (auto& message : client_->drain(kOutbound))
    notifications.push_back(std::move(message));
  EXPECT_EQ(notifications.size(), 1U) << "nothing repeated";
}

}  // namespace
}  // namespace nqs::test
