#pragma once

// The acknowledgements of one consuming channel, gathered over a turn of the event loop and sent
// together. AMQP 0-9-1's basic.ack with `multiple` settles every delivery of the channel up to
// its tag that is still unsettled, so it may only be sent for an unbroken run of the oldest
// unsettled deliveries, all of whose acknowledgements were asked for: the channel's unsettled
// deliveries are tracked here from basic.deliver on, exactly as the broker holds them. One frame
// for a run spares the event loop a write each and the broker a settlement each (a quorum queue
// writes each settlement to its log); an acknowledgement behind an older delivery still being
// worked on goes on its own, so that no prefetch slot waits for another input.
#include <cstdint>
#include <set>
#include <vector>

namespace nqs::amqp {

class Acknowledgements {
 public:
  struct Ack {
    std::uint64_t tag = 0;
    bool multiple = false;
    bool operator==(const Ack&) const = default;
  };

  // The broker delivered `tag` on the channel (tags only grow on a channel).
  void delivered(std::uint64_t tag) { unsettled_.insert(tag); }
  // Its acknowledgement is wanted: sent by the next take().
  void ack(std::uint64_t tag) { asked_.push_back(tag); }
  // Settled otherwise (basic.reject, sent at once): no longer the broker's to settle.
  void settled(std::uint64_t tag) { unsettled_.erase(tag); }
  // The acknowledgements to send now, in this order: the oldest unsettled deliveries that were
  // all asked for as one `multiple`, then each other one asked for. A tag asked for that is not
  // unsettled (acknowledged twice, say) is dropped: the broker would close the channel for it.
  // (A tag of an earlier connection may well be unsettled here: the connection never asks one.)
  std::vector<Ack> take();
  [[nodiscard]] bool asked() const { return !asked_.empty(); }
  [[nodiscard]] std::size_t unsettled() const { return unsettled_.size(); }
  // The connection is gone, and with it every delivery's tag.
  void clear() {
    unsettled_.clear();
    asked_.clear();
  }

 private:
  std::set<std::uint64_t> unsettled_;
  std::vector<std::uint64_t> asked_;
};

}  // namespace nqs::amqp
