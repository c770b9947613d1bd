#include "amqp/content.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "amqp/wire.hpp"

namespace nqs::amqp {

Result<void> ContentAssembler::expect(Content content) {
  if (waiting(content.channel)) {
    return make_error(fmt::format(
        "the broker began a message on channel {} before the previous one's content ended",
        content.channel));
  }
  content.header_arrived = false;
  content.body_arrived = 0;
  content.body_size = 0;
  open_.push_back(std::move(content));
  return outcome::success();
}

Result<std::optional<Content>> ContentAssembler::add(const amqp_frame_t& frame) {
  auto* content = find(frame.channel);
  if (content == nullptr) {
    return make_error(fmt::format("the broker sent message content on channel {} with no message",
                                  frame.channel));
  }
  if (frame.frame_type == AMQP_FRAME_HEADER) {
    if (content->header_arrived) {
      return make_error(
          fmt::format("the broker sent a second content header on channel {}", frame.channel));
    }
    content->header_arrived = true;
    content->body_size = frame.payload.properties.body_size;
    const auto* properties =
        static_cast<const amqp_basic_properties_t*>(frame.payload.properties.decoded);
    if (properties != nullptr) {
      content->message.properties = read_properties(*properties, max_header_bytes_);
    }
    if (content->body_size > content->max_body) {
      content->message.unread_body_bytes = content->body_size;
    } else {
      content->message.body.reserve(static_cast<std::size_t>(content->body_size));
    }
    return take_if_complete(*content);
  }
  if (frame.frame_type != AMQP_FRAME_BODY || !content->header_arrived) {
    return make_error(fmt::format(
        "the broker sent a frame of type {} where channel {}'s message content was expected",
        frame.frame_type, frame.channel));
  }
  const auto& fragment = frame.payload.body_fragment;
  if (fragment.len > content->body_size - content->body_arrived) {
    return make_error(fmt::format(
        "the broker sent more body on channel {} than the message's header announced ({} bytes)",
        frame.channel, content->body_size));
  }
  content->body_arrived += fragment.len;
  if (content->message.unread_body_bytes == 0) {
    content->message.body.append(static_cast<const char*>(fragment.bytes), fragment.len);
  }
  return take_if_complete(*content);
}

bool ContentAssembler::waiting(amqp_channel_t channel) const {
  return std::any_of(open_.begin(), open_.end(),
                     [channel](const Content& content) { return content.channel == channel; });
}

Content* ContentAssembler::find(amqp_channel_t channel) {
  for (auto& content : open_) {
    if (content.channel == channel) return &content;
  }
  return nullptr;
}

std::optional<Content> ContentAssembler::take_if_complete(Content& content) {
  if (!content.header_arrived || content.body_arrived < content.body_size) return std::nullopt;
  const auto channel = content.channel;
  std::optional<Content> done(std::move(content));
  std::erase_if(open_, [channel](const Content& open) { return open.channel == channel; });
  return done;
}

}  // namespace nqs::amqp
