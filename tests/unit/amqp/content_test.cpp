#include "amqp/content.hpp"

#include <gtest/gtest.h>

#include <string>

#include "amqp/url.hpp"

namespace nqs::amqp {
namespace {

constexpr amqp_channel_t kDeliveries = 1;
constexpr amqp_channel_t kReturns = 2;

// Frames as rabbitmq-c decodes them.
class Frames {
 public:
  explicit Frames(std::string message_id) : message_id_(std::move(message_id)) {
    properties_._flags = AMQP_BASIC_MESSAGE_ID_FLAG;
    properties_.message_id = amqp_bytes_t{message_id_.size(), message_id_.data()};
  }
  amqp_frame_t header(amqp_channel_t channel, std::uint64_t body_size) {
    amqp_frame_t frame{};
    frame.frame_type = AMQP_FRAME_HEADER;
    frame.channel = channel;
    frame.payload.properties.class_id = AMQP_BASIC_CLASS;
    frame.payload.properties.body_size = body_size;
    frame.payload.properties.decoded = &properties_;
    return frame;
  }
  static amqp_frame_t body(amqp_channel_t channel, std::string& bytes) {
    amqp_frame_t frame{};
    frame.frame_type = AMQP_FRAME_BODY;
    frame.channel = channel;
    frame.payload.body_fragment = amqp_bytes_t{bytes.size(), bytes.data()};
    return frame;
  }

 private:
  std::string message_id_;
  amqp_basic_properties_t properties_{};
};

Content delivery_on(amqp_channel_t channel, std::size_t max_body) {
  Content content;
  content.channel = channel;
  content.max_body = max_body;
  content.message.delivery_tag = 7;
  return content;
}

TEST(ContentAssembler, ABodyInSeveralFramesIsPutTogetherWithItsProperties) {
  ContentAssembler assembler(kMaxHeaderBytes);
  Frames frames("m-1");
  ASSERT_TRUE(assembler.expect(delivery_on(kDeliveries, 100)));
  std::string first = "<a>", second = "text", third = "</a>";
  auto header = assembler.add(frames.header(kDeliveries, 11));
  ASSERT_TRUE(header && !header.value());
  ASSERT_TRUE(assembler.add(Frames::body(kDeliveries, first)) && !assembler.waiting(kReturns));
  ASSERT_TRUE(assembler.add(Frames::body(kDeliveries, second)));
  EXPECT_TRUE(assembler.waiting(kDeliveries));
  auto last = assembler.add(Frames::body(kDeliveries, third));
  ASSERT_TRUE(last && last.value());
  EXPECT_EQ(last.value()->message.body, "<a>text</a>");
  EXPECT_EQ(last.value()->message.unread_body_bytes, 0U);
  EXPECT_EQ(last.value()->message.properties.message_id, "m-1");
  EXPECT_EQ(last.value()->message.delivery_tag, 7U);
  EXPECT_FALSE(assembler.waiting(kDeliveries));
}

TEST(ContentAssembler, ABodyOverItsLimitIsCountedNeverKept) {
  ContentAssembler assembler(kMaxHeaderBytes);
  Frames frames("big");
  ASSERT_TRUE(assembler.expect(delivery_on(kDeliveries, 8)));
  std::string part(6, 'x');
  ASSERT_TRUE(assembler.add(frames.header(kDeliveries, 12)));
  auto middle = assembler.add(Frames::body(kDeliveries, part));
  ASSERT_TRUE(middle && !middle.value());
  auto last = assembler.add(Frames::body(kDeliveries, part));
  ASSERT_TRUE(last && last.value());
  EXPECT_TRUE(last.value()->message.body.empty());
  EXPECT_EQ(last.value()->message.body.capacity(), std::string().capacity()) << "nothing reserved";
  EXPECT_EQ(last.value()->message.unread_body_bytes, 12U);
  EXPECT_EQ(last.value()->message.properties.message_id, "big") << "its properties are read";

  // A body exactly at the limit is kept.
  ASSERT_TRUE(assembler.expect(delivery_on(kDeliveries, 6)));
  ASSERT_TRUE(assembler.add(frames.header(kDeliveries, 6)));
  auto kept = assembler.add(Frames::body(kDeliveries, part));
  ASSERT_TRUE(kept && kept.value());
  EXPECT_EQ(kept.value()->message.body, part);
}

TEST(ContentAssembler, AnEmptyBodyEndsWithItsHeader) {
  ContentAssembler assembler(kMaxHeaderBytes);
  Frames frames("empty");
  ASSERT_TRUE(assembler.expect(delivery_on(kDeliveries, 0)));
  auto done = assembler.add(frames.header(kDeliveries, 0));
  ASSERT_TRUE(done && done.value());
  EXPECT_EQ(done.value()->message.unread_body_bytes, 0U);
  EXPECT_FALSE(assembler.waiting(kDeliveries));
}

TEST(ContentAssembler, TwoChannelsInterleavedEachGetTheirOwnBytes) {
  ContentAssembler assembler(kMaxHeaderBytes);
  Frames deliveries("d"), returns("r");
  Content returned;
  returned.channel = kReturns;
  returned.note = "312 NO_ROUTE";
  ASSERT_TRUE(assembler.expect(delivery_on(kDeliveries, 100)));
  ASSERT_TRUE(assembler.expect(std::move(returned)));
  std::string mine = "delivered", theirs = "returned!";
  ASSERT_TRUE(assembler.add(deliveries.header(kDeliveries, mine.size())));
  ASSERT_TRUE(assembler.add(returns.header(kReturns, theirs.size())));
  auto back = assembler.add(Frames::body(kReturns, theirs));
  ASSERT_TRUE(back && back.value());
  EXPECT_EQ(back.value()->note, "312 NO_ROUTE");
  EXPECT_EQ(back.value()->message.properties.message_id, "r");
  EXPECT_TRUE(back.value()->message.body.empty()) << "a return's body is not kept (limit 0)";
  auto delivered = assembler.add(Frames::body(kDeliveries, mine));
  ASSERT_TRUE(delivered && delivered.value());
  EXPECT_EQ(delivered.value()->message.body, "delivered");
}

TEST(ContentAssembler, FramesOutsideTheProtocolAreErrors) {
  ContentAssembler assembler(kMaxHeaderBytes);
  Frames frames("m");
  std::string bytes = "12345";
  EXPECT_FALSE(assembler.add(Frames::body(kDeliveries, bytes))) << "content with no method";
  EXPECT_FALSE(assembler.add(frames.header(kDeliveries, 5))) << "a header with no method";

  ASSERT_TRUE(assembler.expect(delivery_on(kDeliveries, 100)));
  EXPECT_FALSE(assembler.expect(delivery_on(kDeliveries, 100))) << "a method inside content";
  EXPECT_FALSE(assembler.add(Frames::body(kDeliveries, bytes))) << "a body before its header";
  ASSERT_TRUE(assembler.add(frames.header(kDeliveries, 4)));
  EXPECT_FALSE(assembler.add(frames.header(kDeliveries, 4))) << "a second header";
  EXPECT_FALSE(assembler.add(Frames::body(kDeliveries, bytes))) << "more body than announced";

  assembler.clear();
  EXPECT_FALSE(assembler.waiting(kDeliveries));
}

}  // namespace
}  // namespace nqs::amqp
