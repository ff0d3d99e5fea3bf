#pragma once
// Exponential backoff between restarts: min * 2^(attempt-1), capped at max,
// then spread by +-jitter so that siblings restarted together do not retry in
// lockstep.
#include <chrono>

namespace actors {

struct backoff_policy {
  std::chrono::milliseconds min{100};
  std::chrono::milliseconds max{10'000};
  double jitter = 0.2; // fraction of the delay, in [0, 1]
};

// `attempt` counts from 1; `unit_random` is uniform in [0, 1) (0.5 = no jitter).
std::chrono::milliseconds backoff_delay(const backoff_policy& policy, unsigned attempt,
                                        double unit_random);

// Same, with a process-wide random source.
std::chrono::milliseconds backoff_delay(const backoff_policy& policy, unsigned attempt);

} // namespace actors
