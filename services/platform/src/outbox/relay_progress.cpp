#include "outbox/relay_progress.hpp"

#include <utility>

namespace platform {

relay_leadership::change relay_leadership::observe(bool held) {
  if (leading_)
    return change::none;
  if (held) {
    leading_ = true;
    return change::took_lead;
  }
  return std::exchange(standing_by_, true) ? change::none : change::standing_by;
}

void backlog_tracker::found(std::int64_t events, clock::time_point now) {
  found_ = events;
  published_ = 0;
  since_ = now;
}

std::optional<backlog_tracker::drained> backlog_tracker::idle(clock::time_point now) {
  if (std::exchange(found_, 0) <= 0)
    return std::nullopt;
  return drained{published_, std::chrono::duration_cast<std::chrono::milliseconds>(now - since_)};
}

} // namespace platform
