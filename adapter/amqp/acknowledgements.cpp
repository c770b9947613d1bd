#include "amqp/acknowledgements.hpp"

#include <algorithm>

namespace nqs::amqp {

std::vector<Acknowledgements::Ack> Acknowledgements::take() {
  std::vector<Ack> out;
  std::sort(asked_.begin(), asked_.end());
  asked_.erase(std::unique(asked_.begin(), asked_.end()), asked_.end());
  std::erase_if(asked_, [this](std::uint64_t tag) { return unsettled_.count(tag) == 0; });
  // The run of the oldest unsettled deliveries, each asked for.
  auto oldest = unsettled_.begin();
  auto asked = asked_.begin();
  while (oldest != unsettled_.end() && asked != asked_.end() && *oldest == *asked) {
    ++oldest;
    ++asked;
  }
  if (const auto run = static_cast<std::size_t>(asked - asked_.begin()); run > 0) {
    out.push_back({*(asked - 1), run > 1});
    unsettled_.erase(unsettled_.begin(), oldest);
  }
  for (; asked != asked_.end(); ++asked) {
    unsettled_.erase(*asked);
    out.push_back({*asked, false});
  }
  asked_.clear();
  return out;
}

}  // namespace nqs::amqp
