#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "amqp/sync_client.hpp"
#include "common/instant.hpp"
#include "common/result.hpp"
#include "store/store.hpp"

namespace nqs::ops {

// One message of a dead-letter queue, as an operator sees it.
struct DeadLetter {
  std::string id;              // 12 hex digits of its content's SHA-256: stable while it waits
  std::string dlq;             // the dead-letter queue it is in
  std::string original_queue;  // where it came from: x-nqs-queue, or the broker's x-death
  std::string reason;          // x-nqs-reason, or broker:<x-death reason>
  std::string detail;
  std::string document_type;  // x-nqs-document-type (the adapter's dead letters)
  std::optional<Instant> failed_at;
  std::int64_t replay_count = 0;  // x-nqs-replay-count
  // The id it came with (x-nqs-message-id; the adapter's dead letters carry their rejection key
  // as message_id), or its message_id.
  std::string message_id;
  amqp::Held held;
  // Identical copies of it in the same queue (the same id): shown once, settled with it.
  std::vector<amqp::Held> copies;
};

DeadLetter describe(const std::string& dlq, amqp::Held held);

struct Filter {
  std::vector<std::string> ids;  // any of these (empty: any)
  std::string reason;            // exact code, or a prefix ending with '.' (signature.)
  std::string document_type;
  std::optional<Instant> since;
  std::optional<Instant> until;
  std::size_t limit = 0;  // 0: no limit
};
bool matches(const Filter& filter, const DeadLetter& letter);

// Reads the messages of the dead-letter queues, at most `max` per queue, without removing any:
// they stay held by `client` until they are acknowledged or the client closes (then they return
// to their queue). Identical copies of one message are one dead letter with its copies.
Result<std::vector<DeadLetter>> read_all(amqp::SyncClient& client,
                                         const std::vector<std::string>& dlqs, std::size_t max);

// The JSON of `dlq list --json` (one per line) and `dlq show`.
boost::json::object summary_json(const DeadLetter& letter);
// Properties, headers (the adapter's and the broker's x-death) and the body, pretty-printed
// when it is JSON or XML.
std::string show_text(const DeadLetter& letter);

struct ReplaySettings {
  std::vector<std::string> input_queues;  // the only queues a dead letter may go back to
  std::int64_t cap = 3;                   // replays of one message, unless forced
  bool force = false;
  bool dry_run = false;
  std::string actor;
  std::string user;  // the broker user replaying: a user_id of this user's is given back
};

struct Settled {
  const DeadLetter* letter = nullptr;
  std::string outcome;  // replayed | purged | refused | failed | would replay | would purge
  std::string detail;
};

// Publishes each letter back to its original queue with confirms, as it came: its properties and
// headers, its own message_id again (x-nqs-message-id; the dead letter's is its rejection key),
// the broker's x-death not carried (the broker writes it), x-nqs-replay-count incremented; only
// after the confirm is it audited and acknowledged (removed from the dead-letter queue, with its
// identical copies). Interrupted at any point, the message is in the dead-letter queue,
// or in its queue, or both (then the inbox absorbs the second): never lost.
std::vector<Settled> replay(amqp::SyncClient& client, store::Store& audit,
                            const std::vector<const DeadLetter*>& letters,
                            const ReplaySettings& settings, Instant now);
// Removes each letter, audited first.
std::vector<Settled> purge(amqp::SyncClient& client, store::Store& audit,
                           const std::vector<const DeadLetter*>& letters, const std::string& actor,
                           Instant now);

}  // namespace nqs::ops
