#include "events/delivery_tracker.hpp"

#include <algorithm>
#include <iterator>

namespace command {

void delivery_tracker::track(std::uint64_t delivery_tag, delivery_origin origin,
                             clock::time_point at) {
  in_flight_.emplace(delivery_tag, flight{at, std::move(origin)});
}

std::optional<delivery_origin> delivery_tracker::settle(std::uint64_t delivery_tag,
                                                        settlement how) {
  auto f = in_flight_.find(delivery_tag);
  if (f == in_flight_.end())
    return std::nullopt;
  auto origin = std::move(f->second.origin);
  in_flight_.erase(f);
  if (how == settlement::ack)
    to_ack_.insert(delivery_tag);
  return origin;
}

std::optional<std::uint64_t> delivery_tracker::take_ackable() {
  // Settled ones below the oldest delivery in flight (all when none is).
  auto end = in_flight_.empty() ? to_ack_.end() : to_ack_.lower_bound(in_flight_.begin()->first);
  if (end == to_ack_.begin())
    return std::nullopt;
  auto last = *std::prev(end);
  to_ack_.erase(to_ack_.begin(), end);
  return last;
}

std::optional<std::string> delivery_tracker::overdue(clock::time_point now) const {
  if (in_flight_.empty())
    return std::nullopt;
  auto oldest = std::min_element(in_flight_.begin(), in_flight_.end(),
                                 [](auto& a, auto& b) { return a.second.sent < b.second.sent; });
  if (now - oldest->second.sent <= timeout_)
    return std::nullopt;
  auto what = "delivery " + std::to_string(oldest->first);
  if (!oldest->second.origin.request_id.empty())
    what += " (request_id " + oldest->second.origin.request_id + ")";
  return what + " not processed within " + std::to_string(timeout_.count()) + "ms";
}

} // namespace command
