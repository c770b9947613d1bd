// What the broker sends on a connection: methods, and the content of deliveries and returns.
#include <fmt/format.h>

#include <algorithm>

#include "amqp/connection.hpp"
#include "amqp/content.hpp"
#include "amqp/wire.hpp"

namespace nqs::amqp {

void Connection::handle(const amqp_frame_t& frame) {
  if (frame.frame_type == AMQP_FRAME_HEADER || frame.frame_type == AMQP_FRAME_BODY)
    return handle_content(frame);
  if (frame.frame_type != AMQP_FRAME_METHOD) return;  // heartbeats are the library's
  const auto& method = frame.payload.method;
  if (contents_->waiting(frame.channel) && method.id != AMQP_CHANNEL_CLOSE_METHOD) {
    return lose(fmt::format("the broker sent a method on channel {} inside a message's content",
                            frame.channel));
  }
  switch (method.id) {
    case AMQP_BASIC_DELIVER_METHOD:
      handle_delivery(frame);
      return;
    case AMQP_BASIC_ACK_METHOD: {
      const auto* ack = static_cast<amqp_basic_ack_t*>(method.decoded);
      if (handlers_.on_confirm) handlers_.on_confirm(ack->delivery_tag, ack->multiple != 0, true);
      return;
    }
    case AMQP_BASIC_NACK_METHOD: {
      const auto* nack = static_cast<amqp_basic_nack_t*>(method.decoded);
      if (handlers_.on_confirm)
        handlers_.on_confirm(nack->delivery_tag, nack->multiple != 0, false);
      return;
    }
    case AMQP_BASIC_RETURN_METHOD:
      handle_return(frame);
      return;
    case AMQP_BASIC_CANCEL_METHOD:
      handle_consumer_cancel(*static_cast<amqp_basic_cancel_t*>(method.decoded));
      return;
    case AMQP_CONNECTION_BLOCKED_METHOD: {
      const auto* blocked = static_cast<amqp_connection_blocked_t*>(method.decoded);
      if (handlers_.on_blocked) handlers_.on_blocked(true, to_string(blocked->reason));
      return;
    }
    case AMQP_CONNECTION_UNBLOCKED_METHOD:
      if (handlers_.on_blocked) handlers_.on_blocked(false, "");
      return;
    case AMQP_CHANNEL_CLOSE_METHOD: {
      const auto* close = static_cast<amqp_channel_close_t*>(method.decoded);
      amqp_channel_close_ok_t ok{};
      amqp_send_method(state_, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
      // Which channel matters: a refused message closes the publishing one (BrokerLink).
      const auto* consuming = find_channel(frame.channel);
      lose(fmt::format(
          "the broker closed {}: {} {}",
          consuming != nullptr
              ? fmt::format("channel {} (consuming {})", frame.channel, consuming->queue)
              : fmt::format("the publishing channel {}", frame.channel),
          close->reply_code, to_string(close->reply_text)));
      return;
    }
    case AMQP_CONNECTION_CLOSE_METHOD: {
      const auto* close = static_cast<amqp_connection_close_t*>(method.decoded);
      amqp_connection_close_ok_t ok{};
      amqp_send_method(state_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      lose(fmt::format("the broker closed the connection: {} {}", close->reply_code,
                       to_string(close->reply_text)));
      return;
    }
    default:
      return;
  }
}

void Connection::handle_delivery(const amqp_frame_t& frame) {
  const auto* deliver = static_cast<amqp_basic_deliver_t*>(frame.payload.method.decoded);
  Content content;
  content.channel = frame.channel;
  auto& delivery = content.message;
  delivery.delivery_tag = deliver->delivery_tag;
  delivery.channel = frame.channel;
  delivery.generation = generation_;
  delivery.exchange = to_string(deliver->exchange);
  delivery.routing_key = to_string(deliver->routing_key);
  delivery.redelivered = deliver->redelivered != 0;
  delivery.received = std::chrono::steady_clock::now();
  const std::string consumer_tag = to_string(deliver->consumer_tag);
  const auto consumer =
      std::find_if(consumers_.begin(), consumers_.end(),
                   [&](const Consumer& known) { return known.tag == consumer_tag; });
  // Cancelled consumers are kept, so an unknown one is the broker's error: read nothing of it.
  if (consumer == consumers_.end()) {
    return lose(fmt::format("the broker delivered for a consumer '{}' this connection never had",
                            consumer_tag));
  }
  auto* channel = find_channel(frame.channel);
  if (consumer->channel != frame.channel || channel == nullptr) {
    return lose(fmt::format("the broker delivered for consumer '{}' on channel {}, not its own",
                            consumer_tag, frame.channel));
  }
  // Unsettled from now on, as the broker holds it, whatever becomes of it here.
  channel->acks.delivered(deliver->delivery_tag);
  delivery.queue = consumer->queue;
  content.max_body = consumer->max_body;
  if (auto expected = contents_->expect(std::move(content)); !expected) {
    lose(expected.error().message);
  }
}

void Connection::handle_return(const amqp_frame_t& frame) {
  // Only the publishing channel publishes; its content is told from a delivery's by its channel.
  if (frame.channel != kPublishChannel) {
    return lose(fmt::format("the broker returned a message on channel {}, which never publishes",
                            frame.channel));
  }
  const auto* returned = static_cast<amqp_basic_return_t*>(frame.payload.method.decoded);
  Content content;
  content.channel = frame.channel;
  content.note = fmt::format("{} {} (exchange '{}', routing key '{}')", returned->reply_code,
                             to_string(returned->reply_text), to_string(returned->exchange),
                             to_string(returned->routing_key));
  content.max_body = 0;  // the adapter's own message: its id is all that is needed
  if (auto expected = contents_->expect(std::move(content)); !expected) {
    lose(expected.error().message);
  }
}

void Connection::handle_content(const amqp_frame_t& frame) {
  auto added = contents_->add(frame);
  if (!added) return lose(added.error().message);
  if (!added.value()) return;
  auto& done = *added.value();
  if (done.channel != kPublishChannel) {
    if (handlers_.on_delivery) handlers_.on_delivery(std::move(done.message));
  } else if (handlers_.on_return) {
    handlers_.on_return(std::move(done.message.properties.message_id), done.note);
  }
}

void Connection::handle_consumer_cancel(const amqp_basic_cancel_t& cancel) {
  const std::string consumer_tag = to_string(cancel.consumer_tag);
  std::string queue;
  for (auto& consumer : consumers_) {
    if (consumer.tag != consumer_tag) continue;
    consumer.cancelled = true;
    queue = consumer.queue;
  }
  if (handlers_.on_consumer_cancelled) handlers_.on_consumer_cancelled(queue);
}

}  // namespace nqs::amqp
