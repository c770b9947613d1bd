// nqs-adapter dlq against a real broker and a running daemon: list and show without removing,
// replay with confirms (the cap, the audit), purge only with --yes, and a replay killed between
// the confirm and the acknowledgement losing nothing and repeating nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <sstream>

#include "daemon_fixture.hpp"

namespace nqs::test {
namespace {

using ::testing::HasSubstr;

constexpr const char* kAisDlq = "nqs.ais.events.dlq";
constexpr const char* kGovDlq = "nqs.gov.in.dlq";
constexpr const char* kApplication = "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10";

struct Cli {
  int status = 0;
  std::string out;
  std::vector<boost::json::object> lines;  // stdout as JSON lines, when it is
};

class DeadLetterTools : public DaemonWithBroker {
 protected:
  void SetUp() override {
    extra_config_ = "ops: {replay_cap: 2}\n";
    DaemonWithBroker::SetUp();
    start_daemon();
  }

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
