#include "ops/dead_letters.hpp"

#include <fmt/format.h>
#include <libxml/tree.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>

#include "amqp/fields.hpp"
#include "amqp/properties_json.hpp"
#include "common/ids.hpp"
#include "xml/xml.hpp"

namespace nqs::ops {
namespace {

using amqp::header_integer;
using amqp::header_text;

// The broker's first x-death entry (the most recent dead-lettering), if any.
const boost::json::object* first_death(const boost::json::object& headers) {
  const auto* deaths = headers.if_contains("x-death");
  const auto* list = deaths == nullptr ? nullptr : amqp::as_array(*deaths);
  if (list == nullptr || list->empty()) return nullptr;
  return amqp::as_table(list->front());
}

void pretty(const boost::json::value& value, std::string& out, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (value.is_object()) {
    const auto& object = value.get_object();
    if (object.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& [key, item] : object) {
      if (!first) out += ",\n";
      first = false;
      out += inner + boost::json::serialize(boost::json::string(key)) + ": ";
      pretty(item, out, indent + 1);
    }
    out += "\n" + pad + "}";
  } else if (value.is_array()) {
    const auto& array = value.get_array();
    if (array.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    bool first = true;
    for (const auto& item : array) {
      if (!first) out += ",\n";
      first = false;
      out += inner;
      pretty(item, out, indent + 1);
    }
    out += "\n" + pad + "]";
  } else {
    out += boost::json::serialize(value);
  }
}

std::string pretty_json(const boost::json::value& value) {
  std::string out;
  pretty(value, out, 0);
  return out;
}

// The body as an operator reads it: JSON indented, XML re-indented by the hardened parser (never
// expanding anything), anything else as it is.
std::string pretty_body(const std::string& body) {
  boost::system::error_code ec;
  auto json = boost::json::parse(body, ec);
  if (!ec) return pretty_json(json);
  auto parsed = xml::parse_hostile_xml(body, 64 * 1024 * 1024);
  if (auto* doc = std::get_if<xml::XmlDoc>(&parsed)) {
    xmlChar* text = nullptr;
    int size = 0;
    xmlDocDumpFormatMemoryEnc(doc->get(), &text, &size, "UTF-8", 1);
    std::string out(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
    xmlFree(text);
    return out;
  }
  return body;
}

std::string outcome_detail(const Result<void>& result) {
  return result ? std::string() : result.error().message;
}

// Removes a dead letter from its queue, with its identical copies.
Result<void> acknowledge(amqp::SyncClient& client, const DeadLetter& letter) {
  BOOST_OUTCOME_TRY(client.ack(letter.held.delivery_tag));
  for (const auto& copy : letter.copies) {
    BOOST_OUTCOME_TRY(client.ack(copy.delivery_tag));
  }
  return outcome::success();
}

// Why a letter may not be replayed (not from an input queue, or replayed too often), or nothing.
std::optional<std::string> why_refused(const DeadLetter& letter, const ReplaySettings& settings) {
  const auto& queues = settings.input_queues;
  if (std::find(queues.begin(), queues.end(), letter.original_queue) == queues.end()) {
    return fmt::format("its queue '{}' is not an input queue of this adapter ({})",
                       letter.original_queue, fmt::join(queues, ", "));
  }
  if (letter.replay_count >= settings.cap && !settings.force) {
    return fmt::format(
        "replayed {} times already (ops.replay_cap {}); --force to send "
        "it again",
        letter.replay_count, settings.cap);
  }
  return std::nullopt;
}

// The original message: its properties and headers, replay count incremented. x-death (the
// broker's record, nested) is the broker's to write.
amqp::Outgoing replayed_message(const DeadLetter& letter, const ReplaySettings& settings,
                                Instant now) {
  amqp::Outgoing message;
  message.exchange = "";
  message.routing_key = letter.original_queue;
  message.properties = letter.held.properties;
  message.properties.headers.erase("x-death");
  // What the dead letter could not carry as a property, it carried as a header.
  for (const auto& [header, property] :
       {std::pair{"x-nqs-message-id", &amqp::Properties::message_id},
        std::pair{"x-nqs-expiration", &amqp::Properties::expiration}}) {
    if (auto original = header_text(message.properties.headers, header); !original.empty()) {
      message.properties.*property = std::move(original);
    }
  }
  // The broker takes a user_id only from the user who publishes: given back when it is ours.
  if (auto user = header_text(message.properties.headers, "x-nqs-user-id");
      !user.empty() && user == settings.user) {
    message.properties.user_id = std::move(user);
  }
  message.properties.headers["x-nqs-replay-count"] = letter.replay_count + 1;
  message.properties.headers["x-nqs-replayed-at"] = to_utc_string(now);
  message.properties.headers["x-nqs-replayed-by"] = settings.actor;
  message.body = letter.held.body;
  message.mandatory = true;
  return message;
}

// Replays one letter (refused, or only said with a dry run): what became of it.
Settled replay_one(amqp::SyncClient& client, store::Store& audit, const DeadLetter& letter,
                   const ReplaySettings& settings, Instant now) {
  Settled result{&letter, "", ""};
  auto write_audit = [&](const std::string& outcome, const std::string& detail) {
    auto written = audit.record_audit({0, now, settings.actor, "replay", letter.id, letter.dlq,
                                       letter.message_id, outcome, detail});
    return written;
  };
  if (auto refused = why_refused(letter, settings)) {
    result.outcome = "refused";
    result.detail = std::move(*refused);
    if (!settings.dry_run) (void)write_audit(result.outcome, result.detail);
    return result;
  }
  if (settings.dry_run) {
    result.outcome = "would replay";
    result.detail = "to " + letter.original_queue;
    return result;
  }
  if (auto published = client.publish(replayed_message(letter, settings, now)); !published) {
    result.outcome = "failed";
    result.detail = outcome_detail(published);
    (void)write_audit(result.outcome, result.detail);
    return result;  // it stays in the dead-letter queue
  }
  // A fault we cannot produce on demand: die between the confirm and the acknowledgement
  // (tests only). The message is then both back in its queue and still a dead letter.
  if (const char* fault = std::getenv("NQS_FAULT_EXIT_AFTER_REPLAY_CONFIRM");
      fault != nullptr && *fault == '1') {
    std::_Exit(137);
  }
  if (auto written = write_audit("replayed", "to " + letter.original_queue); !written) {
    result.outcome = "failed";
    result.detail = "published, but not audited (so left in the dead-letter queue too): " +
                    written.error().message;
    return result;
  }
  if (auto acked = acknowledge(client, letter); !acked) {
    result.outcome = "failed";
    result.detail =
        "published and audited, still in the dead-letter queue: " + acked.error().message;
    return result;
  }
  result.outcome = "replayed";
  result.detail = "to " + letter.original_queue;
  return result;
}

}  // namespace

DeadLetter describe(const std::string& dlq, amqp::Held held) {
  DeadLetter letter;
  letter.dlq = dlq;
  const auto& headers = held.properties.headers;
  letter.original_queue = header_text(headers, "x-nqs-queue");
  letter.reason = header_text(headers, "x-nqs-reason");
  letter.detail = header_text(headers, "x-nqs-detail");
  letter.document_type = header_text(headers, "x-nqs-document-type");
  letter.failed_at = parse_instant(header_text(headers, "x-nqs-failed-at"));
  letter.replay_count = header_integer(headers, "x-nqs-replay-count");
  letter.message_id = header_text(headers, "x-nqs-message-id");
  if (letter.message_id.empty()) letter.message_id = held.properties.message_id;
  if (const auto* death = first_death(headers)) {
    // Dead-lettered by the broker itself (the delivery limit, a rejection): its x-death says
    // from which queue and why.
    if (letter.original_queue.empty()) letter.original_queue = header_text(*death, "queue");
    if (letter.reason.empty()) letter.reason = "broker:" + header_text(*death, "reason");
    if (!letter.failed_at) {
      const auto* time = death->if_contains("time");
      if (auto seconds = time == nullptr ? std::nullopt : amqp::as_timestamp(*time)) {
        letter.failed_at = Instant{std::chrono::seconds{*seconds}};
      }
    }
  }
  // The id must not change while it waits: a quorum queue adds x-delivery-count each time the
  // message is read and returned, so that header is left out.
  auto identity = held.properties;
  identity.headers.erase("x-delivery-count");
  letter.id = sha256_hex(amqp::properties_to_json(identity) + "\n" + held.body).substr(0, 12);
  letter.held = std::move(held);
  return letter;
}

bool matches(const Filter& filter, const DeadLetter& letter) {
  if (!filter.ids.empty() &&
      std::find(filter.ids.begin(), filter.ids.end(), letter.id) == filter.ids.end()) {
    return false;
  }
  if (!filter.reason.empty()) {
    const bool prefix = filter.reason.back() == '.';
    if (prefix ? !letter.reason.starts_with(filter.reason) : letter.reason != filter.reason) {
      return false;
    }
  }
  if (!filter.document_type.empty() && letter.document_type != filter.document_type) return false;
  if (filter.since && (!letter.failed_at || *letter.failed_at < *filter.since)) return false;
  if (filter.until && (!letter.failed_at || *letter.failed_at >= *filter.until)) return false;
  return true;
}

Result<std::vector<DeadLetter>> read_all(amqp::SyncClient& client,
                                         const std::vector<std::string>& dlqs, std::size_t max) {
  std::vector<DeadLetter> letters;
  for (const auto& dlq : dlqs) {
    BOOST_OUTCOME_TRY(const auto state, client.inspect(dlq));
    // What is in the queue now; messages dead-lettered meanwhile wait for the next look.
    const auto count = std::min<std::size_t>(state.messages, max);
    for (std::size_t i = 0; i < count; ++i) {
      BOOST_OUTCOME_TRY(auto held, client.get(dlq));
      if (!held) break;
      auto letter = describe(dlq, std::move(*held));
      auto same = std::find_if(letters.begin(), letters.end(), [&](const DeadLetter& other) {
        return other.dlq == letter.dlq && other.id == letter.id;
      });
      if (same != letters.end()) {
        same->copies.push_back(std::move(letter.held));
      } else {
        letters.push_back(std::move(letter));
      }
    }
  }
  return letters;
}

boost::json::object summary_json(const DeadLetter& letter) {
  boost::json::object out;
  out["id"] = letter.id;
  out["dlq"] = letter.dlq;
  out["queue"] = letter.original_queue;
  out["reason"] = letter.reason;
  out["detail"] = letter.detail;
  out["documentType"] = letter.document_type;
  out["failedAt"] = letter.failed_at ? boost::json::value(to_utc_string(*letter.failed_at))
                                     : boost::json::value(nullptr);
  out["replayCount"] = letter.replay_count;
  out["copies"] = 1 + letter.copies.size();
  out["deadLetterId"] = letter.held.properties.message_id;
  out["messageId"] = letter.message_id;
  out["correlationId"] = letter.held.properties.correlation_id;
  out["bytes"] = letter.held.body.size();
  return out;
}

std::string show_text(const DeadLetter& letter) {
  const auto& p = letter.held.properties;
  // Every property it has, as stored (the headers apart).
  auto properties = boost::json::parse(amqp::properties_to_json(p)).as_object();
  properties.erase("headers");
  return fmt::format(
      "id:          {}\ndead-letter: {}\nqueue:       {}\nreason:      {}\ndetail:      {}\n"
      "failed at:   {}\nreplays:     {}\n\nproperties:\n{}\n\nheaders:\n{}\n\nbody ({} "
      "bytes):\n{}\n",
      letter.id, letter.dlq, letter.original_queue, letter.reason, letter.detail,
      letter.failed_at ? to_utc_string(*letter.failed_at) : "unknown", letter.replay_count,
      pretty_json(properties), pretty_json(p.headers), letter.held.body.size(),
      pretty_body(letter.held.body));
}

std::vector<Settled> replay(amqp::SyncClient& client, store::Store& audit,
                            const std::vector<const DeadLetter*>& letters,
                            const ReplaySettings& settings, Instant now) {
  std::vector<Settled> settled;
  for (const auto* letter : letters) {
    settled.push_back(replay_one(client, audit, *letter, settings, now));
  }
  return settled;
}

std::vector<Settled> purge(amqp::SyncClient& client, store::Store& audit,
                           const std::vector<const DeadLetter*>& letters, const std::string& actor,
                           Instant now) {
  std::vector<Settled> settled;
  for (const auto* letter : letters) {
    Settled result{letter, "", ""};
    // Audited first: a purge that is not on record does not happen.
    auto written = audit.record_audit({0, now, actor, "purge", letter->id, letter->dlq,
                                       letter->message_id, "purged", letter->reason});
    if (!written) {
      result.outcome = "failed";
      result.detail = "not audited, so not purged: " + written.error().message;
    } else if (auto acked = acknowledge(client, *letter); !acked) {
      result.outcome = "failed";
      result.detail = acked.error().message;
    } else {
      result.outcome = "purged";
    }
    settled.push_back(std::move(result));
  }
  return settled;
}

}  // namespace nqs::ops
