#include "cli/demo_player.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <iostream>
#include <thread>

#include "cli/commands.hpp"
#include "common/instant.hpp"
#include "ops/dead_letters.hpp"

namespace nqs::cli::demo {
namespace {

constexpr auto kPatience = std::chrono::seconds{30};
constexpr auto kPoll = std::chrono::milliseconds{50};

}  // namespace

Player::Player(const configuration::Setup& setup, amqp::SyncClient& client, store::Store& store,
               std::string watch, bool step)
    : config_(setup.config),
      zone_(*setup.calendar),
      client_(client),
      store_(store),
      watch_(std::move(watch)),
      step_(step) {}

Instant Player::now() const {
  auto now = configured_now(config_);
  return now ? now.value()
             : std::chrono::time_point_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now());
}

std::string Player::fresh_id() {
  return boost::uuids::to_string(uuids_());
}

void Player::step(const std::string& title) {
  if (step_ && steps_ > 0) {
    std::cout << "    (Enter for the next step)" << std::flush;
    std::string line;
    std::getline(std::cin, line);
  }
  std::cout << fmt::format("\n[{}] {}\n", ++steps_, title) << std::flush;
}

void Player::say(const std::string& what, const std::string& text) const {
  std::cout << fmt::format("    {:<5}{}\n", what, text) << std::flush;
}

Result<void> Player::event(const std::string& type, const boost::json::object& payload) {
  const auto id = fresh_id();
  const boost::json::object body{
      {"eventId", id}, {"type", type}, {"occurredAt", to_utc_string(now())}, {"payload", payload}};
  amqp::Outgoing message;
  message.routing_key = config_.amqp.ais_events;
  message.properties.content_type = "application/json";
  message.properties.message_id = id;
  message.properties.app_id = "nqs-adapter demo";
  message.body = boost::json::serialize(body);
  BOOST_OUTCOME_TRY(client_.publish(message));
  sent_.push_back(id);
  ++events_;
  say("in", fmt::format("AIS event {} -> {}: {}", type, message.routing_key,
                        boost::json::serialize(payload)));
  return outcome::success();
}

Result<void> Player::document(const std::string& kind, Result<std::string> bytes,
                              const std::string& message_id, const std::string& signer) {
  if (!bytes) return bytes.error();
  amqp::Outgoing message;
  message.routing_key = config_.amqp.gov_in;
  message.properties.content_type = "text/xml; charset=utf-8";
  message.properties.message_id = message_id;
  message.properties.app_id = "nqs-adapter demo";
  message.body = std::move(bytes).value();
  BOOST_OUTCOME_TRY(client_.publish(message));
  sent_.push_back(message_id);
  ++documents_;
  say("in", fmt::format("{}, signed by {} -> {} ({} bytes)", kind, signer, message.routing_key,
                        message.body.size()));
  return outcome::success();
}

Result<bool> Player::take_one() {
  BOOST_OUTCOME_TRY(auto held, client_.get(watch_));
  if (!held) return false;
  BOOST_OUTCOME_TRY(client_.ack(held->delivery_tag));
  if (held->exchange == config_.amqp.dead_letters) {
    // Dead-lettered by the daemon (its reason) or by the broker (x-death), as dlq list shows it.
    const auto letter = ops::describe(watch_, std::move(*held));
    if (std::find(sent_.begin(), sent_.end(), letter.message_id) != sent_.end()) {
      return make_error(fmt::format(
          "the daemon dead-lettered the demo's message {} as {}: {} (`nqs-adapter dlq show {}`)",
          letter.message_id, letter.reason, letter.detail, letter.id));
    }
    return true;  // someone else's
  }
  // Only what is about the demo's own applications is kept.
  if (applications_.contains(held->properties.correlation_id)) seen_.push_back(std::move(*held));
  return true;
}

Result<amqp::Held> Player::expect(const std::string& type, const std::string& application) {
  const auto until = std::chrono::steady_clock::now() + kPatience;
  for (;;) {
    for (auto it = seen_.begin(); it != seen_.end(); ++it) {
      if (it->routing_key != type || it->properties.correlation_id != application) continue;
      auto found = std::move(*it);
      seen_.erase(it);
      print_output(found);
      return found;
    }
    if (std::chrono::steady_clock::now() > until) {
      return make_error(fmt::format(
          "no {} about {} came out within {} s: see the daemon's log and `nqs-adapter dlq list`",
          type, application, kPatience.count()));
    }
    BOOST_OUTCOME_TRY(auto took, take_one());
    if (!took) std::this_thread::sleep_for(kPoll);
  }
}

Result<void> Player::await(const std::function<Result<bool>()>& done, const std::string& what) {
  const auto until = std::chrono::steady_clock::now() + kPatience;
  for (;;) {
    BOOST_OUTCOME_TRY(auto ok, done());
    if (ok) return outcome::success();
    if (std::chrono::steady_clock::now() > until) {
      return make_error(fmt::format("the store did not show {} within {} s: see the daemon's log",
                                    what, kPatience.count()));
    }
    // A dead letter of an input says why, where waiting would not.
    BOOST_OUTCOME_TRY(auto took, take_one());
    if (!took) std::this_thread::sleep_for(kPoll);
  }
}

Result<void> Player::stage(const std::string& application, domain::Stage stage) {
  BOOST_OUTCOME_TRY(await(
      [&]() -> Result<bool> {
        BOOST_OUTCOME_TRY(auto row, store_.find_application(application));
        return row && row->stage == stage;
      },
      fmt::format("application {} in stage {}", application, domain::stage_name(stage))));
  std::string deadline = "no statutory deadline runs in this stage";
  std::optional<Instant> due;  // the earliest, when several run
  for (const auto& rule : config_.deadlines.rules) {
    if (std::find(rule.stages.begin(), rule.stages.end(), stage) == rule.stages.end()) continue;
    BOOST_OUTCOME_TRY(auto row, store_.deadline(application, rule.step));
    if (!row || row->closed || (due && *due <= row->due)) continue;
    due = row->due;
    deadline = fmt::format("next deadline {} ({}, {}) due {}", rule.step, rule.responsible,
                           rule.basis, zone_.local_string(row->due));
  }
  say("now", fmt::format("stage {}; {}", domain::stage_name(stage), deadline));
  return outcome::success();
}

std::string Player::counts() const {
  return fmt::format(
      "in: {} signed documents and {} AIS events; out: {} commands to the AIS and {} signed "
      "notifications to the bus; no dead letter",
      documents_, events_, commands_, notifications_);
}

void Player::print_output(const amqp::Held& held) {
  if (held.exchange == config_.amqp.gov_outbound) {
    ++notifications_;
    say("out", fmt::format("notification {}, signed by the adapter -> {} ({} bytes)",
                           held.routing_key, held.exchange, held.body.size()));
    return;
  }
  ++commands_;
  std::string fields;
  boost::system::error_code ec;
  const auto command = boost::json::parse(held.body, ec);
  const auto* payload =
      !ec && command.is_object() ? command.as_object().if_contains("payload") : nullptr;
  if (payload != nullptr && payload->is_object()) {
    for (const char* key : {"decision", "reasons", "reviewDueBy", "actionDueBy", "validUntil",
                            "centerAmount", "holderAssistance", "applicantShare", "payDueBy"}) {
      if (const auto* value = payload->as_object().if_contains(key))
        fields += fmt::format(" {}={}", key, boost::json::serialize(*value));
    }
  }
  say("out", fmt::format("command {} -> {}{}", held.routing_key, held.exchange,
                         fields.empty() ? "" : ":" + fields));
}

}  // namespace nqs::cli::demo
