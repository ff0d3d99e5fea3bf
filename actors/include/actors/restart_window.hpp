#pragma once
// Restart intensity: at most `max_restarts` restarts within `within`. One more
// means the child is crash-looping and the supervisor gives up (escalates).
#include <chrono>
#include <cstddef>
#include <deque>

namespace actors {

struct restart_intensity {
  std::size_t max_restarts = 5;
  std::chrono::milliseconds within{30'000};
};

class restart_window {
public:
  using clock = std::chrono::steady_clock;

  explicit restart_window(restart_intensity limits) : limits_(limits) {}

  // Records a restart at `now`. Returns false, recording nothing, when it would
  // exceed the intensity.
  bool try_record(clock::time_point now);

  // Restarts still inside the window as of the last call (the backoff attempt).
  std::size_t recent() const { return restarts_.size(); }

private:
  restart_intensity limits_;
  std::deque<clock::time_point> restarts_;
};

} // namespace actors
