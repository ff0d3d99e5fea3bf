#include "outbox/refusals.hpp"

#include <algorithm>

namespace platform {

const char* to_string(park_reason reason) {
  switch (reason) {
    case park_reason::too_large: return "too_large";
    case park_reason::nacked: return "nacked";
    case park_reason::refused: return "refused";
  }
  return "unknown";
}

void refusal_tracker::fetched(const std::vector<outbox_event>& events) {
  if (events.empty())
    suspects_.clear();
  else
    suspects_.erase(suspects_.begin(), suspects_.lower_bound(events.front().id));
}

std::vector<parked_event> refusal_tracker::too_large(std::vector<outbox_event>& events) const {
  std::vector<parked_event> parked;
  auto limit = policy_.max_event_bytes;
  auto oversized = [&](const outbox_event& e) { return e.payload.size() > limit; };
  for (auto& e : events)
    if (oversized(e))
      parked.push_back({e, park_reason::too_large,
                        std::to_string(e.payload.size())
                          .append(" bytes, over OutboxMaxEventBytes (")
                          .append(std::to_string(limit))
                          .append(")")});
  std::erase_if(events, oversized);
  return parked;
}

std::vector<parked_event> refusal_tracker::settled(const batch_outcome& outcome,
                                                   clock::time_point now) {
  auto acks_before = acks_;
  acks_ += outcome.confirmed.size();
  for (auto id : outcome.confirmed) {
    nacked_.erase(id);
    suspects_.erase(id);
  }
  std::vector<parked_event> parked;
  for (auto& e : outcome.nacked) {
    auto& n = nacked_.try_emplace(e.id, nacks{0, acks_before}).first->second;
    if (acks_ > n.acks_seen)
      ++n.strikes;
    n.acks_seen = acks_;
    if (n.strikes < policy_.max_nacks)
      continue;
    parked.push_back({e, park_reason::nacked,
                      std::string{"nacked "}
                        .append(std::to_string(n.strikes))
                        .append(" times while the broker took other events")});
    nacked_.erase(e.id);
    suspects_.erase(e.id);
  }
  if (outcome.confirmed.empty() && !outcome.nacked.empty()) {
    paused_until_ = now + actors::backoff_delay(policy_.pause, ++refused_batches_, 0.5);
  } else if (!outcome.confirmed.empty()) {
    refused_batches_ = 0;
    paused_until_.reset();
  }
  return parked;
}

std::optional<parked_event>
refusal_tracker::channel_refused(const std::vector<outbox_event>& unsettled,
                                 const std::string& why) {
  if (unsettled.size() == 1) {
    suspects_.erase(unsettled.front().id);
    nacked_.erase(unsettled.front().id);
    return parked_event{unsettled.front(), park_reason::refused, why};
  }
  for (auto& e : unsettled)
    suspects_.insert(e.id);
  return std::nullopt;
}

} // namespace platform
