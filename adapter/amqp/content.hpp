#pragma once

// The header and body frames that follow a basic.deliver or a basic.return, put together as they
// arrive. The connection reads frames only when the socket has them, so a message whose body is
// still on its way never holds the event loop, and a body larger than its limit is counted and
// dropped frame by frame, never held: a publisher cannot make the adapter keep more than a
// queue's limit for one message, whatever the broker's own `max_message_size`.
#include <amqp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "amqp/message.hpp"
#include "common/result.hpp"

namespace nqs::amqp {

// A message whose method frame came and whose content is coming, or has come.
struct Content {
  amqp_channel_t channel = 0;
  Delivery message;                // properties, and the body unless it was over max_body
  std::string note;                // what the method said (a return's reply)
  std::size_t max_body = 0;        // bytes of body kept at most; a larger body is not kept
  std::uint64_t body_size = 0;     // as the header announced it
  std::uint64_t body_arrived = 0;  // bytes of body frames so far
  bool header_arrived = false;
};

class ContentAssembler {
 public:
  explicit ContentAssembler(std::size_t max_header_bytes) : max_header_bytes_(max_header_bytes) {}

  // A method that carries content came on `content.channel`; its header and body frames follow.
  // An error: that channel's previous message is still incomplete (the broker broke the protocol).
  Result<void> expect(Content content);
  // A header or body frame. The message it completes, if it does; an error for a frame that no
  // method announced, a second header, or more body than the header said (the connection is
  // then unusable and dropped).
  Result<std::optional<Content>> add(const amqp_frame_t& frame);
  // Whether a message on `channel` is waiting for its content.
  [[nodiscard]] bool waiting(amqp_channel_t channel) const;
  void clear() { open_.clear(); }

 private:
  Content* find(amqp_channel_t channel);
  std::optional<Content> take_if_complete(Content& content);

  std::size_t max_header_bytes_;
  std::vector<Content> open_;  // at most one a channel
};

}  // namespace nqs::amqp
