#include "amqp/acknowledgements.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace nqs::amqp {
namespace {

using Acks = std::vector<Acknowledgements::Ack>;

Acknowledgements delivered(std::uint64_t from, std::uint64_t to) {
  Acknowledgements acks;
  for (auto tag = from; tag <= to; ++tag)
    acks.delivered(tag);
  return acks;
}

TEST(Acknowledgements, TheOldestDeliveriesAllAskedForGoAsOneMultipleAck) {
  auto acks = delivered(1, 5);
  for (std::uint64_t tag : {3, 1, 2})
    acks.ack(tag);  // asked for in any order
  EXPECT_EQ(acks.take(), (Acks{{3, true}}));
  EXPECT_EQ(acks.unsettled(), 2u);
  EXPECT_FALSE(acks.asked());
  acks.ack(4);
  EXPECT_EQ(acks.take(), (Acks{{4, false}}));  // a run of one needs no `multiple`
}

// `multiple` settles every unsettled delivery up to its tag: never sent past one still worked on.
TEST(Acknowledgements, AnAckBehindADeliveryStillUnsettledGoesOnItsOwn) {
  auto acks = delivered(1, 6);
  for (std::uint64_t tag : {1, 2, 4, 6})
    acks.ack(tag);
  EXPECT_EQ(acks.take(), (Acks{{2, true}, {4, false}, {6, false}}));
  EXPECT_EQ(acks.unsettled(), 2u);  // 3 and 5
  acks.ack(5);
  EXPECT_EQ(acks.take(), (Acks{{5, false}}));
  acks.ack(3);
  EXPECT_EQ(acks.take(), (Acks{{3, false}}));
  EXPECT_EQ(acks.unsettled(), 0u);
}

// A rejected delivery is settled already: the run goes past it, as the broker's `multiple` does.
TEST(Acknowledgements, ARejectedDeliveryDoesNotBreakTheRun) {
  auto acks = delivered(1, 4);
  acks.settled(2);
  for (std::uint64_t tag : {1, 3, 4})
    acks.ack(tag);
  EXPECT_EQ(acks.take(), (Acks{{4, true}}));
  EXPECT_EQ(acks.unsettled(), 0u);
}

// The broker closes the channel for a tag it does not hold: one asked for twice, or never
// delivered on this connection, is not sent.
TEST(Acknowledgements, ATagNotUnsettledIsNeverSent) {
  auto acks = delivered(10, 12);
  acks.ack(10);
  acks.ack(10);
  acks.ack(7);
  acks.ack(12);
  EXPECT_EQ(acks.take(), (Acks{{10, false}, {12, false}}));
  acks.ack(12);
  EXPECT_EQ(acks.take(), Acks{});
  acks.clear();  // the connection was lost: nothing of it is unsettled any more
  acks.ack(11);
  EXPECT_EQ(acks.take(), Acks{});
}

TEST(Acknowledgements, NothingAskedNothingSent) {
  auto acks = delivered(1, 3);
  EXPECT_EQ(acks.take(), Acks{});
  EXPECT_EQ(acks.unsettled(), 3u);
}

}  // namespace
}  // namespace nqs::amqp
