#include "amqp/connection.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cstring>
#include <deque>

#include "amqp/content.hpp"
#include "amqp/wire.hpp"

namespace nqs::amqp {
namespace {

// Frames read in one turn of the event loop at most (a window of 256 small deliveries is 768).
constexpr int kFramesPerTurn = 1024;

}  // namespace

Connection::Connection(boost::asio::io_context& io, ConnectionSettings settings, Handlers handlers,
                       std::uint64_t generation)
    : io_(io),
      settings_(std::move(settings)),
      handlers_(std::move(handlers)),
      generation_(generation),
      poll_timer_(io),
      contents_(std::make_unique<ContentAssembler>(settings_.max_header_bytes)) {}

Connection::~Connection() {
  close();
}

Result<void> Connection::check_rpc(std::string_view doing) {
  const auto reply = amqp_get_rpc_reply(state_);
  if (reply.reply_type == AMQP_RESPONSE_NORMAL) return outcome::success();
  return make_error(fmt::format("{}: {}", doing, reply_text(reply)));
}

Result<void> Connection::open() {
  state_ = amqp_new_connection();
  if (auto opened = open_socket(state_, settings_); !opened) {
    amqp_destroy_connection(state_);
    state_ = nullptr;
    return opened.error();
  }
  // No RPC may block the event loop for longer than this.
  auto rpc_timeout = as_timeval(settings_.rpc_timeout);
  amqp_set_handshake_timeout(state_, &rpc_timeout);
  amqp_set_rpc_timeout(state_, &rpc_timeout);
  // Without these capabilities the broker would drop a consumer silently when its queue is
  // deleted, and block a publisher without saying why.
  boost::json::object capabilities;
  for (const char* capability :
       {"consumer_cancel_notify", "connection.blocked", "basic.nack", "publisher_confirms",
        "authentication_failure_close", "exchange_exchange_bindings"}) {
    capabilities[capability] = true;
  }
  boost::json::object client;
  client["product"] = "nqs-adapter";
  client["connection_name"] = fmt::format("nqs-adapter pid {} #{}", ::getpid(), generation_);
  TableBuilder capability_table(capabilities);
  TableBuilder client_table(client);
  amqp_table_entry_t entries[3];
  const auto client_entries = client_table.table();
  for (int i = 0; i < client_entries.num_entries; ++i)
    entries[i] = client_entries.entries[i];
  entries[2].key = amqp_cstring_bytes("capabilities");
  entries[2].value.kind = AMQP_FIELD_KIND_TABLE;
  entries[2].value.value.table = capability_table.table();
  const amqp_table_t properties{3, entries};
  const auto login = amqp_login_with_properties(
      state_, settings_.vhost.c_str(), 0, 131072, static_cast<int>(settings_.heartbeat.count()),
      &properties, AMQP_SASL_METHOD_PLAIN, settings_.user.c_str(), settings_.password.c_str());
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    auto error =
        make_error(fmt::format("login to {} vhost '{}' as '{}' failed: {}", settings_.node(),
                               settings_.vhost, settings_.user, reply_text(login)));
    amqp_destroy_connection(state_);
    state_ = nullptr;
    return error;
  }
  const auto server = server_version(state_);
  server_ = server.product.empty() ? server.version
                                   : fmt::format("{} {}", server.product, server.version);
  auto fail = [this](Error error) -> Result<void> {
    amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(state_);
    state_ = nullptr;
    return error;
  };
  amqp_channel_open(state_, kPublishChannel);
  if (auto result = check_rpc("opening the publish channel"); !result) return fail(result.error());
  amqp_confirm_select(state_, kPublishChannel);
  if (auto result = check_rpc("enabling publisher confirms"); !result) return fail(result.error());
  next_publish_tag_ = 1;
  socket_.emplace(io_, amqp_get_sockfd(state_));
  return outcome::success();
}

Result<void> Connection::declare(const Topology& topology) {
  if (state_ == nullptr) return make_error("not connected");
  for (const auto& exchange : topology.exchanges) {
    amqp_exchange_declare(state_, kPublishChannel, as_bytes(exchange.name), as_bytes(exchange.type),
                          0, 1, 0, 0, amqp_empty_table);
    BOOST_OUTCOME_TRY(check_rpc(fmt::format("declaring exchange {}", exchange.name)));
  }
  for (const auto& queue : topology.queues) {
    TableBuilder arguments(queue.arguments);
    amqp_queue_declare(state_, kPublishChannel, as_bytes(queue.name), 0, 1, 0, 0,
                       arguments.table());
    BOOST_OUTCOME_TRY(check_rpc(fmt::format(
        "declaring queue {} (if it exists with other arguments, the broker refuses; delete it or "
        "fix the configuration)",
        queue.name)));
  }
  for (const auto& binding : topology.bindings) {
    amqp_queue_bind(state_, kPublishChannel, as_bytes(binding.queue), as_bytes(binding.exchange),
                    as_bytes(binding.routing_key), amqp_empty_table);
    BOOST_OUTCOME_TRY(check_rpc(fmt::format("binding {} to {} by '{}'", binding.queue,
                                            binding.exchange, binding.routing_key)));
  }
  return outcome::success();
}

Result<QueueState> Connection::inspect_queue(const std::string& queue) {
  if (state_ == nullptr) return make_error("not connected");
  const auto* ok =
      amqp_queue_declare(state_, kPublishChannel, as_bytes(queue), 1, 0, 0, 0, amqp_empty_table);
  BOOST_OUTCOME_TRY(check_rpc(fmt::format("inspecting queue {}", queue)));
  return QueueState{ok->message_count, ok->consumer_count};
}

Result<amqp_channel_t> Connection::channel_for(const std::string& queue) {
  for (const auto& channel : channels_) {
    if (channel.queue == queue) return channel.number;
  }
  const auto number = static_cast<amqp_channel_t>(channels_.empty() ? 1 : channels_.size() + 2);
  if (const int most = amqp_get_channel_max(state_); most != 0 && number > most) {
    return make_error(fmt::format(
        "the broker allows {} channels a connection: consuming {} needs {} (one a queue, and one "
        "to publish)",
        most, queue, number));
  }
  amqp_channel_open(state_, number);
  BOOST_OUTCOME_TRY(check_rpc(fmt::format("opening the channel of {}", queue)));
  amqp_basic_qos(state_, number, 0, settings_.prefetch, 0);
  BOOST_OUTCOME_TRY(check_rpc(fmt::format("setting the prefetch of {}", queue)));
  channels_.push_back({number, queue, {}});
  return number;
}

Connection::ConsumeChannel* Connection::find_channel(amqp_channel_t number) {
  for (auto& channel : channels_) {
    if (channel.number == number) return &channel;
  }
  return nullptr;
}

Result<void> Connection::consume(const std::string& queue, std::size_t max_body) {
  if (state_ == nullptr) return make_error("not connected");
  BOOST_OUTCOME_TRY(const auto channel, channel_for(queue));
  const auto* ok = amqp_basic_consume(state_, channel, as_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                                      amqp_empty_table);
  BOOST_OUTCOME_TRY(check_rpc(fmt::format("consuming from {}", queue)));
  consumers_.push_back({to_string(ok->consumer_tag), queue, max_body, channel});
  // The RPC may have left deliveries queued in the library: read them now.
  boost::asio::post(io_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->drain();
  });
  return outcome::success();
}

Result<void> Connection::cancel(const std::string& queue) {
  if (state_ == nullptr) return make_error("not connected");
  for (auto& consumer : consumers_) {
    if (consumer.queue != queue || consumer.cancelled) continue;
    // Kept: deliveries already on their way still come, and are read with its limit.
    consumer.cancelled = true;
    amqp_basic_cancel(state_, consumer.channel, as_bytes(consumer.tag));
    return check_rpc(fmt::format("cancelling the consumer of {}", queue));
  }
  return outcome::success();
}

Result<std::uint64_t> Connection::publish(const Outgoing& message) {
  if (state_ == nullptr) return make_error("not connected");
  TableBuilder headers(message.properties.headers);
  const auto properties = write_properties(message.properties, headers);
  const int status = amqp_basic_publish(state_, kPublishChannel, as_bytes(message.exchange),
                                        as_bytes(message.routing_key), message.mandatory ? 1 : 0, 0,
                                        &properties, as_bytes(message.body));
  if (status != AMQP_STATUS_OK) {
    const std::string reason = fmt::format("publishing failed: {}", amqp_error_string2(status));
    boost::asio::post(io_, [weak = weak_from_this(), reason] {
      if (auto self = weak.lock()) self->lose(reason);
    });
    return make_error(reason);
  }
  return next_publish_tag_++;
}

Connection::ConsumeChannel* Connection::channel_of(const Delivery& delivery) {
  // Tags start again at 1 on each connection's channels: a tag of an earlier connection may name
  // a delivery of this one, and in a run it would settle others. Never taken.
  if (state_ == nullptr || delivery.generation != generation_) return nullptr;
  return find_channel(delivery.channel);
}

Result<void> Connection::ack(const Delivery& delivery) {
  auto* channel = channel_of(delivery);
  if (channel == nullptr) return make_error("not the connection the delivery came on");
  channel->acks.ack(delivery.delivery_tag);
  if (!acks_posted_) {
    acks_posted_ = true;
    boost::asio::post(io_, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->send_acks();
    });
  }
  return outcome::success();
}

int Connection::write_acks() {
  acks_posted_ = false;
  for (auto& channel : channels_) {
    for (const auto& ack : channel.acks.take()) {
      const int status = amqp_basic_ack(state_, channel.number, ack.tag, ack.multiple ? 1 : 0);
      if (status != AMQP_STATUS_OK) return status;
    }
  }
  return AMQP_STATUS_OK;
}

void Connection::send_acks() {
  if (state_ == nullptr) return;
  if (const int status = write_acks(); status != AMQP_STATUS_OK) {
    lose(fmt::format("acknowledging failed: {}", amqp_error_string2(status)));
  }
}

Result<void> Connection::reject(const Delivery& delivery) {
  auto* channel = channel_of(delivery);
  if (channel == nullptr) return make_error("not the connection the delivery came on");
  const int status = amqp_basic_reject(state_, channel->number, delivery.delivery_tag, 0);
  if (status != AMQP_STATUS_OK) return make_error(amqp_error_string2(status));
  channel->acks.settled(delivery.delivery_tag);
  return outcome::success();
}

void Connection::start() {
  wait_readable();
  schedule_poll();
  drain();
}

void Connection::wait_readable() {
  if (!socket_) return;
  socket_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [weak = weak_from_this()](const boost::system::error_code& ec) {
                        auto self = weak.lock();
                        if (!self || ec == boost::asio::error::operation_aborted) return;
                        self->drain();
                        if (self->state_ != nullptr) self->wait_readable();
                      });
}

void Connection::schedule_poll() {
  // Heartbeats are sent and checked inside rabbitmq-c's wait calls: poll often enough that one
  // goes out well within the interval, even when nothing else happens.
  const auto interval = std::max<std::chrono::milliseconds>(
      std::chrono::milliseconds{200},
      std::chrono::duration_cast<std::chrono::milliseconds>(settings_.heartbeat) / 4);
  poll_timer_.expires_after(interval);
  poll_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!self || ec) return;
    self->drain();
    if (self->state_ != nullptr) self->schedule_poll();
  });
}

void Connection::drain() {
  if (state_ == nullptr || draining_) return;
  draining_ = true;
  timeval zero{0, 0};
  for (int frames = 0; state_ != nullptr; ++frames) {
    if (frames == kFramesPerTurn) {
      // A whole window arriving at once shares the loop with the rest: read on next turn.
      boost::asio::post(io_, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->drain();
      });
      break;
    }
    amqp_frame_t frame;
    const int status = amqp_simple_wait_frame_noblock(state_, &frame, &zero);
    if (status == AMQP_STATUS_TIMEOUT) break;  // nothing queued, nothing readable
    if (status != AMQP_STATUS_OK) {
      draining_ = false;
      lose(fmt::format("reading from the broker failed: {}", amqp_error_string2(status)));
      return;
    }
    handle(frame);
    // rabbitmq-c reads each frame into its channel's pool, kept until released: released after
    // every frame, a message's frames (those of a body dropped as over its limit too) are never
    // all held at once. (Frames of other channels queued during an RPC stay until read.)
    if (state_ != nullptr) amqp_maybe_release_buffers_on_channel(state_, frame.channel);
  }
  if (state_ != nullptr) amqp_maybe_release_buffers(state_);
  draining_ = false;
}

void Connection::release_socket() {
  poll_timer_.cancel();
  if (socket_) {
    boost::system::error_code ignored;
    socket_->cancel(ignored);
    socket_->release();  // rabbitmq-c owns and closes the descriptor
    socket_.reset();
  }
}

void Connection::lose(std::string reason) {
  if (state_ == nullptr) return;
  release_socket();
  amqp_destroy_connection(state_);
  forget();
  if (handlers_.on_lost) handlers_.on_lost(std::move(reason));
}

void Connection::forget() {
  state_ = nullptr;
  consumers_.clear();
  contents_->clear();
  channels_.clear();
  acks_posted_ = false;
}

void Connection::close() {
  if (state_ == nullptr) return;
  write_acks();  // those that do not arrive, the broker delivers again
  release_socket();
  amqp_channel_close(state_, kPublishChannel, AMQP_REPLY_SUCCESS);
  for (const auto& channel : channels_)
    amqp_channel_close(state_, channel.number, AMQP_REPLY_SUCCESS);
  amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(state_);
  forget();
}

}  // namespace nqs::amqp
