#include "amqp/sync_client.hpp"

#include <amqp.h>
#include <fmt/format.h>

#include "amqp/wire.hpp"

namespace nqs::amqp {
namespace {

constexpr amqp_channel_t kRead = 1;
constexpr amqp_channel_t kPublish = 2;
constexpr std::size_t kMaxFrame = 131072;

}  // namespace

Result<std::unique_ptr<SyncClient>> SyncClient::connect(const ConnectionSettings& settings) {
  amqp_connection_state_t state = amqp_new_connection();
  if (auto opened = open_socket(state, settings); !opened) {
    amqp_destroy_connection(state);
    return opened.error();
  }
  auto rpc_timeout = as_timeval(settings.rpc_timeout);
  amqp_set_rpc_timeout(state, &rpc_timeout);
  const auto login = amqp_login(state, settings.vhost.c_str(), 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                                settings.user.c_str(), settings.password.c_str());
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    amqp_destroy_connection(state);
    return make_error(fmt::format("login to {} vhost '{}' as '{}' failed: {}", settings.node(),
                                  settings.vhost, settings.user, reply_text(login)));
  }
  std::unique_ptr<SyncClient> client(new SyncClient(state));
  client->server_ = server_version(state);
  client->user_ = settings.user;
  BOOST_OUTCOME_TRY(client->reopen_channel(kRead));
  BOOST_OUTCOME_TRY(client->reopen_channel(kPublish));
  amqp_confirm_select(state, kPublish);
  BOOST_OUTCOME_TRY(client->check("enabling publisher confirms"));
  return client;
}

Result<std::unique_ptr<SyncClient>> SyncClient::connect(
    const std::vector<ConnectionSettings>& nodes) {
  std::string errors;
  for (const auto& node : nodes) {
    auto client = connect(node);
    if (client) return client;
    errors += errors.empty() ? client.error().message : "; " + client.error().message;
  }
  return make_error(errors.empty() ? "no broker node is configured" : errors);
}

SyncClient::~SyncClient() {
  (void)put_back();
  amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(state_);
}

Result<void> SyncClient::check(const char* doing) {
  const auto reply = amqp_get_rpc_reply(state_);
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return outcome::success();
  return make_error(fmt::format("{}: {}", doing, reply_text(reply)));
}

Result<void> SyncClient::reopen_channel(int channel) {
  amqp_channel_open(state_, static_cast<amqp_channel_t>(channel));
  return check("opening a channel");
}

void SyncClient::reopen_closed_read_channel(const amqp_rpc_reply_t_& reply) {
  // The broker closed the channel on an error: answer it and open the channel again.
  if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
      reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
    amqp_channel_close_ok_t close_ok{};
    amqp_send_method(state_, kRead, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
    (void)reopen_channel(kRead);
  }
}

Result<QueueState> SyncClient::inspect(const std::string& queue) {
  auto* declared = amqp_queue_declare(state_, kRead, as_bytes(queue), 1, 0, 0, 0, amqp_empty_table);
  if (declared == nullptr) {
    const auto reply = amqp_get_rpc_reply(state_);
    auto error = make_error(fmt::format("queue {}: {}", queue, reply_text(reply)));
    // A failed passive declare closes the channel.
    reopen_closed_read_channel(reply);
    return error;
  }
  return QueueState{declared->message_count, declared->consumer_count};
}

Result<std::optional<Held>> SyncClient::get(const std::string& queue) {
  const auto reply = amqp_basic_get(state_, kRead, as_bytes(queue), 0);
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    return make_error(fmt::format("reading {}: {}", queue, reply_text(reply)));
  }
  if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return std::optional<Held>{};
  const auto* ok = static_cast<amqp_basic_get_ok_t*>(reply.reply.decoded);
  Held held;
  held.delivery_tag = ok->delivery_tag;
  held.exchange = to_string(ok->exchange);
  held.routing_key = to_string(ok->routing_key);
  held.redelivered = ok->redelivered != 0;
  amqp_message_t message;
  const auto read = amqp_read_message(state_, kRead, &message, 0);
  if (read.reply_type != AMQP_RESPONSE_NORMAL) {
    return make_error(fmt::format("reading {}: {}", queue, reply_text(read)));
  }
  // Everything a frame can hold: a message read to be put back must come back whole.
  held.properties = read_properties(message.properties, kMaxFrame);
  held.body = to_string(message.body);
  amqp_destroy_message(&message);
  amqp_maybe_release_buffers_on_channel(state_, kRead);
  unsettled_.emplace(held.delivery_tag, std::make_pair(queue, held));
  return std::optional<Held>{std::move(held)};
}

Result<void> SyncClient::ack(std::uint64_t delivery_tag) {
  const int status = amqp_basic_ack(state_, kRead, delivery_tag, 0);
  if (status != AMQP_STATUS_OK) {
    return make_error(fmt::format("acknowledging: {}", amqp_error_string2(status)));
  }
  unsettled_.erase(delivery_tag);
  return outcome::success();
}

Result<void> SyncClient::put_back() {
  std::optional<Error> first;
  auto unsettled = std::move(unsettled_);
  unsettled_.clear();
  for (auto& [tag, entry] : unsettled) {
    auto& [queue, held] = entry;
    // What could not be read as it came is left to the broker to return as it is.
    if (!held.properties.problems.empty()) continue;
    Outgoing copy{"", queue, std::move(held.properties), std::move(held.body), true};
    // The broker's own count of deliveries starts again with the copy.
    copy.properties.headers.erase("x-delivery-count");
    // The broker takes a user_id only from the user who publishes (as the daemon's dead letters
    // keep it).
    if (!copy.properties.user_id.empty() && copy.properties.user_id != user_) {
      if (!copy.properties.headers.contains("x-nqs-user-id")) {
        copy.properties.headers["x-nqs-user-id"] = copy.properties.user_id;
      }
      copy.properties.user_id.clear();
    }
    if (auto published = publish(copy); !published) {
      // Not acknowledged: the broker returns this one and the rest as they are. No more tries:
      // a broker that refuses (or blocks) one refuses the others too.
      first = published.error();
      break;
    }
    if (auto acked = ack(tag); !acked && !first) first = acked.error();
  }
  if (first) return *first;
  return outcome::success();
}

Result<std::string> SyncClient::declare_watch_queue(
    const std::vector<std::pair<std::string, std::string>>& bindings) {
  auto* declared =
      amqp_queue_declare(state_, kRead, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
  if (declared == nullptr) {
    const auto reply = amqp_get_rpc_reply(state_);
    reopen_closed_read_channel(reply);
    return make_error(fmt::format("declaring a queue to watch: {}", reply_text(reply)));
  }
  const auto queue = to_string(declared->queue);
  for (const auto& [exchange, key] : bindings) {
    if (amqp_queue_bind(state_, kRead, as_bytes(queue), as_bytes(exchange), as_bytes(key),
                        amqp_empty_table) == nullptr) {
      const auto reply = amqp_get_rpc_reply(state_);
      reopen_closed_read_channel(reply);
      return make_error(fmt::format("binding to {}: {}", exchange, reply_text(reply)));
    }
  }
  return queue;
}

Result<void> SyncClient::publish(const Outgoing& message) {
  TableBuilder headers(message.properties.headers);
  const auto properties = write_properties(message.properties, headers);
  const int status = amqp_basic_publish(state_, kPublish, as_bytes(message.exchange),
                                        as_bytes(message.routing_key), message.mandatory ? 1 : 0, 0,
                                        &properties, as_bytes(message.body));
  if (status != AMQP_STATUS_OK) {
    return make_error(fmt::format("publishing: {}", amqp_error_string2(status)));
  }
  bool returned = false;
  for (;;) {
    amqp_frame_t frame;
    auto timeout = as_timeval(std::chrono::seconds{30});
    const int waited = amqp_simple_wait_frame_noblock(state_, &frame, &timeout);
    if (waited != AMQP_STATUS_OK) {
      return make_error(fmt::format("waiting for the confirm: {}", amqp_error_string2(waited)));
    }
    if (frame.frame_type != AMQP_FRAME_METHOD || frame.channel != kPublish) continue;
    switch (frame.payload.method.id) {
      case AMQP_BASIC_RETURN_METHOD: {
        returned = true;
        amqp_message_t content;
        amqp_read_message(state_, kPublish, &content, 0);
        amqp_destroy_message(&content);
        break;
      }
      case AMQP_BASIC_ACK_METHOD:
        if (returned) {
          return make_error(fmt::format("no queue takes routing key '{}' on exchange '{}'",
                                        message.routing_key, message.exchange));
        }
        return outcome::success();
      case AMQP_BASIC_NACK_METHOD:
        return make_error("the broker refused the message (basic.nack)");
      default:
        break;
    }
  }
}

}  // namespace nqs::amqp
